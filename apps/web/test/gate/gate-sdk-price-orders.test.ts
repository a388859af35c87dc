// gate.io's own Node SDK (`gate-api`), unchanged, on the price-triggered orders
// (`/spot/price_orders`) — with a worker really matching and settling, so a price order fires
// when a trade reaches its price and its order is placed and filled, one fires and fails for lack
// of funds, and one expires; balances are checked to the minor unit and the ledger reconciled.
import { runReconciliation, schema } from "@spotx/db";
import { count, eq } from "drizzle-orm";
import {
  Order,
  type SpotApi,
  SpotPricePutOrder,
  SpotPriceTrigger,
  SpotPriceTriggeredOrder,
} from "gate-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GateExchange, type GateKey, startGateExchange, waitFor } from "./gate-exchange";
import { orderWhen, refusal, sdkBalances, sdkSpotApi } from "./sdk-client";

let gx: GateExchange;

const spotApi = (key: GateKey) => sdkSpotApi(gx.baseUrl, key);
const balances = sdkBalances;

/**
 * A price order as the SDK builds it. Enum fields are typed loosely so a test can send what
 * gate.io would refuse; the SDK passes them through as given.
 */
function priceOrder(
  market: string,
  trigger: { price: string; rule: string; expiration?: number },
  put: {
    type?: string;
    side: string;
    price?: string;
    amount: string;
    account?: string;
    timeInForce?: string;
    text?: string;
  },
): SpotPriceTriggeredOrder {
  return Object.assign(new SpotPriceTriggeredOrder(), {
    market,
    trigger: Object.assign(new SpotPriceTrigger(), trigger),
    put: Object.assign(new SpotPricePutOrder(), { account: "normal", ...put }),
  });
}

/** A trade of 0.01 BTC at `price` between two new users: the market's last price becomes it. */
async function tradeAt(price: string) {
  const seller = await gx.trader({ funds: { BTC: 1_000_000n } });
  const buyer = await gx.trader({ funds: { USDT: 1_000_000_000n } });
  const sellerApi = spotApi(seller);
  const sell = await sellerApi.createOrder(
    Object.assign(new Order(), {
      currencyPair: "BTC_USDT",
      side: Order.Side.Sell,
      amount: "0.01",
      price,
    }),
  );
  const id = sell.body.id ?? "";
  await orderWhen(sellerApi, id, (o) => o.status === Order.Status.Open, "the sell to rest");
  await spotApi(buyer).createOrder(
    Object.assign(new Order(), {
      currencyPair: "BTC_USDT",
      side: Order.Side.Buy,
      amount: "0.01",
      price,
      timeInForce: Order.TimeInForce.Ioc,
    }),
  );
  await orderWhen(sellerApi, id, (o) => o.status === Order.Status.Closed, `a trade at ${price}`);
}

async function priceOrderWhen(
  api: SpotApi,
  id: number,
  done: (p: SpotPriceTriggeredOrder) => boolean,
  what: string,
) {
  return waitFor(
    async () => {
      const p = (await api.getSpotPriceTriggeredOrder(String(id))).body;
      return done(p) && p;
    },
    { what, timeoutMs: 20_000 },
  );
}

const ids = (list: SpotPriceTriggeredOrder[]) => list.map((p) => p.id);

beforeAll(async () => {
  gx = await startGateExchange();
});
afterAll(async () => {
  await gx?.stop();
});

describe("gate.io's SDK: price-triggered orders", () => {
  it("creates (201 {id}), reads, lists and cancels them; nothing is held while they wait", async () => {
    const trader = await gx.trader({ funds: { USDT: 1_000_000_000n } }); // 1000 USDT
    const api = spotApi(trader);
    const created = await api.createSpotPriceTriggeredOrder(
      priceOrder(
        "BTC_USDT",
        { price: "90000", rule: ">=", expiration: 0 },
        { type: "limit", side: "buy", price: "90100.5", amount: "0.01", timeInForce: "gtc" },
      ),
    );
    expect(created.response.status).toBe(201);
    expect(created.response.data).toEqual({ id: expect.any(Number) });
    const limitBuy = Number(created.body.id);
    // A market sell with gate.io's default time_in_force (gtc): placed, and shown, as ioc.
    const marketSell = Number(
      (
        await api.createSpotPriceTriggeredOrder(
          priceOrder(
            "BTC_USDT",
            { price: "100", rule: "<=", expiration: 3600 },
            {
              type: "market",
              side: "sell",
              price: "0",
              amount: "0.005",
              timeInForce: "gtc",
              text: "app",
            },
          ),
        )
      ).body.id,
    );
    // A market buy's amount is quote to spend; expiration left out (ccxt may) never expires;
    // `spot` is taken for the one account as well as gate.io's `normal`.
    const marketBuy = Number(
      (
        await api.createSpotPriceTriggeredOrder(
          priceOrder(
            "ETH_USDT",
            { price: "9000", rule: ">=" },
            { type: "market", side: "buy", amount: "25.5", account: "spot", timeInForce: "ioc" },
          ),
        )
      ).body.id,
    );
    expect(new Set([limitBuy, marketSell, marketBuy]).size).toBe(3);
    // Nothing is held while they wait.
    expect(await balances(api)).toEqual({ USDT: ["1000", "0"] });

    const got = await api.getSpotPriceTriggeredOrder(String(limitBuy));
    expect(got.body).toEqual({
      trigger: { price: "90000", rule: ">=", expiration: 0 },
      put: {
        type: "limit",
        side: "buy",
        price: "90100.5",
        amount: "0.01",
        account: "normal",
        timeInForce: "gtc",
        autoBorrow: false,
        autoRepay: false,
        text: "api",
      },
      market: "BTC_USDT",
      id: limitBuy,
      user: Number(trader.userId),
      ctime: expect.any(Number),
      ftime: 0,
      firedOrderId: 0,
      status: "open",
      reason: "",
    });
    // On the wire: integers for ids and times, gate.io's names.
    expect(got.response.data).toMatchObject({ id: limitBuy, fired_order_id: 0, ftime: 0 });
    expect(got.body.ctime).toBeGreaterThan(0);
    expect((await api.getSpotPriceTriggeredOrder(String(marketSell))).body).toMatchObject({
      trigger: { price: "100", rule: "<=", expiration: 3600 },
      put: { type: "market", side: "sell", price: "0", amount: "0.005", timeInForce: "ioc" },
    });
    expect((await api.getSpotPriceTriggeredOrder(String(marketBuy))).body).toMatchObject({
      trigger: { price: "9000", rule: ">=", expiration: 0 },
      put: { type: "market", side: "buy", price: "0", amount: "25.5", timeInForce: "ioc" },
      market: "ETH_USDT",
    });

    // Lists: newest first, by market, paged with limit and offset.
    expect(ids((await api.listSpotPriceTriggeredOrders("open")).body)).toEqual([
      marketBuy,
      marketSell,
      limitBuy,
    ]);
    expect(
      ids((await api.listSpotPriceTriggeredOrders("open", { market: "BTC_USDT" })).body),
    ).toEqual([marketSell, limitBuy]);
    expect(
      ids((await api.listSpotPriceTriggeredOrders("open", { limit: 1, offset: 1 })).body),
    ).toEqual([marketSell]);
    expect((await api.listSpotPriceTriggeredOrders("finished")).body).toEqual([]);
    expect(
      await api
        .listSpotPriceTriggeredOrders("open", { account: "margin" })
        .then(() => null, refusal),
    ).toMatchObject({ status: 400, data: { label: "INVALID_PARAM_VALUE" } });
    expect(
      await api.listSpotPriceTriggeredOrders("open", { limit: 101 }).then(() => null, refusal),
    ).toMatchObject({ status: 400, data: { label: "INVALID_PARAM_VALUE" } });

    // Someone else's is not found, nor cancelled; neither is one that does not exist.
    const other = spotApi(await gx.trader());
    for (const attempt of [
      () => other.getSpotPriceTriggeredOrder(String(limitBuy)),
      () => other.cancelSpotPriceTriggeredOrder(String(limitBuy)),
      () => api.getSpotPriceTriggeredOrder("999999999"),
    ]) {
      expect(await attempt().then(() => null, refusal)).toMatchObject({
        status: 404,
        data: { label: "ORDER_NOT_FOUND" },
      });
    }
    expect(await other.cancelSpotPriceTriggeredOrderList({})).toMatchObject({ body: [] });

    // Cancel one: answered cancelled; a second cancel is ORDER_CLOSED.
    const cancelled = await api.cancelSpotPriceTriggeredOrder(String(marketSell));
    expect(cancelled.response.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      id: marketSell,
      status: "cancelled",
      reason: "cancelled by the user",
    });
    expect(cancelled.body.ftime).toBeGreaterThanOrEqual(cancelled.body.ctime ?? 0);
    expect(
      await api.cancelSpotPriceTriggeredOrder(String(marketSell)).then(() => null, refusal),
    ).toMatchObject({ status: 400, data: { label: "ORDER_CLOSED" } });

    // Cancel all of a market, then all that are left.
    const btc = await api.cancelSpotPriceTriggeredOrderList({ market: "BTC_USDT" });
    expect(btc.response.status).toBe(200);
    expect(btc.body.map((p) => [p.id, p.status])).toEqual([[limitBuy, "cancelled"]]);
    const rest = await api.cancelSpotPriceTriggeredOrderList({ account: "normal" });
    expect(rest.body.map((p) => [p.id, p.market, p.status])).toEqual([
      [marketBuy, "ETH_USDT", "cancelled"],
    ]);
    expect((await api.cancelSpotPriceTriggeredOrderList({})).body).toEqual([]);
    expect((await api.listSpotPriceTriggeredOrders("open")).body).toEqual([]);
    const finished = (await api.listSpotPriceTriggeredOrders("finished")).body;
    expect(finished.map((p) => [p.id, p.status])).toEqual([
      [marketBuy, "cancelled"],
      [marketSell, "cancelled"],
      [limitBuy, "cancelled"],
    ]);
    expect(await balances(api)).toEqual({ USDT: ["1000", "0"] });
  });

  it("refuses bad price orders with gate.io's labels and records nothing", async () => {
    const trader = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const api = spotApi(trader);
    const limit = { type: "limit", side: "buy", price: "20000", amount: "0.01" };
    const refused = async (order: SpotPriceTriggeredOrder) =>
      api.createSpotPriceTriggeredOrder(order).then(() => null, refusal);
    const cases: Array<[string, SpotPriceTriggeredOrder, string, RegExp]> = [
      [
        "a rule gate.io does not have",
        priceOrder("BTC_USDT", { price: "20000", rule: "=>" }, limit),
        "INVALID_PARAM_VALUE",
        /trigger\.rule/,
      ],
      [
        "a put type gate.io does not have",
        priceOrder("BTC_USDT", { price: "20000", rule: "<=" }, { ...limit, type: "stop" }),
        "INVALID_PARAM_VALUE",
        /put\.type/,
      ],
      [
        "an order worth less than the market's minimum (1 USDT)",
        priceOrder("BTC_USDT", { price: "20000", rule: "<=" }, { ...limit, price: "50" }),
        "AMOUNT_TOO_LITTLE",
        /minimum/,
      ],
      [
        "a market that does not exist",
        priceOrder("DOGE_USDT", { price: "1", rule: "<=" }, limit),
        "INVALID_CURRENCY_PAIR",
        /DOGE_USDT/,
      ],
      [
        "a trigger price finer than the pair's tick",
        priceOrder("BTC_USDT", { price: "20000.001", rule: "<=" }, limit),
        "INVALID_PRECISION",
        /decimals/,
      ],
      [
        "a margin account",
        priceOrder("BTC_USDT", { price: "20000", rule: "<=" }, { ...limit, account: "margin" }),
        "INVALID_PARAM_VALUE",
        /put\.account/,
      ],
      [
        "a market put with a price",
        priceOrder(
          "BTC_USDT",
          { price: "20000", rule: "<=" },
          { ...limit, type: "market", timeInForce: "ioc" },
        ),
        "INVALID_PARAM_VALUE",
        /no price/,
      ],
      [
        "a limit put without a price",
        priceOrder("BTC_USDT", { price: "20000", rule: "<=" }, { ...limit, price: undefined }),
        "INVALID_PARAM_VALUE",
        /needs a price/,
      ],
      [
        "a negative expiration",
        priceOrder("BTC_USDT", { price: "20000", rule: "<=", expiration: -1 }, limit),
        "INVALID_PARAM_VALUE",
        /trigger\.expiration/,
      ],
    ];
    for (const [what, order, label, message] of cases) {
      const answer = await refused(order);
      expect(answer, what).toMatchObject({ status: 400, data: { label } });
      expect(answer?.data.message, what).toMatch(message);
    }

    // A read-only key reads price orders but may not create or cancel them.
    const reader = spotApi(await gx.trader({ permissions: ["read"] }));
    const forbidden = [
      () =>
        reader.createSpotPriceTriggeredOrder(
          priceOrder("BTC_USDT", { price: "20000", rule: "<=" }, limit),
        ),
      () => reader.cancelSpotPriceTriggeredOrderList({}),
      () => reader.cancelSpotPriceTriggeredOrder("1"),
    ];
    for (const attempt of forbidden) {
      expect(await attempt().then(() => null, refusal)).toMatchObject({
        status: 403,
        data: { label: "FORBIDDEN" },
      });
    }
    expect((await reader.listSpotPriceTriggeredOrders("open")).body).toEqual([]);

    const { priceOrders } = schema;
    const recorded = await gx.db
      .select({ n: count() })
      .from(priceOrders)
      .where(eq(priceOrders.userId, trader.userId));
    expect(recorded[0]?.n).toBe(0);
  });

  it("fires when a trade reaches its price: its order is placed, rests, then fills", async () => {
    const trader = await gx.trader({ funds: { USDT: 1_000_000_000n } }); // 1000 USDT
    const api = spotApi(trader);
    const created = await api.createSpotPriceTriggeredOrder(
      priceOrder(
        "BTC_USDT",
        { price: "30000", rule: ">=", expiration: 3600 },
        { type: "limit", side: "buy", price: "30100", amount: "0.01", timeInForce: "gtc" },
      ),
    );
    const id = Number(created.body.id);
    expect(await balances(api)).toEqual({ USDT: ["1000", "0"] });

    await tradeAt("30000");
    const fired = await priceOrderWhen(api, id, (p) => p.status === "finish", "it to fire");
    expect(fired).toMatchObject({ status: "finish", reason: "triggered" });
    expect(fired.firedOrderId).toBeGreaterThan(0);
    expect(fired.ftime).toBeGreaterThanOrEqual(fired.ctime ?? 0);
    expect(ids((await api.listSpotPriceTriggeredOrders("finished")).body)).toEqual([id]);
    expect((await api.listSpotPriceTriggeredOrders("open")).body).toEqual([]);

    // Its order: the put, placed like any other, resting (no ask at 30100), 301 USDT held.
    const orderId = String(fired.firedOrderId);
    const placed = await orderWhen(
      api,
      orderId,
      (o) => o.status === Order.Status.Open,
      "the fired order to rest",
    );
    expect(placed).toMatchObject({
      id: orderId,
      side: "buy",
      type: "limit",
      price: "30100",
      amount: "0.01",
      left: "0.01",
      timeInForce: "gtc",
    });
    await waitFor(async () => (await balances(api)).USDT?.[1] === "301", {
      what: "the fired order's hold",
    });
    expect(await balances(api)).toEqual({ USDT: ["699", "301"] });
    // On the book: the engine has it (the order shows `open` from the moment it is recorded).
    await waitFor(
      async () => {
        const book = (await api.listOrderBook("BTC_USDT", {})).body;
        return JSON.stringify(book.bids) === JSON.stringify([["30100", "0.01"]]);
      },
      { what: "the fired order on the book" },
    );
    // It can no longer be cancelled as a price order.
    expect(
      await api.cancelSpotPriceTriggeredOrder(String(id)).then(() => null, refusal),
    ).toMatchObject({ status: 400, data: { label: "ORDER_CLOSED" } });

    // A seller takes it: 0.01 BTC bought at 30100, less the 0.1 % maker fee in BTC.
    const seller = await gx.trader({ funds: { BTC: 1_000_000n } });
    await spotApi(seller).createOrder(
      Object.assign(new Order(), {
        currencyPair: "BTC_USDT",
        side: Order.Side.Sell,
        amount: "0.01",
        price: "30100",
        timeInForce: Order.TimeInForce.Ioc,
      }),
    );
    const filled = await orderWhen(
      api,
      orderId,
      (o) => o.status === Order.Status.Closed,
      "the fired order to fill",
    );
    expect(filled).toMatchObject({ finishAs: "filled", filledAmount: "0.01", fee: "0.00001" });
    await waitFor(async () => (await balances(api)).BTC !== undefined, {
      what: "the bought BTC",
    });
    expect(await balances(api)).toEqual({ BTC: ["0.00999", "0"], USDT: ["699", "0"] });
  });

  it("fails when it fires without the funds: status failed, BALANCE_NOT_ENOUGH in reason", async () => {
    const trader = await gx.trader({ funds: { USDT: 10_000_000n } }); // 10 USDT
    const api = spotApi(trader);
    // 0.01 BTC at 29000 needs 290 USDT; accepted, since nothing is held until it fires.
    const created = await api.createSpotPriceTriggeredOrder(
      priceOrder(
        "BTC_USDT",
        { price: "29000", rule: "<=" },
        { type: "limit", side: "buy", price: "29000", amount: "0.01", timeInForce: "gtc" },
      ),
    );
    const id = Number(created.body.id);
    await tradeAt("29000");
    const failed = await priceOrderWhen(api, id, (p) => p.status === "failed", "it to fail");
    expect(failed.reason).toMatch(/^BALANCE_NOT_ENOUGH/);
    expect(failed.firedOrderId).toBe(0);
    expect(failed.ftime).toBeGreaterThan(0);
    expect(await balances(api)).toEqual({ USDT: ["10", "0"] });
    const { orders } = schema;
    const placed = await gx.db
      .select({ n: count() })
      .from(orders)
      .where(eq(orders.userId, trader.userId));
    expect(placed[0]?.n).toBe(0);
  });

  it("expires when its expiration runs out before the price is reached", async () => {
    const trader = await gx.trader({ funds: { BTC: 1_000_000n } });
    const api = spotApi(trader);
    const created = await api.createSpotPriceTriggeredOrder(
      priceOrder(
        "BTC_USDT",
        { price: "90000", rule: ">=", expiration: 1 },
        { type: "limit", side: "sell", price: "90000", amount: "0.01", timeInForce: "gtc" },
      ),
    );
    const id = Number(created.body.id);
    const expired = await priceOrderWhen(api, id, (p) => p.status === "expired", "it to expire");
    expect(expired).toMatchObject({
      trigger: { expiration: 1 },
      firedOrderId: 0,
      reason: "expired",
    });
    expect(expired.ftime).toBeGreaterThanOrEqual(expired.ctime ?? 0);
    expect(ids((await api.listSpotPriceTriggeredOrders("finished")).body)).toEqual([id]);
    expect(
      await api.cancelSpotPriceTriggeredOrder(String(id)).then(() => null, refusal),
    ).toMatchObject({ status: 400, data: { label: "ORDER_CLOSED" } });
    expect(await balances(api)).toEqual({ BTC: ["0.01", "0"] });
  });

  it("leaves the ledger reconciled", async () => {
    const run = await runReconciliation(gx.db);
    expect(run.findings).toEqual([]);
    expect(run.status).toBe("clean");
  });
});
