// With the demo market maker running (started by this test, on ETH_USDT only), a visitor's
// trade page comes alive: the order book and the trade tape change within 10 s of opening it.
import { expect, test } from "@playwright/test";
import { exchangeSettings, startMarketMaker } from "../exchange";
import { openMarket } from "./trader";

test("the market maker moves the book and the tape within 10 s", async ({ page }) => {
  test.setTimeout(60_000);
  const maker = await startMarketMaker(exchangeSettings(), {
    MARKET_MAKER_MARKETS: "ETH_USDT",
    MARKET_MAKER_INTERVAL_MS: "500",
  });
  try {
    await openMarket(page, "ETH_USDT");
    const book = page.getByTestId("order-book");
    const tape = page.getByTestId("trade-tape");
    const seqAtOpen = (await book.getAttribute("data-seq")) ?? "";
    const newestAtOpen = (await tape.getAttribute("data-newest")) ?? "";
    await expect(book).not.toHaveAttribute("data-seq", seqAtOpen, { timeout: 10_000 });
    await expect(tape).not.toHaveAttribute("data-newest", newestAtOpen, { timeout: 10_000 });
    await expect(page.getByTestId("book-asks").getByTestId("book-row").first()).toBeVisible();
    await expect(page.getByTestId("book-bids").getByTestId("book-row").first()).toBeVisible();
  } finally {
    await maker.stop();
  }
});
