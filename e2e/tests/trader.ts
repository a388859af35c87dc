// What a trader does in the browser, step by step, for the specs: sign up, make a demo
// deposit, open a market and place an order through the order form — by label and role, as a
// person using a keyboard or a screen reader would find them.
import { randomBytes } from "node:crypto";
import { expect, type Page } from "@playwright/test";
import { exchangeSettings } from "../exchange";

export const baseURL = () => exchangeSettings().baseUrl;

export const newEmail = (who: string) => `${who}-${randomBytes(4).toString("hex")}@e2e.spotx.dev`;

/** Signs up a new trader in this page's browser context; lands on the account page. */
export async function signUp(page: Page, who: string): Promise<string> {
  const email = newEmail(who);
  await page.goto(`${baseURL()}/signup`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  return email;
}

/** The exact available and held amounts the balances table shows for an asset. */
export function balanceOf(page: Page, asset: string) {
  const row = page.getByTestId("balances").getByTestId(`balance-${asset}`);
  return { available: row.getByTestId("available"), locked: row.getByTestId("locked") };
}

/** A demo deposit from the account page; waits for the balance to show it. */
export async function demoDeposit(page: Page, asset: string, amount: string) {
  const form = page.getByTestId("demo-deposit");
  await form.getByLabel("Asset").selectOption(asset);
  await form.getByLabel("Amount").fill(amount);
  await form.getByRole("button", { name: "Deposit" }).click();
  await expect(balanceOf(page, asset).available).toHaveAttribute("data-value", amount);
}

/** Opens a market's trade page and waits for its live feed. */
export async function openMarket(page: Page, symbol: string) {
  await page.goto(`${baseURL()}/trade/${symbol}`);
  await expect(page.getByTestId("trade-page")).toHaveAttribute("data-market", symbol);
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
}

export type OrderEntry = {
  side: "Buy" | "Sell";
  base: string;
  quote: string;
  price: string;
  amount: string;
  timeInForce?: "gtc" | "ioc" | "fok" | "poc";
};

/** Fills the order form and submits it. */
export async function placeLimitOrder(page: Page, order: OrderEntry) {
  const form = page.getByTestId("order-form");
  await form.getByRole("tab", { name: "Limit", exact: true }).click();
  await form.locator("label", { hasText: `${order.side} ${order.base}` }).click();
  await form.getByLabel(`Price (${order.quote})`).fill(order.price);
  await form.getByLabel("Time in force").selectOption(order.timeInForce ?? "gtc");
  await form.getByLabel(`Amount (${order.base})`).fill(order.amount);
  await form.getByTestId("place-order").click();
}

export type StopEntry = {
  side: "Buy" | "Sell";
  base: string;
  quote: string;
  /** The last price that fires it. */
  trigger: string;
  /** The limit price of the order it places. */
  price: string;
  amount: string;
};

/** Fills the order form's Stop-limit tab (without placing it). */
export async function fillStopLimit(page: Page, stop: StopEntry) {
  const form = page.getByTestId("order-form");
  await form.getByRole("tab", { name: "Stop-limit" }).click();
  await form.locator("label", { hasText: `${stop.side} ${stop.base}` }).click();
  await form.getByLabel(`Trigger price (${stop.quote})`, { exact: true }).fill(stop.trigger);
  await form.getByLabel(`Limit price (${stop.quote})`, { exact: true }).fill(stop.price);
  await form.getByLabel(`Amount (${stop.base})`, { exact: true }).fill(stop.amount);
}

/** Places a stop-limit order from the order form's Stop-limit tab. */
export async function placeStopLimit(page: Page, stop: StopEntry) {
  await fillStopLimit(page, stop);
  await page.getByTestId("order-form").getByTestId("place-order").click();
}

/** Shows one of the trader's tables under the chart (open orders, stops, history, fills, balances). */
export async function showTab(
  page: Page,
  name: "Open orders" | "Stops" | "Order history" | "Fills" | "Balances",
) {
  await page.getByRole("tab", { name }).click();
}
