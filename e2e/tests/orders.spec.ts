// Managing orders from the trade page: cancel one from the open-orders table, cancel all, and
// a post-only order that would take liquidity refused with its label and message — the
// form's own checks refuse what the market's rules refuse before anything is sent.
import { expect, test } from "@playwright/test";
import { demoDeposit, openMarket, placeLimitOrder, signUp } from "./trader";

test("cancel one, cancel all, and a post-only order that would take is refused", async ({
  page,
}) => {
  test.setTimeout(60_000);
  await signUp(page, "orders");
  await demoDeposit(page, "USDT", "10000");
  await demoDeposit(page, "BTC", "1");
  await openMarket(page, "BTC_USDT");
  const open = page.getByTestId("open-orders").getByTestId("open-order");
  // Prices inside the market's ±10 % band around its last trade (other specs trade here too):
  // bids 5 % below it, the ask 5 % above; 30,000.00 when nothing has traded yet.
  const lastText = (await page.getByTestId("ticker-last").textContent()) ?? "";
  const lastCents = /\d/.test(lastText) ? BigInt(lastText.replace(/[,.]/g, "")) : 3_000_000n;
  const price = (percent: bigint) => {
    const cents = (lastCents * percent) / 100n;
    return `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
  };
  const bid = price(95n);
  const ask = price(105n);

  // The market's rules, checked in the form before sending: too many decimals, too small.
  const form = page.getByTestId("order-form");
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: `${bid}1`,
    amount: "0.01",
  });
  await expect(form.getByText("Price has at most 2 decimals")).toBeVisible();
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: bid,
    amount: "0.00001",
  });
  await expect(form.getByText("The BTC amount has at most 4 decimals")).toBeVisible();
  await expect(open).toHaveCount(0);

  // One order, cancelled from its row.
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: bid,
    amount: "0.01",
  });
  await expect(open).toHaveCount(1);
  await open
    .first()
    .getByRole("button", { name: /Cancel order/ })
    .click();
  await expect(open).toHaveCount(0);

  // Two more, then cancel all.
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: bid,
    amount: "0.01",
  });
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: price(96n),
    amount: "0.02",
  });
  await expect(open).toHaveCount(2);
  await page.getByTestId("cancel-all").click();
  await expect(open).toHaveCount(0);
  await expect(page.getByTestId("open-orders")).toContainText("No open orders.");

  // A resting ask (other specs may have left lower asks: any will do); a post-only bid at its
  // price would take the best ask.
  await placeLimitOrder(page, {
    side: "Sell",
    base: "BTC",
    quote: "USDT",
    price: ask,
    amount: "0.01",
  });
  await expect(open.first()).toContainText("open");
  // The best ask the page shows (asks are drawn best-last), in cents, at or below ours.
  const bestAsk = page
    .getByTestId("book-asks")
    .getByTestId("book-row")
    .last()
    .locator("span")
    .first();
  await expect
    .poll(async () => BigInt(((await bestAsk.textContent()) ?? "99999999").replace(/[,.]/g, "")))
    .toBeLessThanOrEqual((lastCents * 105n) / 100n);
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: ask,
    amount: "0.01",
    timeInForce: "poc",
  });
  const refusal = page.getByTestId("order-error");
  await expect(refusal).toContainText("POC_FILL_IMMEDIATELY");
  await expect(refusal).toContainText(`a post-only buy at ${ask} would take the best ask`);
  await expect(open).toHaveCount(1);
  await page.getByTestId("cancel-all").click();
  await expect(open).toHaveCount(0);
});
