// The pages as people see them: the markets page, a live trade page (the demo market maker
// quoting ETH_USDT, a signed-in trader with an open order) and the account page, at 1280×800
// and at phone width (390×844), dark — and the trade page light. Each is saved as a test
// artifact (attached to the report; README's copies are in docs/screenshots/). Every page
// also runs under its Content-Security-Policy without a violation.
import { expect, type Page, test } from "@playwright/test";
import { exchangeSettings, startMarketMaker } from "../exchange";
import { baseURL, demoDeposit, openMarket, placeLimitOrder, signUp } from "./trader";

const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

async function shoot(page: Page, name: string) {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path });
  await test.info().attach(name, { path, contentType: "image/png" });
}

test("screenshots of the markets, trade and account pages at 1280×800 and phone width", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const maker = await startMarketMaker(exchangeSettings(), {
    MARKET_MAKER_MARKETS: "ETH_USDT",
    MARKET_MAKER_INTERVAL_MS: "400",
  });
  try {
    const context = await browser.newContext({ viewport: SIZES[0] });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    await signUp(page, "screens");
    await demoDeposit(page, "USDT", "25000");
    await demoDeposit(page, "ETH", "10");
    await openMarket(page, "ETH_USDT");
    // Some history on the tape and chart, and an order of the trader's own.
    await expect(page.getByTestId("tape-trade")).not.toHaveCount(0, { timeout: 15_000 });
    await placeLimitOrder(page, {
      side: "Buy",
      base: "ETH",
      quote: "USDT",
      price: "3000",
      amount: "0.5",
    });
    await expect(page.getByTestId("open-orders").getByTestId("open-order")).toHaveCount(1);

    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.goto(`${baseURL()}/`);
      await expect(page.getByTestId("markets")).toHaveAttribute("data-state", "live");
      await shoot(page, `markets-${size.name}`);
      await openMarket(page, "ETH_USDT");
      await expect(page.getByTestId("candle-chart").locator("canvas").first()).toBeVisible();
      await expect(page.getByTestId("book-asks").getByTestId("book-row").first()).toBeVisible();
      await shoot(page, `trade-${size.name}`);
      await page.goto(`${baseURL()}/account`);
      await expect(page.getByTestId("ledger").locator("tbody tr").first()).not.toContainText(
        "Loading",
      );
      await shoot(page, `account-${size.name}`);
    }
    await page.setViewportSize(SIZES[0]);
    await openMarket(page, "ETH_USDT");
    await page.getByTestId("theme-switch").click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
    await expect(page.getByTestId("book-asks").getByTestId("book-row").first()).toBeVisible();
    await shoot(page, "trade-desktop-light");
    await page.getByTestId("theme-switch").click();
    expect(violations).toEqual([]);
    await context.close();
  } finally {
    await maker.stop();
  }
});
