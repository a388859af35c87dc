// gate.io's own Node SDK (`gate-api`), unchanged, pointed at spotx's base URL: list pairs →
// ticker → order book → balances → place → get → trade → my trades → cancel, with a worker
// really matching and settling. The wire-compatibility promise, checked by gate.io's code.

import { sql } from "drizzle-orm";
import { ApiClient, Order, type SpotApi, WalletApi } from "gate-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GateExchange, type GateKey, startGateExchange, waitFor } from "./gate-exchange";
import { sdkSpotApi } from "./sdk-client";

let gx: GateExchange;
let seller: GateKey;
let buyer: GateKey;

/** The SDK's client for a key, as a trading program would build it — only the base URL changed. */
function spotApi(key: GateKey | null): SpotApi {
  return sdkSpotApi(gx.baseUrl, key);
}

beforeAll(async () => {
  gx = await startGateExchange();
  seller = await gx.trader({ funds: { BTC: 100_000_000n } });
  buyer = await gx.trader({ funds: { USDT: 1_000_000_000n } });
});
afterAll(async () => {
  await gx?.stop();
});

function order(fields: Partial<Order>): Order {
  return Object.assign(new Order(), fields);
}

describe("gate.io's Node SDK against spotx", () => {
  it("lists pairs, reads a ticker, the book and balances, places, gets, trades and cancels", async () => {
    const publicApi = spotApi(null);
    const pairs = await publicApi.listCurrencyPairs();
    expect(pairs.response.status).toBe(200);
    const btc = pairs.body.find((p) => p.id === "BTC_USDT");
    expect(btc).toMatchObject({
      base: "BTC",
      quote: "USDT",
      precision: 2,
      amountPrecision: 4,
      tradeStatus: "tradable",
    });

    const tickers = await publicApi.listTickers({ currencyPair: "BTC_USDT" });
    expect(tickers.body).toHaveLength(1);
    expect(tickers.body[0]?.currencyPair).toBe("BTC_USDT");

    const sellerApi = spotApi(seller);
    const buyerApi = spotApi(buyer);
    const accounts = await sellerApi.listSpotAccounts({});
    expect(accounts.body.map((a) => [a.currency, a.available, a.locked])).toEqual([
      ["BTC", "1", "0"],
    ]);

    const placed = await sellerApi.createOrder(
      order({
        currencyPair: "BTC_USDT",
        type: Order.Type.Limit,
        account: "spot",
        side: Order.Side.Sell,
        amount: "0.02",
        price: "30000",
        timeInForce: Order.TimeInForce.Gtc,
        text: "t-sdk-sell",
      }),
    );
    expect(placed.response.status).toBe(201);
    const sellId = placed.body.id ?? "";
    expect(placed.body).toMatchObject({
      status: "open",
      side: "sell",
      amount: "0.02",
      price: "30000",
      text: "t-sdk-sell",
    });

    await waitFor(
      async () => {
        const book = await publicApi.listOrderBook("BTC_USDT", { limit: 10, withId: true });
        return (book.body.asks?.length ?? 0) > 0 && book.body;
      },
      { what: "the sell in the SDK's order book" },
    ).then((book) => {
      expect(book.asks).toEqual([["30000", "0.02"]]);
      expect(typeof book.id).toBe("number");
      expect(typeof book.current).toBe("number");
    });

    const got = await sellerApi.getOrder(sellId, "BTC_USDT", {});
    expect(got.body).toMatchObject({ id: sellId, status: "open", left: "0.02" });
    const byText = await sellerApi.getOrder("t-sdk-sell", "BTC_USDT", {});
    expect(byText.body.id).toBe(sellId);

    // A market buy of 150 USDT takes half of it.
    const buy = await buyerApi.createOrder(
      order({
        currencyPair: "BTC_USDT",
        type: Order.Type.Market,
        side: Order.Side.Buy,
        amount: "150",
        timeInForce: Order.TimeInForce.Ioc,
      }),
    );
    expect(buy.response.status).toBe(201);
    // Sent without a text: labelled as gate.io labels an API order.
    expect(buy.body.text).toBe("apiv4");
    const filled = await waitFor(
      async () => {
        const o = await buyerApi.getOrder(buy.body.id ?? "", "BTC_USDT", {});
        return o.body.status === Order.Status.Closed && o.body;
      },
      { what: "the market buy to fill" },
    );
    // The SDK's clients derive the base amount bought from avg_deal_price.
    expect(filled).toMatchObject({
      filledTotal: "150",
      avgDealPrice: "30000",
      filledAmount: "0.005",
      finishAs: "filled",
    });

    const trades = await sellerApi.listMyTrades({ currencyPair: "BTC_USDT", orderId: sellId });
    expect(trades.body).toHaveLength(1);
    expect(trades.body[0]).toMatchObject({
      side: "sell",
      role: "maker",
      amount: "0.005",
      price: "30000",
      orderId: sellId,
      fee: "0.15",
      feeCurrency: "USDT",
    });

    const open = await sellerApi.listOrders("BTC_USDT", "open", {});
    expect(open.body.map((o) => [o.id, o.left])).toEqual([[sellId, "0.015"]]);

    const cancelled = await sellerApi.cancelOrder(sellId, "BTC_USDT", {});
    expect(cancelled.body).toMatchObject({
      id: sellId,
      status: "cancelled",
      finishAs: "cancelled",
      left: "0.015",
      filledAmount: "0.005",
    });

    const after = await sellerApi.listSpotAccounts({ currency: "BTC" });
    expect(after.body).toEqual([
      expect.objectContaining({ currency: "BTC", available: "0.995", locked: "0" }),
    ]);
  });

  it("takes a reused text as a label: two orders; a lookup or cancel by text acts on the newer", async () => {
    const buyerApi = spotApi(buyer);
    const bid = (price: string) =>
      buyerApi.createOrder(
        order({
          currencyPair: "BTC_USDT",
          side: Order.Side.Buy,
          amount: "0.001",
          price,
          text: "t-strategy-1",
        }),
      );
    // Inside the price band around the last trade (30,000), below the book: they rest.
    const first = await bid("28000");
    const second = await bid("28001");
    expect([first.response.status, second.response.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
    expect([first.body.text, second.body.text]).toEqual(["t-strategy-1", "t-strategy-1"]);

    const byText = await buyerApi.getOrder("t-strategy-1", "BTC_USDT", {});
    expect(byText.body).toMatchObject({ id: second.body.id, price: "28001" });

    const cancelled = await buyerApi.cancelOrder("t-strategy-1", "BTC_USDT", {});
    expect(cancelled.body).toMatchObject({ id: second.body.id, status: "cancelled" });
    const stillOpen = await buyerApi.getOrder(first.body.id ?? "", "BTC_USDT", {});
    expect(stillOpen.body.status).toBe("open");
    await buyerApi.cancelOrder(first.body.id ?? "", "BTC_USDT", {});

    const unknown = await buyerApi.getOrder("t-never-sent", "BTC_USDT", {}).then(
      () => null,
      (error: { response?: { status: number; data: { label: string } } }) => error.response,
    );
    expect(unknown?.status).toBe(404);
    expect(unknown?.data.label).toBe("CLIENT_ID_NOT_FOUND");
  });

  it("reads the trading fees as fractions: per pair, for several pairs, and for every pair", async () => {
    const client = new ApiClient(gx.baseUrl);
    client.setApiKeySecret(buyer.key, buyer.secret);
    const wallet = new WalletApi(client);
    const btc = await wallet.getTradeFee({ currencyPair: "BTC_USDT" });
    expect(btc.body).toMatchObject({ makerFee: "0.001", takerFee: "0.002", gtDiscount: false });
    expect(btc.body.futuresTakerFee).toBe("0");
    const spot = spotApi(buyer);
    const one = await spot.getFee({ currencyPair: "ETH_USDT" });
    expect(one.body).toMatchObject({
      currencyPair: "ETH_USDT",
      makerFee: "0.001",
      takerFee: "0.002",
    });
    const batch = await spot.getBatchSpotFee("BTC_USDT,ETH_USDT");
    expect(Object.keys(batch.body).sort()).toEqual(["BTC_USDT", "ETH_USDT"]);
    // The SDK hands a map's values over as they came on the wire (snake_case).
    expect(batch.body.BTC_USDT as unknown).toMatchObject({
      currency_pair: "BTC_USDT",
      maker_fee: "0.001",
      taker_fee: "0.002",
    });

    const unknown = await spot.getBatchSpotFee("BTC_USDT,DOGE_USDT").then(
      () => null,
      (error: { response?: { status: number; data: { label: string } } }) => error.response,
    );
    expect(unknown?.status).toBe(400);
    expect(unknown?.data.label).toBe("INVALID_CURRENCY_PAIR");

    // Without a pair: the highest rates of the trading markets (ccxt applies them to every pair).
    await gx.db.execute(
      sql`UPDATE markets SET maker_fee_ppm = 1500, taker_fee_ppm = 3000 WHERE symbol = 'ETH_USDT'`,
    );
    try {
      const every = await waitFor(
        async () => {
          const answer = await wallet.getTradeFee({});
          return answer.body.takerFee === "0.003" && answer.body;
        },
        { what: "the new ETH_USDT fees past the market cache" },
      );
      expect(every).toMatchObject({ makerFee: "0.0015", takerFee: "0.003" });
      expect((await wallet.getTradeFee({ currencyPair: "BTC_USDT" })).body.takerFee).toBe("0.002");
    } finally {
      await gx.db.execute(
        sql`UPDATE markets SET maker_fee_ppm = 1000, taker_fee_ppm = 2000 WHERE symbol = 'ETH_USDT'`,
      );
    }
  });

  it("reads the account book: holds, the fill and its fee, the cancel, each with its balance after", async () => {
    const alice = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const bob = await gx.trader({ funds: { BTC: 100_000_000n } });
    const aliceApi = spotApi(alice);
    const ask = await spotApi(bob).createOrder(
      order({ currencyPair: "BTC_USDT", side: Order.Side.Sell, amount: "0.01", price: "30000" }),
    );
    expect(ask.response.status).toBe(201);
    await waitFor(
      async () => {
        const book = await spotApi(null).listOrderBook("BTC_USDT", { limit: 10 });
        return (book.body.asks ?? []).some(([price]) => price === "30000");
      },
      { what: "Bob's ask in the book" },
    );
    // Alice takes it (0.2 % of the 0.01 BTC), then places a bid below the book and cancels it.
    const bid = await aliceApi.createOrder(
      order({ currencyPair: "BTC_USDT", side: Order.Side.Buy, amount: "0.01", price: "30000" }),
    );
    await waitFor(
      async () =>
        (await aliceApi.getOrder(bid.body.id ?? "", "BTC_USDT", {})).body.status ===
        Order.Status.Closed,
      { what: "Alice's bid to fill" },
    );
    const low = await aliceApi.createOrder(
      order({ currencyPair: "BTC_USDT", side: Order.Side.Buy, amount: "0.001", price: "28000" }),
    );
    await aliceApi.cancelOrder(low.body.id ?? "", "BTC_USDT", {});
    const rows = await waitFor(
      async () => {
        const book = await aliceApi.listSpotAccountBook({});
        return book.body[0]?.type === "cancel_order" && book.body;
      },
      { what: "the cancel in Alice's account book" },
    );
    expect(rows.map((r) => [r.currency, r.type, r.change, r.balance, r.text])).toEqual([
      ["USDT", "cancel_order", "28", "700", low.body.id],
      ["USDT", "new_order", "-28", "672", low.body.id],
      ["BTC", "order_fee", "-0.00002", "0.00998", bid.body.id],
      ["BTC", "order_fill", "0.01", "0.01", bid.body.id],
      ["USDT", "new_order", "-300", "700", bid.body.id],
      ["USDT", "deposit", "1000", "1000", expect.any(String)],
    ]);
    expect(rows.map((r) => r.code)).toEqual(["202", "201", "205", "204", "201", "101"]);
    expect(rows.every((r) => typeof r.time === "number" && typeof r.id === "string")).toBe(true);

    const fees = await aliceApi.listSpotAccountBook({ type: "order_fee" });
    expect(fees.body.map((r) => [r.currency, r.change])).toEqual([["BTC", "-0.00002"]]);
    const holds = await aliceApi.listSpotAccountBook({ code: "201", type: "deposit" });
    expect(holds.body.map((r) => r.change)).toEqual(["-28", "-300"]);
    const usdt = await aliceApi.listSpotAccountBook({ currency: "USDT", limit: 2, page: 2 });
    expect(usdt.body.map((r) => r.type)).toEqual(["new_order", "deposit"]);

    const tooLong = await aliceApi.listSpotAccountBook({ from: 1, to: 1 + 31 * 86_400 }).then(
      () => null,
      (error: { response?: { status: number; data: { label: string } } }) => error.response,
    );
    expect(tooLong?.status).toBe(400);
    expect(tooLong?.data.label).toBe("INVALID_PARAM_VALUE");
  });

  it("surfaces spotx's refusals as gate.io's labels", async () => {
    const failure = await spotApi(buyer)
      .createOrder(
        order({
          currencyPair: "BTC_USDT",
          side: Order.Side.Buy,
          amount: "0.01",
          price: "30000.001",
        }),
      )
      .then(
        () => null,
        (error: { response?: { status: number; data: { label: string } } }) => error.response,
      );
    expect(failure?.status).toBe(400);
    expect(failure?.data.label).toBe("INVALID_PRECISION");
  });
});
