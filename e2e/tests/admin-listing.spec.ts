// Listing and delisting from the console (issue 19): an operator lists an asset and a market on
// it; traders open its trade page at once (no restart anywhere), one's buy rests and another's
// sell fills part of it; the operator delists the market (typing its symbol to confirm); the
// resting rest is cancelled, its hold returned, and the page says the market is closed.
// Screenshots of the listing forms and the delist dialog go to docs/screenshots/.
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { confirmWithReason, operatorPage } from "./console";
import {
  balanceOf,
  baseURL,
  demoDeposit,
  openMarket,
  placeLimitOrder,
  showTab,
  signUp,
} from "./trader";

const SCREENSHOTS = path.resolve(import.meta.dirname, "../../docs/screenshots");
const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

async function shoot(page: Page, name: string) {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  await test.info().attach(name, { path: file, contentType: "image/png" });
}

async function fillMarketForm(page: Page) {
  const dialog = page.getByTestId("create-market");
  await dialog.getByLabel("Base asset").fill("SOL");
  await dialog.getByLabel("Quote asset").fill("USDT");
  await dialog.getByLabel("Price decimals (tick)").fill("2");
  await dialog.getByLabel("Amount decimals (lot)").fill("3");
  await dialog.getByLabel("Smallest order", { exact: true }).fill("0.01");
  await dialog.getByLabel("Smallest order value").fill("1");
  await dialog.getByLabel("List it halted (resume when ready)").uncheck();
  await dialog.getByTestId("action-reason").fill("e2e: list SOL against USDT");
}

test("an operator lists an asset and a market, traders trade it at once, and a delisting closes it", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const console = await operatorPage(browser, "/admin/markets");
  const panel = console.getByTestId("admin-markets");
  await expect(panel).toBeVisible();

  // The listing forms, as an operator fills them in (screenshots; nothing is sent).
  for (const size of SIZES) {
    await console.setViewportSize(size);
    await console.getByRole("button", { name: "List an asset" }).click();
    const asset = console.getByTestId("create-asset");
    await asset.getByLabel("Symbol").fill("SOL");
    await asset.getByLabel("Name").fill("Solana");
    await asset.getByLabel("Decimals").fill("9");
    await asset.getByTestId("action-reason").fill("e2e: list Solana");
    await expect(asset.getByTestId("listed-assets")).toContainText("USDT (6)");
    await shoot(console, `admin-listing-${size.name}`);
    await asset.getByRole("button", { name: "Cancel" }).click();
  }
  await console.setViewportSize({ width: 1280, height: 800 });

  // List SOL (9 decimals), then SOL_USDT trading at once.
  await console.getByRole("button", { name: "List an asset" }).click();
  const asset = console.getByTestId("create-asset");
  await asset.getByLabel("Symbol").fill("SOL");
  await asset.getByLabel("Name").fill("Solana");
  await asset.getByLabel("Decimals").fill("12");
  await expect(asset.locator(".field-error")).toHaveText("0 to 9");
  await expect(asset.getByTestId("confirm-action")).toBeDisabled();
  await asset.getByLabel("Decimals").fill("9");
  await confirmWithReason(console, "e2e: list Solana");
  await expect(asset).toBeHidden();
  await console.getByRole("button", { name: "List a market" }).click();
  await fillMarketForm(console);
  await console.getByTestId("create-market").getByTestId("confirm-action").click();
  const row = console.getByTestId("admin-market-SOL_USDT");
  await expect(row.getByTestId("market-status")).toHaveText("trading");

  // A buyer's order rests; a seller (with a demo deposit of the new asset) fills part of it.
  const buyerContext = await browser.newContext();
  const buyer = await buyerContext.newPage();
  await signUp(buyer, "listing-buyer");
  await demoDeposit(buyer, "USDT", "1000");
  await openMarket(buyer, "SOL_USDT");
  await placeLimitOrder(buyer, {
    side: "Buy",
    base: "SOL",
    quote: "USDT",
    price: "150",
    amount: "1",
  });
  await showTab(buyer, "Open orders");
  await expect(buyer.getByTestId("open-order")).toHaveCount(1, { timeout: 10_000 });

  const sellerContext = await browser.newContext();
  const seller = await sellerContext.newPage();
  await signUp(seller, "listing-seller");
  await demoDeposit(seller, "SOL", "2");
  await openMarket(seller, "SOL_USDT");
  await placeLimitOrder(seller, {
    side: "Sell",
    base: "SOL",
    quote: "USDT",
    price: "150",
    amount: "0.4",
  });
  await expect(seller.getByTestId("tape-trade").first()).toContainText("150", { timeout: 10_000 });
  await showTab(buyer, "Balances");
  // 1 SOL at 150 held 150 USDT; 0.4 filled (60 USDT spent): 90 USDT still held by the rest.
  await expect(balanceOf(buyer, "USDT").locked).toHaveAttribute("data-value", "90", {
    timeout: 10_000,
  });

  // The delist dialog says what will happen and wants the symbol typed out.
  await console.reload();
  for (const size of SIZES) {
    await console.setViewportSize(size);
    await row.getByRole("button", { name: "Delist" }).click();
    const dialog = console.getByTestId("delist-dialog");
    await expect(dialog.getByTestId("delist-warning")).toContainText("cannot be resumed");
    await dialog.getByTestId("action-reason").fill("e2e: project wound down");
    await expect(dialog.getByTestId("confirm-action")).toBeDisabled();
    await dialog.getByTestId("delist-confirm").fill("SOL_USDT");
    await expect(dialog.getByTestId("confirm-action")).toBeEnabled();
    await shoot(console, `admin-delist-${size.name}`);
    if (size.name === "phone") {
      await dialog.getByTestId("confirm-action").click();
      await expect(dialog).toBeHidden();
    } else {
      await dialog.getByRole("button", { name: "Cancel" }).click();
    }
  }
  await console.setViewportSize({ width: 1280, height: 800 });
  await expect(row.getByTestId("market-status")).toHaveText("closed");

  // The buyer's page: closed, the form off, the rest cancelled and its hold back.
  await expect(buyer.getByTestId("closed-banner")).toContainText("SOL/USDT is closed", {
    timeout: 10_000,
  });
  await expect(buyer.getByTestId("place-order")).toBeDisabled();
  await expect(balanceOf(buyer, "USDT").locked).toHaveAttribute("data-value", "0", {
    timeout: 10_000,
  });
  await expect(balanceOf(buyer, "USDT").available).toHaveAttribute("data-value", "940");
  await showTab(buyer, "Open orders");
  await expect(buyer.getByTestId("open-order")).toHaveCount(0);
  await showTab(buyer, "Order history");
  await expect(buyer.getByTestId("history-order")).toHaveCount(1);
  // A reload still shows the market (closed) with its trade on the tape.
  await buyer.goto(`${baseURL()}/trade/SOL_USDT`);
  await expect(buyer.getByTestId("closed-banner")).toBeVisible();
  await expect(buyer.getByTestId("tape-trade").first()).toContainText("150");

  await buyerContext.close();
  await sellerContext.close();
  await console.context().close();
});
