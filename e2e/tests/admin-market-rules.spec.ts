// An operator changes BTC_USDT's tick from 0.01 to 0.05 in the console (docs/decisions/006): the
// dialog shows current beside new and the policy in words; once the engine applies the change a
// trader's resting order at 29000.03 (off the new tick) leaves their open orders, the one at
// 29000.05 keeps resting, the console shows the new tick, and the audit log has the change with
// before and after. The tick goes back to 0.01 at the end, so the other specs find the seed.
import { expect, type Page, test } from "@playwright/test";
import { confirmWithReason, operatorPage } from "./console";
import { baseURL, demoDeposit, openMarket, placeLimitOrder, signUp } from "./trader";

async function changeTick(console: Page, tick: string, reason: string, screenshot?: string) {
  const row = console.getByTestId("admin-market-BTC_USDT");
  await row.getByRole("button", { name: "Change rules" }).click();
  const dialog = console.getByTestId("market-rules-dialog");
  await expect(dialog.getByTestId("rules-policy")).toContainText(
    "Resting orders whose price or amount is not a multiple of the new tick or lot are cancelled; everything else keeps resting.",
  );
  await dialog.getByTestId("new-tickSize").fill(tick);
  await console.getByTestId("action-reason").fill(reason);
  if (screenshot) {
    await console.setViewportSize({ width: 1280, height: 800 });
    await console.screenshot({ path: `../docs/screenshots/${screenshot}-desktop.png` });
    await console.setViewportSize({ width: 390, height: 844 });
    await console.screenshot({ path: `../docs/screenshots/${screenshot}-phone.png` });
    await console.setViewportSize({ width: 1440, height: 900 });
  }
  await confirmWithReason(console, reason);
  await expect(dialog.getByTestId("rules-outcome")).toContainText(`Applied: tick ${tick} USDT`, {
    timeout: 15_000,
  });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(row.getByTestId("market-tick")).toHaveText(`${tick} USDT`, { timeout: 15_000 });
}

test("a coarser tick from the console cancels the misfit resting order and keeps the rest", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const traderContext = await browser.newContext();
  const trader = await traderContext.newPage();
  await signUp(trader, "rules-change");
  await demoDeposit(trader, "USDT", "100");
  await openMarket(trader, "BTC_USDT");
  const orders = trader.getByTestId("open-orders").getByTestId("open-order");
  for (const price of ["29000.03", "29000.05"]) {
    await placeLimitOrder(trader, {
      side: "Buy",
      base: "BTC",
      quote: "USDT",
      price,
      amount: "0.001",
    });
  }
  await expect(orders).toHaveCount(2);
  await expect(orders.filter({ hasText: "29,000.03" })).toHaveCount(1);

  const console = await operatorPage(browser, "/admin/markets");
  const row = console.getByTestId("admin-market-BTC_USDT");
  await expect(row.getByTestId("market-tick")).toHaveText("0.01 USDT");
  await changeTick(console, "0.05", "e2e: coarser tick", "admin-market-rules");

  // The engine cancelled the order off the new tick (market_rules); the other keeps resting.
  await expect(orders).toHaveCount(1, { timeout: 10_000 });
  await expect(orders.first()).toContainText("29,000.05");

  await console.goto(`${baseURL()}/admin/audit?subject=market:BTC_USDT`);
  await console.getByRole("button", { name: "Filter" }).click();
  const audit = console.getByTestId("audit").getByTestId("audit-row").first();
  await expect(audit).toHaveAttribute("data-action", "market.rules");
  await expect(audit).toContainText("e2e: coarser tick");
  await expect(audit.getByTestId("audit-before")).toContainText('"tickSize": "0.01"');
  await expect(audit.getByTestId("audit-after")).toContainText('"tickSize": "0.05"');

  // Back to the seed's tick for the specs after this one.
  await console.goto(`${baseURL()}/admin/markets`);
  await changeTick(console, "0.01", "e2e: restore the seed tick");
  await traderContext.close();
  await console.context().close();
});
