// Two traders in two browsers: each signs up and makes a demo deposit; one rests a limit sell,
// the other crosses it with a limit buy. Without reloading, both see the trade on the tape,
// their own fill, and their balances move by exactly the amounts the fees say (maker 0.1 %,
// taker 0.2 %, charged in the asset received, rounded up).
import { expect, test } from "@playwright/test";
import { balanceOf, demoDeposit, openMarket, placeLimitOrder, showTab, signUp } from "./trader";

test("a limit sell crossed by a limit buy: tape, fills and exact balances on both pages", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const sellerContext = await browser.newContext();
  const buyerContext = await browser.newContext();
  const seller = await sellerContext.newPage();
  const buyer = await buyerContext.newPage();

  await signUp(seller, "seller");
  await demoDeposit(seller, "BTC", "1");
  await signUp(buyer, "buyer");
  await demoDeposit(buyer, "USDT", "10000");

  await openMarket(seller, "BTC_USDT");
  await openMarket(buyer, "BTC_USDT");
  const tapeBefore = await seller.getByTestId("tape-trade").count();

  // The maker: 0.0100 BTC offered at 30,000.00.
  await placeLimitOrder(seller, {
    side: "Sell",
    base: "BTC",
    quote: "USDT",
    price: "30000",
    amount: "0.01",
  });
  const resting = seller.getByTestId("open-orders").getByTestId("open-order");
  await expect(resting).toHaveCount(1);
  await expect(resting.first()).toContainText("30,000.00");
  await expect(resting.first().getByText("open")).toBeVisible();

  // The taker: bids 30,000.00 for 0.0100 BTC, and trades at once.
  await placeLimitOrder(buyer, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "30000",
    amount: "0.01",
  });

  for (const page of [seller, buyer]) {
    const tape = page.getByTestId("tape-trade");
    await expect(tape).toHaveCount(tapeBefore + 1);
    await expect(tape.first()).toContainText("30,000.00");
    await expect(tape.first()).toContainText("0.0100");
  }
  await expect(resting).toHaveCount(0);

  // Fills: the seller was the maker (0.1 % of 300 USDT), the buyer the taker (0.2 % of 0.01 BTC).
  await showTab(seller, "Fills");
  const sellerFill = seller.getByTestId("fills").getByTestId("fill");
  await expect(sellerFill).toHaveCount(1);
  await expect(sellerFill).toContainText("maker");
  await expect(sellerFill.getByTestId("fill-fee")).toHaveText("0.3 USDT");
  await showTab(buyer, "Fills");
  const buyerFill = buyer.getByTestId("fills").getByTestId("fill");
  await expect(buyerFill).toHaveCount(1);
  await expect(buyerFill).toContainText("taker");
  await expect(buyerFill.getByTestId("fill-fee")).toHaveText("0.00002 BTC");

  // Balances, exactly: seller 1 − 0.01 BTC and 300 − 0.3 USDT; buyer 10,000 − 300 USDT and
  // 0.01 − 0.00002 BTC. Nothing left held.
  await showTab(seller, "Balances");
  await expect(balanceOf(seller, "BTC").available).toHaveAttribute("data-value", "0.99");
  await expect(balanceOf(seller, "BTC").locked).toHaveAttribute("data-value", "0");
  await expect(balanceOf(seller, "USDT").available).toHaveAttribute("data-value", "299.7");
  await showTab(buyer, "Balances");
  await expect(balanceOf(buyer, "USDT").available).toHaveAttribute("data-value", "9700");
  await expect(balanceOf(buyer, "USDT").locked).toHaveAttribute("data-value", "0");
  await expect(balanceOf(buyer, "BTC").available).toHaveAttribute("data-value", "0.00998");

  // The order went to the seller's history as filled.
  await showTab(seller, "Order history");
  await expect(
    seller.getByTestId("order-history").getByTestId("history-order").first(),
  ).toContainText("filled");
  await sellerContext.close();
  await buyerContext.close();
});
