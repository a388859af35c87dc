// Thousands of malformed requests to every REST route (fast-check): wrong types, huge, negative
// and zero amounts, too many decimals, unicode, missing fields, oversized bodies, bad
// signatures. Each must be answered 4xx with one of gate.io's labels — never a 5xx — and none
// may change a balance, an order or the outbox (the tables are compared before and after).
import { GATE_LABEL_STATUS } from "@spotx/api/gate";
import { putRateLimitSettings } from "@spotx/api/guards/rate-limits";
import { decimalToUnits } from "@spotx/engine/decimal";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GateExchange, type GateKey, SignedClient, startGateExchange } from "./gate-exchange";

let gx: GateExchange;
let trader: GateKey;
let client: SignedClient;
const tally = { requests: 0, byStatus: new Map<number, number>(), serverErrors: [] as string[] };

const LABELS = new Set(Object.keys(GATE_LABEL_STATUS));
const RUNS = Number(process.env.GATE_FUZZ_RUNS ?? 250);

beforeAll(async () => {
  // No worker: a malformed request must change nothing, and nothing else runs to change it.
  gx = await startGateExchange({ worker: false, cancelWaitMs: 100 });
  const unlimited = { points: 10_000_000, duration: 1 };
  await putRateLimitSettings(gx.exchange.etcd, gx.exchange.names, {
    reads: { ip: unlimited, user: unlimited, key: unlimited },
    orders: { ip: unlimited, user: unlimited, key: unlimited },
  });
  trader = await gx.trader({ funds: { USDT: 1_000_000_000n, BTC: 100_000_000n } });
  client = new SignedClient(gx.baseUrl, trader);
  // The etcd watch applies the limits within moments: wait for them to be in force.
  const deadline = Date.now() + 5_000;
  while ((await client.get("/spot/time")).headers.get("x-gate-ratelimit-limit") !== "10000000") {
    if (Date.now() > deadline) throw new Error("the fuzz test's rate limits never applied");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
afterAll(async () => {
  console.log(
    `gate fuzz: ${tally.requests} malformed requests; statuses ${JSON.stringify(Object.fromEntries(tally.byStatus))}; 5xx: ${tally.serverErrors.length}`,
  );
  await gx?.stop();
});

async function tables() {
  const balances = await gx.db.execute(
    sql`SELECT user_id, asset, available, locked, update_id FROM balances ORDER BY user_id, asset`,
  );
  const orders = await gx.db.execute(sql`SELECT * FROM orders ORDER BY id`);
  const outbox = await gx.db.execute(sql`SELECT count(*)::int AS n FROM outbox`);
  const priceOrders = await gx.db.execute(sql`SELECT * FROM price_orders ORDER BY id`);
  return JSON.stringify(
    {
      balances: balances.rows,
      orders: orders.rows,
      outbox: outbox.rows,
      priceOrders: priceOrders.rows,
    },
    (_, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

/** Sends one request and checks its answer; `malformed` inputs must be refused with a label. */
async function expectRefused(
  method: string,
  path: string,
  options: { query?: string; body?: string; signed?: boolean; sign?: string; malformed?: boolean },
) {
  const who = options.signed === false ? new SignedClient(gx.baseUrl, null) : client;
  const answer = await who.request(method, path, {
    query: options.query,
    body: options.body,
    sign: options.sign,
  });
  tally.requests += 1;
  tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
  const what = `${method} ${path}?${options.query ?? ""} ${options.body?.slice(0, 200) ?? ""} → ${answer.status} ${answer.text.slice(0, 200)}`;
  if (answer.status >= 500) tally.serverErrors.push(what);
  expect(answer.status, what).toBeLessThan(500);
  if (options.malformed !== false) {
    expect(answer.status, what).toBeGreaterThanOrEqual(400);
    const body = answer.body as { label?: string; message?: unknown };
    expect(LABELS.has(body?.label ?? ""), what).toBe(true);
    expect(typeof body.message, what).toBe("string");
    expect(answer.text, what).not.toMatch(/at .+\.(ts|js):\d+|SELECT|postgres|stack/i);
  }
}

// ------------------------------------------------------------------ generators

const junk = fc.oneof(
  fc.constant(""),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom(
    "-1",
    "0",
    "-0",
    "1e400",
    "1e3",
    "NaN",
    "Infinity",
    "9".repeat(40),
    "0.000000000000000001",
    "１２３",
    "' OR 1=1 --",
    "\u0000",
    "x".repeat(3_000),
    "null",
    "true",
    "[]",
    "{}",
    " 1",
    "1,5",
    "0x10",
  ),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
);

/** A value that is never valid for an integer parameter within [min, max]. */
const badInt = (max: number) =>
  fc.oneof(
    fc.integer({ max: 0 }).map(String),
    max < 2_000_000_000
      ? fc.integer({ min: max + 1 }).map(String)
      : fc.constantFrom("9".repeat(19), "18446744073709551616"),
    fc.constantFrom("1.5", "abc", "", "1e2", "-", "+1", "１", "9".repeat(30)),
  );
const badPair = fc.oneof(
  junk.filter((s) => s !== "BTC_USDT" && s !== "ETH_USDT"),
  fc.constantFrom("btc_usdt", "BTC-USDT", "BTC_USDT ", "DOGE_USDT", "BTC_USDT_X"),
);
const badBool = junk.filter((s) => s !== "true" && s !== "false");
/** Never an order book interval: "0" and whole numbers of the pairs' 0.01 tick are valid. */
const badInterval = junk.filter((s) => !decimalToUnits(s, 2).ok);
const badSide = junk.filter((s) => s !== "buy" && s !== "sell");
const badSeconds = fc.oneof(
  fc.integer({ max: -1 }).map(String),
  fc.constantFrom("1.5", "abc", "", "99999999999999999999"),
);

type Params = Record<string, fc.Arbitrary<string>>;

/**
 * A query where one parameter (of those given) is certainly invalid; the others are absent,
 * valid or junk. Encoded as a client would send it.
 */
function malformedQuery(bad: Params, good: Params = {}) {
  const names = Object.keys(bad);
  return fc
    .tuple(
      fc.constantFrom(...names),
      fc.record(bad),
      fc.record(
        Object.fromEntries(
          Object.entries({ ...good }).map(([k, v]) => [
            k,
            fc.option(fc.oneof(v, junk), { nil: undefined }),
          ]),
        ),
      ),
    )
    .map(([target, bads, others]) => {
      const params: Array<[string, string]> = [];
      for (const [k, v] of Object.entries(others))
        if (v !== undefined && k !== target) params.push([k, v]);
      params.push([target, bads[target] ?? ""]);
      return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
    });
}

const pairOk = fc.constantFrom("BTC_USDT", "ETH_USDT");

describe("malformed requests change nothing and are refused with a label", () => {
  let before = "";
  beforeAll(async () => {
    before = await tables();
  });
  afterAll(async () => {
    expect(await tables()).toBe(before);
  });

  const queryRoutes: Array<[string, string, boolean, fc.Arbitrary<string>]> = [
    ["GET", "/spot/tickers", false, malformedQuery({ currency_pair: badPair })],
    [
      "GET",
      "/spot/order_book",
      false,
      malformedQuery(
        {
          currency_pair: badPair,
          limit: badInt(100),
          interval: badInterval,
          with_id: badBool,
        },
        { currency_pair: pairOk },
      ),
    ],
    [
      "GET",
      "/spot/trades",
      false,
      malformedQuery(
        {
          currency_pair: badPair,
          limit: badInt(1000),
          last_id: badInt(Number.MAX_SAFE_INTEGER),
          reverse: badBool,
          from: badSeconds,
          to: badSeconds,
          page: badInt(100_000),
        },
        { currency_pair: pairOk },
      ),
    ],
    [
      "GET",
      "/spot/candlesticks",
      false,
      malformedQuery(
        {
          currency_pair: badPair,
          interval: junk.filter(
            (s) =>
              !["10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d", "30d"].includes(s),
          ),
          limit: badInt(1000),
          from: badSeconds,
          to: badSeconds,
        },
        { currency_pair: pairOk },
      ),
    ],
    [
      "GET",
      "/spot/accounts",
      true,
      malformedQuery({ currency: junk.filter((s) => !["BTC", "USDT", "ETH"].includes(s)) }),
    ],
    [
      "GET",
      "/spot/orders",
      true,
      malformedQuery(
        {
          currency_pair: badPair,
          status: junk.filter((s) => s !== "open" && s !== "finished"),
          page: badInt(100_000),
          limit: badInt(1000),
          from: badSeconds,
          to: badSeconds,
          side: badSide,
          account: junk.filter((s) => s !== "spot"),
        },
        { currency_pair: pairOk, status: fc.constantFrom("open", "finished") },
      ),
    ],
    [
      "DELETE",
      "/spot/orders",
      true,
      malformedQuery(
        { currency_pair: badPair, side: badSide, account: junk.filter((s) => s !== "spot") },
        { currency_pair: pairOk },
      ),
    ],
    [
      "GET",
      "/spot/open_orders",
      true,
      malformedQuery({
        page: badInt(100_000),
        limit: badInt(100),
        account: junk.filter((s) => s !== "spot"),
      }),
    ],
    [
      "GET",
      "/spot/my_trades",
      true,
      malformedQuery(
        {
          currency_pair: badPair,
          limit: badInt(1000),
          page: badInt(100_000),
          order_id: badInt(Number.MAX_SAFE_INTEGER),
          from: badSeconds,
          to: badSeconds,
          account: junk.filter((s) => s !== "spot"),
        },
        { currency_pair: pairOk },
      ),
    ],
    [
      "GET",
      "/spot/account_book",
      true,
      malformedQuery({
        currency: junk.filter((s) => !["BTC", "USDT", "ETH"].includes(s)),
        from: badSeconds,
        to: badSeconds,
        page: badInt(100_000),
        limit: badInt(1000),
        type: junk.filter((s) => !/^[A-Za-z0-9_]{1,64}$/.test(s)),
        code: junk.filter((s) => !/^[A-Za-z0-9_]{1,32}$/.test(s)),
      }),
    ],
    [
      "GET",
      "/spot/price_orders",
      true,
      malformedQuery(
        {
          status: junk.filter((s) => s !== "open" && s !== "finished"),
          market: badPair,
          account: junk.filter((s) => s !== "normal" && s !== "spot"),
          limit: badInt(100),
          offset: fc.oneof(
            fc.integer({ max: -1 }).map(String),
            fc.integer({ min: 100_001 }).map(String),
            fc.constantFrom("1.5", "abc", "", "1e2", "-", "+1", "１"),
          ),
        },
        { status: fc.constantFrom("open", "finished") },
      ),
    ],
    [
      "DELETE",
      "/spot/price_orders",
      true,
      malformedQuery({
        market: badPair,
        account: junk.filter((s) => s !== "normal" && s !== "spot"),
      }),
    ],
    ["GET", "/spot/fee", true, malformedQuery({ currency_pair: badPair })],
    [
      "GET",
      "/wallet/fee",
      true,
      malformedQuery({
        currency_pair: badPair,
        settle: junk.filter((s) => !["BTC", "USDT", "USD", "btc", "usdt", "usd"].includes(s)),
      }),
    ],
    [
      "GET",
      "/spot/batch_fee",
      true,
      malformedQuery({
        currency_pairs: fc.oneof(
          badPair,
          fc.constantFrom(
            "BTC_USDT,DOGE_USDT",
            "BTC_USDT,",
            ",ETH_USDT",
            "BTC_USDT, ETH_USDT",
            Array.from({ length: 51 }, (_, i) => `P${i}_USDT`).join(","),
          ),
        ),
      }),
    ],
  ];

  for (const [method, path, signed, query] of queryRoutes) {
    it(`${method} ${path}`, async () => {
      await fc.assert(
        fc.asyncProperty(query, async (q) => expectRefused(method, path, { query: q, signed })),
        { numRuns: RUNS },
      );
    });
  }

  const pathRoutes: Array<[string, string, boolean]> = [
    ["GET", "/spot/currencies/", false],
    ["GET", "/spot/currency_pairs/", false],
    ["GET", "/spot/orders/", true],
    ["DELETE", "/spot/orders/", true],
    ["GET", "/spot/price_orders/", true],
    ["DELETE", "/spot/price_orders/", true],
  ];
  for (const [method, prefix, signed] of pathRoutes) {
    it(`${method} ${prefix}{…}`, async () => {
      const segment = fc.oneof(
        junk,
        fc.integer({ min: 1 }).map(String),
        fc.constantFrom("t-nothere", "BTC", "BTC_USDT"),
      );
      await fc.assert(
        fc.asyncProperty(
          segment,
          fc.option(malformedQuery({ currency_pair: badPair }), { nil: undefined }),
          async (s, q) => {
            // Existing things are not malformed: a currency or pair that exists is answered 200.
            const exists =
              prefix.includes("currenc") &&
              ["BTC", "USDT", "ETH", "BTC_USDT", "ETH_USDT"].includes(s);
            await expectRefused(method, `${prefix}${encodeURIComponent(s)}`, {
              query: signed ? (q ?? "currency_pair=BTC_USDT") : undefined,
              signed,
              malformed: !exists,
            });
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it("GET of the reference endpoints with junk parameters never fails", async () => {
    const route = fc.constantFrom(
      "/spot/time",
      "/spot/currencies",
      "/spot/currency_pairs",
      "/margin/currency_pairs",
    );
    await fc.assert(
      fc.asyncProperty(route, junk, junk, async (path, k, v) =>
        expectRefused("GET", path, {
          query: `${encodeURIComponent(k)}=${encodeURIComponent(v)}`,
          signed: false,
          malformed: false,
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /spot/orders with malformed bodies", async () => {
    const valid = { currency_pair: "BTC_USDT", side: "buy", amount: "0.01", price: "20000" };
    const badAmount = fc.oneof(
      fc.constantFrom(
        "0",
        "-1",
        "-0.01",
        "1e3",
        "0.00001",
        "1000000",
        "9".repeat(40),
        "１",
        " 1",
        "1,5",
        "",
        ".5",
        "01",
        "NaN",
        "0x1",
      ),
      fc.double().map((d) => d),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const mutation = fc.oneof(
      fc.constantFrom("currency_pair", "side", "amount").map((k) => ({ drop: k })),
      badAmount.map((v) => ({ set: ["amount", v] as [string, unknown] })),
      badAmount
        .filter((v) => v !== "1000000")
        .map((v) => ({ set: ["price", v] as [string, unknown] })),
      fc
        .oneof(badPair, fc.integer(), fc.constant(null))
        .map((v) => ({ set: ["currency_pair", v] as [string, unknown] })),
      fc.oneof(badSide, fc.integer()).map((v) => ({ set: ["side", v] as [string, unknown] })),
      junk
        .filter((s) => s !== "limit" && s !== "market")
        .map((v) => ({ set: ["type", v] as [string, unknown] })),
      fc.constant({ set: ["type", "market"] as [string, unknown] }),
      junk
        .filter((s) => !["gtc", "ioc", "poc", "fok"].includes(s))
        .map((v) => ({ set: ["time_in_force", v] as [string, unknown] })),
      junk.filter((s) => s !== "spot").map((v) => ({ set: ["account", v] as [string, unknown] })),
      fc
        .oneof(
          junk.filter((s) => !/^t-[A-Za-z0-9_.-]{1,28}$/.test(s)),
          fc.constant(`t-${"x".repeat(29)}`),
        )
        .map((v) => ({ set: ["text", v] as [string, unknown] })),
      fc.constantFrom("1", "0.5", 1).map((v) => ({ set: ["iceberg", v] as [string, unknown] })),
      fc.constant({ set: ["auto_borrow", true] as [string, unknown] }),
      junk
        .filter((s) => !["cn", "co", "cb", "-"].includes(s))
        .map((v) => ({ set: ["stp_act", v] as [string, unknown] })),
    );
    const body = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
          const order: Record<string, unknown> = { ...valid };
          for (const m of mutations) {
            if ("drop" in m) delete order[m.drop];
            else order[m.set[0]] = m.set[1];
          }
          return JSON.stringify(order);
        }),
      },
      {
        weight: 2,
        arbitrary: fc
          .oneof(
            fc.constantFrom("", "{", "[]", "1", '"x"', "null", "true", '{"a":', "\u0000"),
            fc.json(),
            fc.string({ unit: "grapheme", maxLength: 200 }),
          )
          .filter(
            (text) =>
              !text.startsWith("{") ||
              text === "{" ||
              text === '{"a":' ||
              text.length < 3 ||
              !text.includes("currency_pair"),
          ),
      },
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => expectRefused("POST", "/spot/orders", { body: text })),
      { numRuns: RUNS * 4 },
    );
  });

  it("batch, amend and countdown bodies: refused, or every item refused on its own line", async () => {
    const order = { currency_pair: "BTC_USDT", side: "buy", amount: "0.01", price: "20000" };
    const badItem = fc.oneof(
      junk,
      fc.integer(),
      fc.constant(null),
      fc.record({
        currency_pair: fc.oneof(badPair, fc.constant("BTC_USDT")),
        side: fc.oneof(badSide, fc.constant("buy")),
        // Never a valid amount, so no item can be placed or amended.
        amount: fc.constantFrom("0", "-1", "1e3", "0.00001", "9".repeat(40), "", "NaN", "1,5"),
        price: fc.oneof(junk, fc.constantFrom("0", "-5", "20000.001")),
        text: fc.oneof(junk, fc.constant("t-fuzz")),
        id: fc.oneof(junk, fc.constantFrom("999999999", "t-nothere")),
        order_id: fc.oneof(junk, fc.constantFrom("999999999", "t-nothere")),
      }),
      fc.constant({ ...order }), // no text: refused in a batch
    );
    const body = fc.oneof(
      fc.array(badItem, { minLength: 1, maxLength: 4 }).map((items) => JSON.stringify(items)),
      fc.constantFrom("", "[]", "{}", "[", "null", '"x"', "1"),
      fc.json().filter((text) => !text.startsWith("[")),
      fc.constant(JSON.stringify(Array.from({ length: 41 }, () => order))),
    );
    const route = fc.constantFrom(
      "/spot/batch_orders",
      "/spot/cancel_batch_orders",
      "/spot/amend_batch_orders",
    );
    await fc.assert(
      fc.asyncProperty(route, body, async (path, text) => {
        const answer = await client.request("POST", path, { body: text });
        tally.requests += 1;
        const what = `POST ${path} ${text.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`;
        if (answer.status >= 500) tally.serverErrors.push(what);
        if (answer.status === 200) {
          const items = answer.body as Array<{ succeeded?: boolean; label?: string }>;
          expect(Array.isArray(items), what).toBe(true);
          for (const item of items) {
            expect(item.succeeded, what).toBe(false);
            expect(LABELS.has(item.label ?? ""), what).toBe(true);
          }
        } else {
          await expectRefused("POST", path, { body: text });
        }
      }),
      { numRuns: RUNS },
    );
    const patch = fc.record(
      {
        currency_pair: fc.oneof(badPair, fc.constant("BTC_USDT")),
        amount: fc.oneof(junk, fc.constantFrom("0", "-1", "0.00001", "1")),
        price: fc.oneof(junk, fc.constantFrom("0", "20000.001", "20000")),
        amend_text: junk,
        account: junk,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(junk, fc.constantFrom("999999999", "t-nothere")),
        fc.oneof(
          patch.map((p) => JSON.stringify(p)),
          fc.constantFrom("", "[]", "null", "{"),
        ),
        async (id, text) =>
          expectRefused("PATCH", `/spot/orders/${encodeURIComponent(id)}`, {
            query: "currency_pair=BTC_USDT",
            body: text,
          }),
      ),
      { numRuns: RUNS },
    );
    const timeout = fc.oneof(
      fc.integer({ min: -1_000, max: 4 }).filter((n) => n !== 0),
      fc.integer({ min: 86_401 }),
      fc.double().filter((d) => !Number.isInteger(d)),
      junk,
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(timeout, fc.option(badPair, { nil: undefined }), async (t, pair) =>
        expectRefused("POST", "/spot/countdown_cancel_all", {
          body: JSON.stringify({
            timeout: t,
            ...(pair !== undefined ? { currency_pair: pair } : {}),
          }),
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /spot/price_orders with malformed bodies", async () => {
    const valid = {
      market: "BTC_USDT",
      trigger: { price: "20000", rule: "<=", expiration: 60 },
      put: { type: "limit", side: "buy", price: "20000", amount: "0.01", account: "normal" },
    };
    // Never a valid decimal for a price or an amount of BTC_USDT (2 and 4 decimals).
    const badDecimal = fc.oneof(
      fc.constantFrom("0", "-1", "-0.01", "1e3", "0.00001", "9".repeat(40), "１", " 1"),
      fc.constantFrom("1,5", "", ".5", "NaN", "0x1"),
      fc.double(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const set = (path: string, value: unknown) => ({ set: [path, value] as [string, unknown] });
    const mutation = fc.oneof(
      fc
        .constantFrom(
          "market",
          "trigger",
          "put",
          "trigger.price",
          "trigger.rule",
          "put.side",
          "put.amount",
          "put.price",
        )
        .map((path) => ({ drop: path })),
      badDecimal.map((v) => set("trigger.price", v)),
      badDecimal.map((v) => set("put.price", v)),
      badDecimal.map((v) => set("put.amount", v)),
      fc.oneof(badPair, fc.integer(), fc.constant(null)).map((v) => set("market", v)),
      junk.filter((s) => s !== ">=" && s !== "<=").map((v) => set("trigger.rule", v)),
      fc
        .oneof(
          fc.integer({ max: -1 }),
          fc.integer({ min: 365 * 86_400 + 1 }),
          fc.double().filter((d) => !Number.isInteger(d)),
          junk,
          fc.constant(null),
        )
        .map((v) => set("trigger.expiration", v)),
      junk.filter((s) => s !== "limit" && s !== "market").map((v) => set("put.type", v)),
      fc.constant(set("put.type", "market")),
      fc.oneof(badSide, fc.integer()).map((v) => set("put.side", v)),
      junk.filter((s) => s !== "normal" && s !== "spot").map((v) => set("put.account", v)),
      junk.filter((s) => s !== "gtc" && s !== "ioc").map((v) => set("put.time_in_force", v)),
      fc
        .oneof(
          junk.filter((s) => !/^[A-Za-z0-9_.-]{1,31}$/.test(s)),
          fc.constant("x".repeat(32)),
        )
        .map((v) => set("put.text", v)),
      fc.constant(set("put.auto_borrow", true)),
      fc.constant(set("put.auto_repay", true)),
      fc
        .tuple(
          fc.constantFrom("trigger", "put"),
          fc.oneof(junk, fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })),
        )
        .map(([part, v]) => set(part, v)),
    );
    const body = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
          const order = structuredClone(valid) as Record<string, unknown>;
          for (const m of mutations) {
            const path = "drop" in m ? m.drop : m.set[0];
            const [head, leaf] = path.split(".") as [string, string | undefined];
            const parent =
              leaf === undefined ? order : (order[head] as Record<string, unknown> | undefined);
            if (typeof parent !== "object" || parent === null) continue;
            const name = leaf ?? head;
            if ("drop" in m) delete parent[name];
            else parent[name] = m.set[1];
          }
          return JSON.stringify(order);
        }),
      },
      {
        weight: 2,
        arbitrary: fc
          .oneof(
            fc.constantFrom("", "{", "[]", "1", '"x"', "null", "true", '{"a":', "\u0000"),
            fc.json(),
            fc.string({ unit: "grapheme", maxLength: 200 }),
          )
          .filter((text) => !text.includes("trigger")),
      },
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) =>
        expectRefused("POST", "/spot/price_orders", { body: text }),
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("oversized bodies and bad signatures", async () => {
    const big = JSON.stringify({
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "20000",
      text: `t-${"x".repeat(70_000)}`,
    });
    await expectRefused("POST", "/spot/orders", { body: big });
    await expectRefused("POST", "/spot/orders", { body: "x".repeat(2 * 1024 * 1024) });
    const routes: Array<[string, string, string]> = [
      ["GET", "/spot/accounts", ""],
      [
        "POST",
        "/spot/orders",
        JSON.stringify({ currency_pair: "BTC_USDT", side: "buy", amount: "0.01", price: "20000" }),
      ],
      ["GET", "/spot/orders", "currency_pair=BTC_USDT&status=open"],
      ["DELETE", "/spot/orders", "currency_pair=BTC_USDT"],
      ["GET", "/spot/open_orders", ""],
      ["GET", "/spot/my_trades", ""],
      [
        "POST",
        "/spot/price_orders",
        JSON.stringify({
          market: "BTC_USDT",
          trigger: { price: "20000", rule: "<=" },
          put: { side: "buy", price: "20000", amount: "0.01" },
        }),
      ],
      ["GET", "/spot/price_orders", "status=open"],
      ["DELETE", "/spot/price_orders", ""],
      ["GET", "/spot/account_book", "type=order_fee"],
      ["GET", "/wallet/fee", "currency_pair=BTC_USDT"],
      ["GET", "/spot/batch_fee", "currency_pairs=BTC_USDT"],
      ["POST", "/spot/batch_orders", JSON.stringify([{ currency_pair: "BTC_USDT", text: "t-a" }])],
      [
        "POST",
        "/spot/cancel_batch_orders",
        JSON.stringify([{ currency_pair: "BTC_USDT", id: "1" }]),
      ],
      ["POST", "/spot/countdown_cancel_all", JSON.stringify({ timeout: 10 })],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(
          // What an HTTP header can carry (a client cannot even send anything else).
          fc.string({
            unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
            maxLength: 200,
          }),
          fc.string({
            unit: fc.constantFrom(..."0123456789abcdef"),
            minLength: 128,
            maxLength: 128,
          }),
        ),
        async ([method, path, extra], sign) => {
          const body = method === "POST" ? extra : undefined;
          const query = method === "POST" ? undefined : extra;
          await expectRefused(method, path, { body, query, sign });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("saw no 5xx at all", () => {
    expect(tally.serverErrors).toEqual([]);
    expect(tally.requests).toBeGreaterThan(RUNS * 15);
  });
});
