// Stop-limit orders, amending in place, and the notices for what happens to a trader's orders
// without their asking — as a person would do it on the trade page:
//   - a stop-limit placed from the form's Stop-limit tab, the rule said in words as the side and
//     trigger change; listed under "Stops" apart from the open orders; one cancelled; the other
//     fires when a trade (with a second trader) reaches its trigger: a notice says what it
//     placed, it leaves the list and its order shows in the open orders — no reload;
//   - an open order's price and amount amended from the table: the queue rule stated, the new
//     values shown once settled, and the available balance moved by exactly the hold's change;
//   - notices when self-trade prevention cancels an order and when an immediate-or-cancel
//     order's unfilled remainder is cancelled;
//   - screenshots of the three, at 1280×800 and phone width.
// The spec trades in a market of its own (XRP_USDT, listed here with BTC_USDT's rules), so the
// book the rest of the suite leaves in BTC_USDT cannot get in its way, nor its orders in theirs.
// Prices are picked near its last trade, in a gap of its book and inside its price band.
import {
  type APIRequestContext,
  type Browser,
  expect,
  type Page,
  type Route,
  test,
} from "@playwright/test";
import { createAsset, createMarket } from "@spotx/db";
import { exchangeDb } from "./console";
import {
  balanceOf,
  baseURL,
  demoDeposit,
  fillStopLimit,
  openMarket,
  placeLimitOrder,
  placeStopLimit,
  showTab,
  signUp,
} from "./trader";

const BASE = "XRP";
const MARKET = `${BASE}_USDT`;

test.beforeAll(async () => {
  const db = exchangeDb();
  await createAsset(db, { symbol: BASE, name: "XRP", decimals: 8 });
  await createMarket(db, {
    symbol: MARKET,
    base: BASE,
    quote: "USDT",
    pricePrecision: 2,
    amountPrecision: 4,
    minBaseLots: 1n,
    minQuoteAmount: 1_000_000n,
    makerFeePpm: 1_000,
    takerFeePpm: 2_000,
    priceBandBps: 1_000,
    maxOpenOrdersPerUser: 200,
  });
});

/**
 * A whole-USDT price P near the last trade (30,000 before any) with the book empty from
 * P − 300 to P + 300: the orders here (P − 300 … P + 200) trade only
 * with each other, stay inside the market's price band around the last trade, and leave the
 * last price within 5 % of where the rest of the suite left it.
 */
async function freePrice(request: APIRequestContext): Promise<number> {
  const get = async <T>(path: string): Promise<T> => {
    const answer = await request.get(`${baseURL()}/api/v4${path}`);
    expect(answer.status(), path).toBe(200);
    return (await answer.json()) as T;
  };
  const book = await get<{ asks: [string, string][]; bids: [string, string][] }>(
    `/spot/order_book?currency_pair=${MARKET}&limit=1`,
  );
  const [ticker] = await get<{ last: string }[]>(`/spot/tickers?currency_pair=${MARKET}`);
  const last = Math.round(Number(ticker?.last || "0")) || 30_000;
  const bid = Number(book.bids[0]?.[0] ?? 0);
  const ask = Number(book.asks[0]?.[0] ?? Number.POSITIVE_INFINITY);
  // As near the last trade as the book allows: no bid within 300 below P, no ask within 300
  // above it, and P within 5 % of the last trade (half the band).
  const lowest = Math.max(Math.floor(bid) + 301, Math.ceil(last * 0.95));
  const highest = Math.min(Math.ceil(ask) - 301, Math.floor(last * 1.05));
  const p = Math.min(Math.max(last, lowest), highest);
  expect(p >= lowest, `room near ${last}: book ${bid}…${ask}`).toBe(true);
  return p;
}

/** A decimal string as integer millionths (USDT's minor units), exactly. */
function micros(text: string): bigint {
  const [whole = "0", fraction = ""] = text.split(".");
  return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0").slice(0, 6));
}

/** 70000 → "70,000.00", as the page shows a price at two decimals. */
const shown = (price: number) => `${price.toLocaleString("en-US")}.00`;

/** USDT micros as the page shows them to the cent: 1_396_200_000n → "1,396.20". */
const shownMicros = (m: bigint) =>
  `${(m / 1_000_000n).toLocaleString("en-US")}.${String((m % 1_000_000n) / 10_000n).padStart(2, "0")}`;

async function trader(browser: Browser, who: string, deposits: [string, string][]) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, who);
  for (const [asset, amount] of deposits) await demoDeposit(page, asset, amount);
  await openMarket(page, MARKET);
  return { context, page };
}

const toast = (page: Page, text: string) => page.getByTestId("toast").filter({ hasText: text });
const openOrders = (page: Page) => page.getByTestId("open-orders").getByTestId("open-order");
const stopOrders = (page: Page) => page.getByTestId("stop-orders").getByTestId("stop-order");

test("stop-limit: placed from the tab with its rule in words, listed apart, cancelled, and fired by a trade", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const alice = await trader(browser, "stops", [
    ["USDT", "10000"],
    [BASE, "1"],
  ]);
  const bob = await trader(browser, "stops-seller", [[BASE, "1"]]);
  const page = alice.page;
  const p = await freePrice(page.request);
  const limit = p - 100;

  // The rule follows the side and the trigger as typed.
  const form = page.getByTestId("order-form");
  await fillStopLimit(page, {
    side: "Sell",
    base: BASE,
    quote: "USDT",
    trigger: String(p),
    price: String(limit),
    amount: "0.01",
  });
  await expect(form.getByRole("tab", { name: "Stop-limit" })).toHaveAttribute(
    "aria-selected",
    "true",
  );
  await expect(form.getByTestId("stop-rule")).toHaveText(`Sell when last price ≤ ${shown(p)}`);
  await form.locator("label", { hasText: `Buy ${BASE}` }).click();
  await expect(form.getByTestId("stop-rule")).toHaveText(`Buy when last price ≥ ${shown(p)}`);
  await expect(form.getByTestId("stop-summary")).toContainText(
    `When last price ≥ ${shown(p)}, a limit buy of 0.01 ${BASE} at ${shown(limit)} USDT is placed.`,
  );
  await expect(form.getByText("Holds when it fires")).toBeVisible();
  await form.getByTestId("place-order").click();
  await expect(toast(page, "Stop-limit order placed")).toBeVisible();

  // A second one, higher: listed too, then cancelled.
  await placeStopLimit(page, {
    side: "Buy",
    base: BASE,
    quote: "USDT",
    trigger: String(p + 50),
    price: String(limit),
    amount: "0.02",
  });
  await showTab(page, "Stops");
  await expect(page.getByRole("tab", { name: "Stops (2)" })).toBeVisible();
  await expect(stopOrders(page)).toHaveCount(2);
  const [higher, first] = [stopOrders(page).nth(0), stopOrders(page).nth(1)];
  await expect(higher).toContainText(`when last price ≥ ${shown(p + 50)}`);
  await expect(higher).toContainText(`0.0200 ${BASE}`);
  await expect(first).toContainText(`when last price ≥ ${shown(p)}`);
  await expect(first).toContainText(shown(limit));
  await expect(first).toContainText(`0.0100 ${BASE}`);
  await higher.getByRole("button", { name: /Cancel stop/ }).click();
  await expect(toast(page, "Stop cancelled")).toBeVisible();
  await expect(stopOrders(page)).toHaveCount(1);
  await expect(page.getByRole("tab", { name: "Stops (1)" })).toBeVisible();
  // Nothing is held while a stop waits: all 10,000 USDT are still available.
  await expect(form.getByTestId("order-preview")).toContainText("10,000.00 USDT");

  // Bob offers 0.01 ${BASE} at the trigger and alice takes it: the last price reaches the trigger.
  await placeLimitOrder(bob.page, {
    side: "Sell",
    base: BASE,
    quote: "USDT",
    price: String(p),
    amount: "0.01",
  });
  await expect(openOrders(bob.page)).toHaveCount(1);
  await placeLimitOrder(page, {
    side: "Buy",
    base: BASE,
    quote: "USDT",
    price: String(p),
    amount: "0.01",
  });
  await expect(
    toast(page, `Stop triggered: buy 0.01 ${BASE} at ${limit.toLocaleString("en-US")} placed`),
  ).toBeVisible({
    timeout: 15_000,
  });
  // Without a reload: the stop has left the list, and its order rests in the open orders.
  await expect(stopOrders(page)).toHaveCount(0);
  await expect(page.getByRole("tab", { name: "Stops (0)" })).toBeVisible();
  await showTab(page, "Open orders");
  await expect(openOrders(page)).toHaveCount(1);
  await expect(openOrders(page).first()).toContainText(shown(limit));
  await expect(openOrders(page).first()).toContainText(`0.0100 ${BASE}`);
  await expect(openOrders(page).first().getByText("open", { exact: true })).toBeVisible();

  await page.getByTestId("cancel-all").click();
  await expect(openOrders(page)).toHaveCount(0);
  await alice.context.close();
  await bob.context.close();
});

test("amend in place: the queue rule stated, new price and amount shown, the hold moved exactly", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const { context, page } = await trader(browser, "amend", [["USDT", "10000"]]);
  const p = await freePrice(page.request);
  const price = p - 200;
  await placeLimitOrder(page, {
    side: "Buy",
    base: BASE,
    quote: "USDT",
    price: String(price),
    amount: "0.01",
  });
  const row = openOrders(page).first();
  await expect(row.getByText("open", { exact: true })).toBeVisible();
  await showTab(page, "Balances");
  const available = balanceOf(page, "USDT").available;
  // 0.01 ${BASE} at `price` holds price / 100 USDT.
  const before = micros("10000") - BigInt(price) * 10_000n;
  await expect(available).toHaveAttribute(
    "data-value",
    new RegExp(`^${String(before / 1_000_000n)}`),
  );
  const availableBefore = micros((await available.getAttribute("data-value")) ?? "");
  expect(availableBefore).toBe(before);

  await showTab(page, "Open orders");
  await row.getByRole("button", { name: /Amend order/ }).click();
  const panel = page.getByTestId("amend-panel");
  await expect(panel).toContainText(
    "Lowering the amount keeps your place in the queue; changing the price or raising the amount sends the order to the back.",
  );
  const newPrice = page.getByLabel("New price");
  const newAmount = page.getByLabel("New amount");
  await newAmount.fill("0.005");
  await expect(panel.getByTestId("amend-consequence")).toHaveText(
    "This amend keeps your place in the queue.",
  );
  // Up in price and amount: to the back of the queue, and more held.
  await newPrice.fill(String(price + 10));
  await newAmount.fill("0.02");
  await expect(panel.getByTestId("amend-consequence")).toHaveText(
    "This amend sends the order to the back of the queue at its price.",
  );
  const heldAfter = BigInt(price + 10) * 20_000n; // (price + 10) × 0.02 USDT, in micros
  const heldBefore = BigInt(price) * 10_000n;
  await expect(panel.getByTestId("amend-hold")).toHaveText(
    `Held: ${shownMicros(heldBefore)} → ${shownMicros(heldAfter)} USDT`,
  );
  await page.getByRole("button", { name: "Save" }).click();
  await expect(toast(page, "Amend sent")).toBeVisible();
  // Once settled, the row shows the new values.
  await expect(row).toContainText(shown(price + 10));
  await expect(row).toContainText(`0.0200 ${BASE}`);
  await showTab(page, "Balances");
  await expect
    .poll(async () => micros((await available.getAttribute("data-value")) ?? ""))
    .toBe(availableBefore - (heldAfter - heldBefore));
  await expect(balanceOf(page, "USDT").locked).toHaveAttribute(
    "data-value",
    new RegExp(`^${String(heldAfter / 1_000_000n)}`),
  );

  await showTab(page, "Open orders");
  await page.getByTestId("cancel-all").click();
  await expect(openOrders(page)).toHaveCount(0);
  await context.close();
});

test("notices say why: self-trade prevention, and an immediate-or-cancel remainder", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const alice = await trader(browser, "notices", [
    ["USDT", "10000"],
    [BASE, "1"],
  ]);
  const bob = await trader(browser, "notices-seller", [[BASE, "1"]]);
  const page = alice.page;
  const p = await freePrice(page.request);

  // Cancel-newest self-trade prevention, then a buy into alice's own resting sell.
  const form = page.getByTestId("order-form");
  await form.getByTestId("order-advanced").getByText("Advanced").click();
  await form.getByLabel("Self-trade prevention").selectOption("cn");
  await placeLimitOrder(page, {
    side: "Sell",
    base: BASE,
    quote: "USDT",
    price: String(p + 100),
    amount: "0.01",
  });
  await expect(openOrders(page)).toHaveCount(1);
  // The open-orders list the placement answer asks for is read before the cancel settles, and
  // held here (a slow network) until the cancel's push has arrived — with the list off screen
  // meanwhile (Order history shown): that older answer must not be what the list shows after.
  let held: Route | undefined;
  const asked = new Promise<void>((resolve) => {
    void page.route(
      (url) => url.pathname.includes("orders.open"),
      (route) => {
        held = route;
        resolve();
      },
      { times: 1 },
    );
  });
  await placeLimitOrder(page, {
    side: "Buy",
    base: BASE,
    quote: "USDT",
    price: String(p + 100),
    amount: "0.01",
  });
  await asked;
  await showTab(page, "Order history");
  await expect(toast(page, "Order cancelled: self-trade prevention")).toContainText(
    "would have traded with your own order",
  );
  await expect(page.getByTestId("history-order").first()).toContainText("cancelled: self-trade");
  // Delivered late (or dropped: the page may have given up on it).
  const late = await held?.fetch().catch(() => undefined);
  if (late) await held?.fulfill({ response: late }).catch(() => undefined);
  await showTab(page, "Open orders");
  // No reload: the cancelled buy is not left "pending"; only the resting sell is open.
  await expect(openOrders(page)).toHaveCount(1);
  await expect(openOrders(page).first()).toContainText("sell");
  await page.getByTestId("cancel-all").click();
  await expect(openOrders(page)).toHaveCount(0);

  // Bob offers 0.01; alice's immediate-or-cancel buy of 0.03 takes it and the rest is cancelled.
  await placeLimitOrder(bob.page, {
    side: "Sell",
    base: BASE,
    quote: "USDT",
    price: String(p + 200),
    amount: "0.01",
  });
  await expect(openOrders(bob.page)).toHaveCount(1);
  await placeLimitOrder(page, {
    side: "Buy",
    base: BASE,
    quote: "USDT",
    price: String(p + 200),
    amount: "0.03",
    timeInForce: "ioc",
  });
  await expect(
    toast(page, "Unfilled remainder of your immediate-or-cancel order cancelled"),
  ).toContainText(`0.01 ${BASE} had filled`);
  await expect(openOrders(page)).toHaveCount(0);
  await expect(openOrders(bob.page)).toHaveCount(0);
  await alice.context.close();
  await bob.context.close();
});

async function dismissToasts(page: Page) {
  const dismiss = page.getByTestId("toast").getByRole("button", { name: "Dismiss" });
  while ((await dismiss.count()) > 0) await dismiss.first().click();
}

async function shoot(page: Page, name: string) {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path });
  await test.info().attach(name, { path, contentType: "image/png" });
}

test("screenshots: the Stop-limit tab filled in, an amend in progress, a notice", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await signUp(page, "stop-screens");
  await demoDeposit(page, "USDT", "25000");
  await demoDeposit(page, BASE, "1");
  for (const size of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 390, height: 844 },
  ]) {
    await page.setViewportSize(size);
    await openMarket(page, MARKET);
    const p = await freePrice(page.request);
    await fillStopLimit(page, {
      side: "Buy",
      base: BASE,
      quote: "USDT",
      trigger: String(p),
      price: String(p + 100),
      amount: "0.05",
    });
    // At phone width: the form from its tabs down (below the page's header).
    if (size.name === "phone") {
      await page
        .getByTestId("order-form")
        .evaluate((form) => window.scrollBy(0, form.getBoundingClientRect().top - 64));
    }
    await shoot(page, `trade-stop-limit-${size.name}`);

    await placeLimitOrder(page, {
      side: "Buy",
      base: BASE,
      quote: "USDT",
      price: String(p - 300),
      amount: "0.05",
    });
    const row = openOrders(page).first();
    await expect(row.getByText("open", { exact: true })).toBeVisible();
    await row.getByRole("button", { name: /Amend order/ }).click();
    await page.getByLabel("New price").fill(String(p - 250));
    await page.getByLabel("New amount").fill("0.04");
    await dismissToasts(page);
    // The table scrolls sideways at phone width: show the inputs, then the panel under it.
    await page.getByLabel("New price").scrollIntoViewIfNeeded();
    await page.getByTestId("amend-panel").scrollIntoViewIfNeeded();
    await shoot(page, `trade-amend-${size.name}`);
    await page.getByRole("button", { name: "Discard" }).click();

    // Self-trade prevention cancels the newest: a notice says so.
    const form = page.getByTestId("order-form");
    await form.getByTestId("order-advanced").getByText("Advanced").click();
    await form.getByLabel("Self-trade prevention").selectOption("cn");
    await placeLimitOrder(page, {
      side: "Sell",
      base: BASE,
      quote: "USDT",
      price: String(p + 100),
      amount: "0.01",
    });
    await expect(openOrders(page)).toHaveCount(2);
    await placeLimitOrder(page, {
      side: "Buy",
      base: BASE,
      quote: "USDT",
      price: String(p + 100),
      amount: "0.01",
    });
    await expect(toast(page, "Order cancelled: self-trade prevention")).toBeVisible();
    await page.getByTestId("open-orders").scrollIntoViewIfNeeded();
    await shoot(page, `trade-notice-${size.name}`);
    await page.getByTestId("cancel-all").click();
    await expect(openOrders(page)).toHaveCount(0);
    await form.getByLabel("Self-trade prevention").selectOption("none");
  }
  expect(violations).toEqual([]);
  await context.close();
});
