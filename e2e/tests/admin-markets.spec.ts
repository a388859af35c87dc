// Halting a market from the console reaches a trader's open trade page within 2 s (its banner
// says so and the order form is disabled); resuming from the console enables it again. The
// halt's reason is shown in the console and kept in the audit log.
import { expect, test } from "@playwright/test";
import { confirmWithReason, operatorPage } from "./console";
import { baseURL, demoDeposit, openMarket, signUp } from "./trader";

test("a halt from the console shows on the trader's page within 2 s, and a resume lifts it", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const traderContext = await browser.newContext();
  const trader = await traderContext.newPage();
  await signUp(trader, "watching-halt");
  await demoDeposit(trader, "USDT", "100");
  await openMarket(trader, "ETH_USDT");
  const submit = trader.getByTestId("place-order");
  await expect(submit).toBeEnabled();

  const console = await operatorPage(browser, "/admin/markets");
  const row = console.getByTestId("admin-market-ETH_USDT");
  await expect(row.getByTestId("market-status")).toHaveText("trading");
  // Rules are shown (changing them: admin-market-rules.spec.ts), with the policy in words.
  await expect(row).toContainText("0.01 USDT · 0.0001 ETH");
  await expect(console.getByText("goes through its engine")).toBeVisible();

  await row.getByRole("button", { name: "Halt" }).click();
  await confirmWithReason(console, "e2e: console halt");
  const haltedAt = Date.now();
  await expect(trader.getByTestId("halt-banner")).toContainText("ETH/USDT is halted", {
    timeout: 2_000,
  });
  await expect(submit).toBeDisabled({ timeout: Math.max(100, 2_000 - (Date.now() - haltedAt)) });
  await expect(trader.getByTestId("halt-banner")).toContainText("e2e: console halt");
  await expect(row.getByTestId("market-status")).toHaveText("halted");
  await expect(row).toContainText("e2e: console halt");

  await row.getByRole("button", { name: "Resume" }).click();
  await confirmWithReason(console, "e2e: console resume");
  await expect(trader.getByTestId("halt-banner")).toBeHidden({ timeout: 2_000 });
  await expect(submit).toBeEnabled({ timeout: 3_000 });
  await expect(row.getByTestId("market-status")).toHaveText("trading");

  await console.goto(`${baseURL()}/admin/audit?subject=market:ETH_USDT`);
  await console.getByRole("button", { name: "Filter" }).click();
  const rows = console.getByTestId("audit").getByTestId("audit-row");
  await expect(rows.first()).toHaveAttribute("data-action", "market.resume");
  await expect(rows.nth(1)).toHaveAttribute("data-action", "market.halt");
  await expect(rows.nth(1)).toContainText("e2e: console halt");
  await traderContext.close();
  await console.context().close();
});
