// Every REST endpoint of GATE_API.md against a running exchange (a worker matching and
// settling): status codes, field names, JSON types and decimal strings, pagination, the
// pending/rejected mapping, cancels answered once settled, and each listed error label.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
  waitFor,
} from "./gate-exchange";

let gx: GateExchange;
let maker: GateKey;
let taker: GateKey;
let anon: SignedClient;
let makerClient: SignedClient;
let takerClient: SignedClient;

beforeAll(async () => {
  gx = await startGateExchange();
  maker = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  taker = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  anon = new SignedClient(gx.baseUrl, null);
  makerClient = new SignedClient(gx.baseUrl, maker);
  takerClient = new SignedClient(gx.baseUrl, taker);
});
afterAll(async () => {
  await gx?.stop();
});

const DECIMAL = /^-?\d+(\.\d+)?$/;
type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => value as Obj;
const list = (value: unknown): Obj[] => value as Obj[];

/** Every key present with the JSON type given: "decimal" is a decimal string. */
function expectShape(
  value: unknown,
  shape: Record<string, "string" | "decimal" | "number" | "boolean" | "array" | "object">,
) {
  const o = obj(value);
  for (const [key, type] of Object.entries(shape)) {
    const field = o[key];
    if (type === "decimal") expect(field, key).toMatch(DECIMAL);
    else if (type === "array") expect(Array.isArray(field), key).toBe(true);
    else expect(typeof field, key).toBe(type);
  }
}

const ORDER_SHAPE = {
  id: "string",
  text: "string",
  create_time: "string",
  update_time: "string",
  create_time_ms: "number",
  update_time_ms: "number",
  status: "string",
  currency_pair: "string",
  type: "string",
  account: "string",
  side: "string",
  amount: "decimal",
  price: "decimal",
  time_in_force: "string",
  iceberg: "decimal",
  left: "decimal",
  filled_amount: "decimal",
  fill_price: "decimal",
  filled_total: "decimal",
  avg_deal_price: "decimal",
  fee: "decimal",
  fee_currency: "string",
  point_fee: "decimal",
  gt_fee: "decimal",
  gt_discount: "boolean",
  rebated_fee: "decimal",
  rebated_fee_currency: "string",
  finish_as: "string",
} as const;

async function orderStatus(client: SignedClient, id: string) {
  const answer = await client.get(`/spot/orders/${id}`, "currency_pair=BTC_USDT");
  return obj(answer.body);
}

describe("public endpoints", () => {
  it("GET /spot/time answers the server's time in ms", async () => {
    const before = Date.now();
    const answer = await anon.get("/spot/time");
    expect(answer.status).toBe(200);
    const time = obj(answer.body).server_time as number;
    expect(Number.isInteger(time)).toBe(true);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it("GET /spot/currencies and /spot/currencies/{currency}", async () => {
    const all = await anon.get("/spot/currencies");
    expect(all.status).toBe(200);
    const usdt = list(all.body).find((c) => c.currency === "USDT");
    expect(usdt).toEqual({
      currency: "USDT",
      name: "Tether USD",
      delisted: false,
      withdraw_disabled: false,
      withdraw_delayed: false,
      deposit_disabled: false,
      trade_disabled: false,
      chain: "USDT",
    });
    expect((await anon.get("/spot/currencies/USDT")).body).toEqual(usdt);
    const missing = await anon.get("/spot/currencies/NOPE");
    expect([missing.status, obj(missing.body).label]).toEqual([404, "NOT_FOUND"]);
  });

  it("GET /spot/currency_pairs and /spot/currency_pairs/{pair}, /margin/currency_pairs is []", async () => {
    const pairs = await anon.get("/spot/currency_pairs");
    expect(pairs.status).toBe(200);
    const btc = list(pairs.body).find((p) => p.id === "BTC_USDT");
    expect(btc).toMatchObject({
      id: "BTC_USDT",
      base: "BTC",
      quote: "USDT",
      fee: "0.2",
      min_base_amount: "0.0001",
      min_quote_amount: "1",
      amount_precision: 4,
      precision: 2,
      trade_status: "tradable",
    });
    expectShape(btc, { max_quote_amount: "decimal", sell_start: "number", buy_start: "number" });
    expect((await anon.get("/spot/currency_pairs/BTC_USDT")).body).toEqual(btc);
    const unknown = await anon.get("/spot/currency_pairs/DOGE_USDT");
    expect([unknown.status, obj(unknown.body).label]).toEqual([400, "INVALID_CURRENCY_PAIR"]);
    const margin = await anon.get("/margin/currency_pairs");
    expect([margin.status, margin.body]).toEqual([200, []]);
  });
});

describe("trading through the API", () => {
  let sellId = "";

  it("POST /spot/orders answers 201 with the Order, open at once", async () => {
    const answer = await makerClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      type: "limit",
      account: "spot",
      side: "sell",
      amount: "0.03",
      price: "30000",
      text: "t-maker-1",
      time_in_force: "gtc",
    });
    expect(answer.status).toBe(201);
    expectShape(answer.body, ORDER_SHAPE);
    expect(answer.body).toMatchObject({
      text: "t-maker-1",
      status: "open",
      finish_as: "open",
      currency_pair: "BTC_USDT",
      type: "limit",
      account: "spot",
      side: "sell",
      amount: "0.03",
      price: "30000",
      left: "0.03",
      filled_amount: "0",
      avg_deal_price: "0",
      fee_currency: "USDT",
    });
    const order = obj(answer.body);
    expect(order.create_time).toBe(String(Math.floor((order.create_time_ms as number) / 1000)));
    sellId = order.id as string;
    await waitFor(async () => (await orderStatus(makerClient, sellId)).status === "open", {
      what: "the sell to rest",
    });
  });

  it("GET /spot/order_book lists it with the book's id; GET /spot/tickers shows the ask", async () => {
    await waitFor(
      async () =>
        list(obj((await anon.get("/spot/order_book", "currency_pair=BTC_USDT")).body).asks).length >
        0,
      { what: "the ask in the book" },
    );
    const book = await anon.get("/spot/order_book", "currency_pair=BTC_USDT&limit=5&with_id=true");
    expect(book.status).toBe(200);
    expectShape(book.body, {
      id: "number",
      current: "number",
      update: "number",
      asks: "array",
      bids: "array",
    });
    expect(obj(book.body).asks).toEqual([["30000", "0.03"]]);
    const withoutId = await anon.get("/spot/order_book", "currency_pair=BTC_USDT");
    expect("id" in obj(withoutId.body)).toBe(false);
    const tickers = await anon.get("/spot/tickers", "currency_pair=BTC_USDT");
    expect(tickers.status).toBe(200);
    expect(list(tickers.body)).toHaveLength(1);
    expect(list(tickers.body)[0]).toMatchObject({ currency_pair: "BTC_USDT", lowest_ask: "30000" });
    const all = await anon.get("/spot/tickers");
    expect(list(all.body).map((t) => t.currency_pair)).toEqual(["BTC_USDT", "ETH_USDT"]);
  });

  it("a crossing buy trades; avg_deal_price, fills, fees and both sides' views are right", async () => {
    const buy = await takerClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30100",
      text: "t-taker-1",
    });
    expect(buy.status).toBe(201);
    const id = obj(buy.body).id as string;
    const filled = await waitFor(
      async () => {
        const o = await orderStatus(takerClient, id);
        return o.status === "closed" && o;
      },
      { what: "the buy to fill" },
    );
    expect(filled).toMatchObject({
      finish_as: "filled",
      filled_amount: "0.01",
      left: "0",
      filled_total: "300",
      avg_deal_price: "30000",
      fee: "0.00002",
      fee_currency: "BTC",
    });
    // By client text too.
    expect((await orderStatus(takerClient, "t-taker-1")).id).toBe(id);
    // Someone else's order does not exist for them.
    const foreign = await makerClient.get(`/spot/orders/${id}`, "currency_pair=BTC_USDT");
    expect([foreign.status, obj(foreign.body).label]).toEqual([404, "ORDER_NOT_FOUND"]);

    const trades = await anon.get("/spot/trades", "currency_pair=BTC_USDT");
    expect(trades.status).toBe(200);
    const [trade] = list(trades.body);
    expectShape(trade, {
      id: "string",
      create_time: "string",
      create_time_ms: "string",
      amount: "decimal",
      price: "decimal",
    });
    expect(trade).toMatchObject({
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
    });
    expect(trade?.create_time_ms).toMatch(/^\d{13}\.\d{3}$/);

    const mine = await takerClient.get("/spot/my_trades", "currency_pair=BTC_USDT");
    expect(list(mine.body)).toHaveLength(1);
    expect(list(mine.body)[0]).toMatchObject({
      id: trade?.id,
      side: "buy",
      role: "taker",
      amount: "0.01",
      price: "30000",
      order_id: id,
      fee: "0.00002",
      fee_currency: "BTC",
      point_fee: "0",
      gt_fee: "0",
      text: "t-taker-1",
    });
    const theirs = await makerClient.get(
      "/spot/my_trades",
      `currency_pair=BTC_USDT&order_id=${sellId}`,
    );
    expect(list(theirs.body)[0]).toMatchObject({
      side: "sell",
      role: "maker",
      fee: "0.3",
      fee_currency: "USDT",
      order_id: sellId,
    });

    const accounts = await takerClient.get("/spot/accounts");
    expect(accounts.status).toBe(200);
    expect(list(accounts.body)).toEqual([
      { currency: "BTC", available: "1.00998", locked: "0", update_id: expect.any(Number) },
      { currency: "USDT", available: "9700", locked: "0", update_id: expect.any(Number) },
    ]);
    const one = await takerClient.get("/spot/accounts", "currency=ETH");
    expect(one.body).toEqual([{ currency: "ETH", available: "0", locked: "0", update_id: 0 }]);
  });

  it("GET /spot/candlesticks has the trade as rows of strings", async () => {
    const answer = await anon.get(
      "/spot/candlesticks",
      "currency_pair=BTC_USDT&interval=1m&limit=10",
    );
    expect(answer.status).toBe(200);
    const [row] = answer.body as string[][];
    expect(row).toHaveLength(8);
    expect(row?.slice(1)).toEqual(["300", "30000", "30000", "30000", "30000", "0.01", "false"]);
    expect(row?.every((cell) => typeof cell === "string")).toBe(true);
    const both = await anon.get("/spot/candlesticks", "currency_pair=BTC_USDT&limit=10&from=1");
    expect([both.status, obj(both.body).label]).toEqual([400, "INVALID_PARAM_VALUE"]);
  });

  it("open orders: GET /spot/orders?status=open and /spot/open_orders grouped by pair", async () => {
    const open = await makerClient.get("/spot/orders", "currency_pair=BTC_USDT&status=open");
    expect(open.status).toBe(200);
    expect(list(open.body).map((o) => [o.id, o.left, o.filled_amount])).toEqual([
      [sellId, "0.02", "0.01"],
    ]);
    const grouped = await makerClient.get("/spot/open_orders");
    expect(grouped.body).toEqual([
      { currency_pair: "BTC_USDT", total: 1, orders: [expect.objectContaining({ id: sellId })] },
    ]);
    const finished = await takerClient.get(
      "/spot/orders",
      "currency_pair=BTC_USDT&status=finished&limit=1&page=1",
    );
    expect(list(finished.body).map((o) => o.finish_as)).toEqual(["filled"]);
    const missing = await takerClient.get("/spot/orders", "currency_pair=BTC_USDT");
    expect([missing.status, obj(missing.body).label]).toEqual([400, "MISSING_REQUIRED_PARAM"]);
  });

  it("DELETE /spot/orders/{id} answers once the cancel is settled: cancelled", async () => {
    const answer = await makerClient.delete(`/spot/orders/${sellId}`, "currency_pair=BTC_USDT");
    expect(answer.status).toBe(200);
    expectShape(answer.body, ORDER_SHAPE);
    expect(answer.body).toMatchObject({
      id: sellId,
      status: "cancelled",
      finish_as: "cancelled",
      left: "0.02",
      filled_amount: "0.01",
    });
    const again = await makerClient.delete(`/spot/orders/${sellId}`, "currency_pair=BTC_USDT");
    expect([again.status, obj(again.body).label]).toEqual([400, "ORDER_CLOSED"]);
  });

  it("DELETE /spot/orders cancels all of a pair's (one side) and lists them cancelled", async () => {
    for (const price of ["29000", "29100"]) {
      const placed = await makerClient.post("/spot/orders", {
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.01",
        price,
      });
      expect(placed.status).toBe(201);
    }
    const sell = await makerClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "sell",
      amount: "0.01",
      price: "31000",
    });
    const answer = await makerClient.delete("/spot/orders", "currency_pair=BTC_USDT&side=buy");
    expect(answer.status).toBe(200);
    expect(list(answer.body).map((o) => [o.side, o.status, o.finish_as])).toEqual([
      ["buy", "cancelled", "cancelled"],
      ["buy", "cancelled", "cancelled"],
    ]);
    const still = await orderStatus(makerClient, obj(sell.body).id as string);
    expect(still.status).toBe("open");
  });

  it("a market buy spends quote; a post-only that would take is refused", async () => {
    const ask = await makerClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "sell",
      amount: "0.02",
      price: "30000",
    });
    expect(ask.status).toBe(201);
    await waitFor(
      async () =>
        list(obj((await anon.get("/spot/order_book", "currency_pair=BTC_USDT")).body).asks)
          .length >= 2,
      {
        what: "the asks in the book",
      },
    );
    const poc = await takerClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
      time_in_force: "poc",
    });
    expect([poc.status, obj(poc.body).label]).toEqual([400, "POC_FILL_IMMEDIATELY"]);
    const market = await takerClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      type: "market",
      amount: "300",
      time_in_force: "ioc",
    });
    expect(market.status).toBe(201);
    expect(market.body).toMatchObject({
      type: "market",
      amount: "300",
      price: "0",
      time_in_force: "ioc",
    });
    const done = await waitFor(
      async () => {
        const o = await orderStatus(takerClient, obj(market.body).id as string);
        return o.status !== "open" && o;
      },
      { what: "the market buy to end" },
    );
    expect(done).toMatchObject({
      status: "closed",
      finish_as: "filled",
      filled_amount: "0.01",
      filled_total: "300",
      avg_deal_price: "30000",
      left: "0",
    });
  });

  it("refusals carry gate.io's labels and statuses", async () => {
    const cases: Array<[unknown, number, string]> = [
      [
        { currency_pair: "BTC_USDT", side: "buy", amount: "0.01", price: "30000.001" },
        400,
        "INVALID_PRECISION",
      ],
      [
        { currency_pair: "BTC_USDT", side: "buy", amount: "0.00001", price: "30000" },
        400,
        "INVALID_PRECISION",
      ],
      [
        { currency_pair: "BTC_USDT", side: "buy", amount: "0.0001", price: "1" },
        400,
        "AMOUNT_TOO_LITTLE",
      ],
      [
        { currency_pair: "BTC_USDT", side: "buy", amount: "100", price: "29900" },
        400,
        "BALANCE_NOT_ENOUGH",
      ],
      [
        { currency_pair: "NOPE_USDT", side: "buy", amount: "1", price: "1" },
        400,
        "INVALID_CURRENCY_PAIR",
      ],
      [{ currency_pair: "BTC_USDT", amount: "1", price: "1" }, 400, "MISSING_REQUIRED_PARAM"],
      [
        { currency_pair: "BTC_USDT", side: "buy", amount: 0.01, price: "30000" },
        400,
        "INVALID_PARAM_VALUE",
      ],
      [
        {
          currency_pair: "BTC_USDT",
          side: "buy",
          amount: "0.01",
          price: "30000",
          account: "margin",
        },
        400,
        "INVALID_PARAM_VALUE",
      ],
    ];
    for (const [body, status, label] of cases) {
      const answer = await takerClient.post("/spot/orders", body);
      expect([answer.status, obj(answer.body).label], JSON.stringify(body)).toEqual([
        status,
        label,
      ]);
    }
    const missingOrder = await takerClient.get("/spot/orders/999999", "currency_pair=BTC_USDT");
    expect([missingOrder.status, obj(missingOrder.body).label]).toEqual([404, "ORDER_NOT_FOUND"]);
    const noEndpoint = await anon.get("/spot/nothing");
    expect([noEndpoint.status, obj(noEndpoint.body).label]).toEqual([404, "NOT_FOUND"]);
    const badLimit = await anon.get("/spot/order_book", "currency_pair=BTC_USDT&limit=101");
    expect([badLimit.status, obj(badLimit.body).label]).toEqual([400, "INVALID_PARAM_VALUE"]);
  });

  it("every answer carries gate.io's rate-limit headers and no internals", async () => {
    const answer = await anon.get("/spot/time");
    expect(Number(answer.headers.get("x-gate-ratelimit-limit"))).toBeGreaterThan(0);
    expect(Number(answer.headers.get("x-gate-ratelimit-requests-remain"))).toBeGreaterThanOrEqual(
      0,
    );
    expect(answer.headers.get("x-gate-ratelimit-reset-timestamp")).toMatch(/^\d{13}$/);
    expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
