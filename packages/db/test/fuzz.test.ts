// Every function @spotx/db exports answers bad input with a LedgerError label (issue 11, item 6):
// thousands of random inputs — mostly well-formed with one field replaced by junk (a number or a
// float where a bigint belongs, amounts at and past 2^63, ids of 2^64, unknown users and assets,
// bad enums, NULs, objects without a prototype) — and not one raw PostgreSQL or JavaScript error.
// The database handle (`db`, `tx`) is the caller's infrastructure, not input: it is always real.
import { randomBytes, randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as api from "../src/index";
import { BTC, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";
import { lastSeq, placeLimit, placeMarket } from "./trading";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:fuzz:${randomUUID()}:` });
const serverKey = randomBytes(32);
let trader: bigint;
let frozen: bigint;
let orderIds: bigint[] = [];
let withdrawalId: bigint;
let accountIds: bigint[] = [];
let sealed: string;
let passwordHash: string;
const LOW_COST = { N: 1024, r: 8, p: 1 };

beforeAll(async () => {
  f = await createFixture();
  trader = await createUser(f.db);
  frozen = await createUser(f.db);
  const seller = await createUser(f.db);
  for (const user of [trader, seller]) {
    await fund(f.db, user, "USDT", USDT("1000000"));
    await fund(f.db, user, "BTC", BTC("100"));
  }
  await f.db.execute(sql`UPDATE users SET status = 'frozen' WHERE id = ${frozen}`);
  const orders = [
    await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.5", "30000"),
    await placeLimit(f.db, f.btcUsdt, trader, "buy", "0.5", "30000"),
    await placeLimit(f.db, f.btcUsdt, trader, "buy", "0.1", "29000"),
    await placeMarket(f.db, f.btcUsdt, trader, "buy", "1000"),
    await placeMarket(f.db, f.btcUsdt, seller, "sell", "0.1"),
  ];
  orderIds = orders.map((o) => o.id);
  const { withdrawal } = await api.requestWithdrawal(f.db, {
    userId: trader,
    asset: "USDT",
    amount: USDT("10"),
    address: "0xfuzz",
    ref: randomUUID(),
  });
  withdrawalId = withdrawal.id;
  const accounts = await f.db.execute<{ id: bigint }>(sql`SELECT id FROM accounts ORDER BY id`);
  accountIds = accounts.rows.map((r) => r.id);
  sealed = api.sealSecret("s3cret", serverKey);
  // A test's own low cost: verifying it 60 times at the production cost would take most of a minute.
  passwordHash = await api.hashPassword("correct horse", LOW_COST);
}, 60_000);
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

const nastyConstants: unknown[] = [
  2n ** 63n,
  2n ** 63n - 1n,
  2n ** 64n,
  -(2n ** 63n) - 1n,
  -1n,
  0n,
  1.5,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  2 ** 53 + 2,
  "",
  " ",
  "\u0000",
  "'; DROP TABLE users; --",
  "1e400",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "x".repeat(10_000),
  [],
  {},
  Object.create(null),
  null,
  undefined,
  true,
  Symbol("junk"),
  new Date(Number.NaN),
  () => 1,
];

const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...nastyConstants) },
  { weight: 2, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.string() },
  {
    weight: 1,
    arbitrary: fc.anything({
      withBigInt: true,
      withDate: true,
      withNullPrototype: true,
      withTypedArray: true,
      withMap: true,
      withSet: true,
      withBoxedValues: true,
      withSparseArray: true,
    }),
  },
);

/** Mostly `valid`, sometimes junk: well-formed input with the odd field broken. */
const maybe = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: junk });
/** A record whose fields are each maybe-junk, sometimes the whole thing junk. */
const input = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  maybe(
    fc.record(
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, maybe(v)])),
    ) as fc.Arbitrary<Record<string, unknown>>,
  );

const userId = () => fc.constantFrom(trader, frozen, f.operatorId, 987_654_321n);
const asset = fc.constantFrom("BTC", "USDT", "ETH", "DOGE");
const market = fc.constantFrom("BTC_USDT", "ETH_USDT", "DOGE_USDT", "btc_usdt");
const amount = fc.oneof(
  fc.bigInt({ min: 1n, max: 10n ** 12n }),
  fc.constantFrom(1n, 10_000n, 2n ** 62n, 2n ** 63n - 1n),
);
const text = fc.string({ minLength: 1, maxLength: 30 });
const orderId = () =>
  fc.oneof(fc.constantFrom(...orderIds), fc.bigInt({ min: 1n, max: 10n ** 6n }));
const fence = () =>
  input({
    resource: fc.oneof(fc.constant(`account:${trader}`), text),
    token: fc.bigInt({ min: 0n, max: 10n ** 6n }),
    owner: text,
  });

function events(): fc.Arbitrary<unknown> {
  const seq = fc.bigInt({ min: 1n, max: 3n }); // relative: last_seq + this, filled in at call time
  const trade = input({
    kind: fc.constant("trade"),
    seq,
    tradeId: fc.bigInt({ min: 1n, max: 10n ** 6n }),
    makerOrderId: orderId(),
    takerOrderId: orderId(),
    makerUserId: userId(),
    takerUserId: userId(),
    takerSide: fc.constantFrom("buy", "sell"),
    priceTicks: fc.oneof(fc.constant(3_000_000n), amount),
    qtyLots: fc.oneof(fc.constant(100n), amount),
    quoteAmount: fc.oneof(fc.constant(USDT("300")), amount),
    time: fc.date(),
  });
  const other = input({
    kind: fc.constantFrom("order_accepted", "order_finished", "order_rejected", "noop", "bogus"),
    seq,
    orderId: orderId(),
    finishAs: fc.constantFrom("filled", "cancelled", "ioc", "fok", "open", "stp"),
    status: fc.constantFrom("closed", "cancelled", undefined),
    reason: text,
  });
  return maybe(fc.array(fc.oneof(trade, other), { maxLength: 6 }));
}

/** Turns relative sequence numbers into ones continuing the market's, so checks run deep. */
async function sequenced(market: unknown, raw: unknown): Promise<unknown> {
  if (!Array.isArray(raw) || typeof market !== "string") return raw;
  const last = await lastSeq(f.db, market).catch(() => 0n);
  return raw.map((e: unknown, i) => {
    if (typeof e !== "object" || e === null || Array.isArray(e)) return e;
    const event = e as Record<string, unknown>;
    return typeof event.seq === "bigint" && event.seq <= 3n
      ? { ...event, seq: last + BigInt(i) + event.seq }
      : event;
  });
}

const tx = <T>(work: (t: api.Transaction) => Promise<T>) => f.db.transaction(work);

type Case = { runs: number; args: () => fc.Arbitrary<unknown[]>; call: (a: unknown[]) => unknown };
const A = (...arbs: fc.Arbitrary<unknown>[]) => fc.tuple(...arbs) as fc.Arbitrary<unknown[]>;
// Loosely typed on purpose: the point is to call typed functions with anything.
// biome-ignore lint/suspicious/noExplicitAny: fuzzing calls typed functions with untyped input
const any = (fn: unknown) => fn as (...args: any[]) => unknown;

/** One entry per exported function: how many inputs, what they look like, how to call. */
const cases: Record<string, Case> = {
  createApiKey: {
    runs: 60,
    args: () =>
      A(
        maybe(fc.constant(serverKey)),
        input({
          userId: userId(),
          permissions: fc.array(fc.constantFrom("read", "trade", "admin"), { maxLength: 3 }),
          ipAllowlist: fc.option(fc.array(fc.ipV4(), { maxLength: 3 })),
          label: fc.string({ maxLength: 20 }),
        }),
      ),
    call: ([key, i]) => any(api.createApiKey)(f.db, key, i),
  },
  findApiKey: {
    runs: 60,
    args: () => A(maybe(fc.constant(serverKey)), maybe(fc.stringMatching(/^[0-9a-f]{0,32}$/))),
    call: ([key, k]) => any(api.findApiKey)(f.db, key, k),
  },
  revokeApiKey: {
    runs: 60,
    args: () => A(maybe(userId()), maybe(fc.stringMatching(/^[0-9a-f]{0,32}$/))),
    call: ([u, k]) => any(api.revokeApiKey)(f.db, u, k),
  },
  sealSecret: {
    runs: 300,
    args: () => A(maybe(text), maybe(fc.constant(serverKey))),
    call: ([s, k]) => any(api.sealSecret)(s, k),
  },
  openSecret: {
    runs: 300,
    args: () =>
      A(
        maybe(fc.oneof(fc.constant(sealed), fc.base64String(), text)),
        maybe(fc.oneof(fc.constant(serverKey), fc.constant(randomBytes(32)))),
      ),
    call: ([s, k]) => any(api.openSecret)(s, k),
  },
  candleStart: {
    runs: 500,
    args: () => A(maybe(fc.constantFrom("1m", "7d", "30d", "2m")), maybe(fc.date())),
    call: ([i, t]) => any(api.candleStart)(i, t),
  },
  isCandleInterval: { runs: 300, args: () => A(junk), call: ([v]) => api.isCandleInterval(v) },
  createDatabase: { runs: 200, args: () => A(junk), call: ([p]) => any(api.createDatabase)(p) },
  database: { runs: 1, args: () => A(), call: () => api.database() },
  databaseUrls: {
    runs: 300,
    args: () =>
      A(
        maybe(
          fc.record({
            DATABASE_URL: fc.option(fc.oneof(fc.constant("postgres://a:b@h/d"), fc.string())),
            DATABASE_OWNER_URL: fc.option(fc.string(), { nil: undefined }),
            LOG_LEVEL: fc.option(fc.constantFrom("info", "loud"), { nil: undefined }),
          }),
        ),
      ),
    call: ([s]) => any(api.databaseUrls)(s),
  },
  isLedgerError: {
    runs: 300,
    args: () => A(junk, junk),
    call: ([e, l]) => any(api.isLedgerError)(e, l),
  },
  checkFence: {
    runs: 100,
    args: () => A(fence()),
    call: ([fc_]) => tx((t) => any(api.checkFence)(t, fc_) as Promise<void>),
  },
  withAccountLock: {
    runs: 60,
    args: () =>
      A(
        maybe(fc.constant(locks)),
        maybe(userId()),
        maybe(fc.constant(async () => 1)),
        input({
          ttlMs: fc.integer({ min: 1, max: 5_000 }),
          waitMs: fc.integer({ min: 0, max: 50 }),
        }),
      ),
    call: ([l, u, w, o]) => any(api.withAccountLock)(l, u, w, o),
  },
  accountLockResource: {
    runs: 300,
    args: () => A(maybe(userId())),
    call: ([u]) => any(api.accountLockResource)(u),
  },
  adjust: {
    runs: 60,
    args: () =>
      A(
        input({
          userId: fc.constant(trader),
          asset,
          amount: fc.oneof(
            amount,
            amount.map((a) => -a),
          ),
          reason: text,
          operatorId: userId(),
          ref: text,
          findingId: fc.bigInt({ min: 1n, max: 100n }),
          fence: fence(),
        }),
      ),
    call: ([i]) => any(api.adjust)(f.db, i),
  },
  adjustWithLock: {
    runs: 60,
    args: () =>
      A(
        maybe(fc.constant(locks)),
        input({
          userId: userId(),
          asset,
          amount: fc.oneof(
            amount,
            amount.map((a) => -a),
          ),
          reason: text,
          operatorId: fc.oneof(fc.constant(f.operatorId), userId()),
          ref: text,
        }),
      ),
    call: ([l, i]) => any(api.adjustWithLock)(f.db, l, i),
  },
  deposit: {
    runs: 100,
    args: () => A(input({ userId: userId(), asset, amount, ref: text })),
    call: ([i]) => any(api.deposit)(f.db, i),
  },
  holdFunds: {
    runs: 80,
    args: () =>
      A(input({ userId: userId(), asset, amount, ref: text, kind: fc.constantFrom("hold", "x") })),
    call: ([i]) => tx((t) => any(api.holdFunds)(t, i) as Promise<unknown>),
  },
  releaseFunds: {
    runs: 80,
    args: () => A(input({ userId: userId(), asset, amount, ref: text })),
    call: ([i]) => tx((t) => any(api.releaseFunds)(t, i) as Promise<unknown>),
  },
  postTransfer: {
    runs: 80,
    args: () => {
      const entry = input({
        accountId: fc.constantFrom(...accountIds, 987_654n),
        asset,
        bucket: fc.constantFrom("available", "locked"),
        amount: fc.bigInt({ min: -1000n, max: 1000n }),
      });
      const change = input({
        accountId: fc.constantFrom(...accountIds),
        available: fc.bigInt({ min: -1000n, max: 1000n }),
        locked: fc.bigInt({ min: -1000n, max: 1000n }),
      });
      return A(
        input({
          kind: fc.constantFrom("adjustment", "trade", "bogus"),
          ref: text,
          entries: fc.array(entry, { maxLength: 4 }),
          userChanges: fc.array(change, { maxLength: 3 }),
          insufficient: fc.constant(() => new api.LedgerError("BALANCE_NOT_ENOUGH", "short")),
        }),
      );
    },
    call: ([t]) => tx((x) => any(api.postTransfer)(x, t) as Promise<unknown>),
  },
  systemAccountId: {
    runs: 80,
    args: () => A(maybe(fc.constantFrom("external", "fees", "adjustment", "user")), maybe(asset)),
    call: ([k, a]) => tx((t) => any(api.systemAccountId)(t, k, a) as Promise<unknown>),
  },
  userAccountId: {
    runs: 80,
    args: () => A(maybe(userId()), maybe(asset)),
    call: ([u, a]) => tx((t) => any(api.userAccountId)(t, u, a) as Promise<unknown>),
  },
  writeAudit: {
    runs: 60,
    args: () =>
      A(
        input({
          actorId: fc.oneof(fc.constant(null), userId()),
          action: text,
          subject: text,
          details: fc.oneof(fc.jsonValue(), junk),
        }),
      ),
    call: ([e]) => tx((t) => any(api.writeAudit)(t, e) as Promise<unknown>),
  },
  loadMarketRules: {
    runs: 60,
    args: () => A(maybe(fc.option(fc.array(market), { nil: undefined }))),
    call: ([s]) => any(api.loadMarketRules)(f.db, s),
  },
  createAsset: {
    runs: 80,
    args: () =>
      A(
        input({
          symbol: fc.stringMatching(/^[A-Z]{2,5}$/),
          name: text,
          decimals: fc.integer({ min: -2, max: 20 }),
          depositEnabled: fc.boolean(),
        }),
      ),
    call: ([i]) => any(api.createAsset)(f.db, i),
  },
  createMarket: {
    runs: 80,
    args: () =>
      A(
        input({
          symbol: fc.constantFrom("ETH_BTC", "BTC_ETH", "ETH_USDT", "X_Y"),
          base: fc.constantFrom("ETH", "BTC"),
          quote: fc.constantFrom("BTC", "ETH", "USDT"),
          pricePrecision: fc.integer({ min: -1, max: 20 }),
          amountPrecision: fc.integer({ min: -1, max: 20 }),
          minBaseLots: amount,
          minQuoteAmount: amount,
          makerFeePpm: fc.integer({ min: -1, max: 200_000 }),
          takerFeePpm: fc.integer({ min: 0, max: 100_000 }),
        }),
      ),
    call: ([i]) => any(api.createMarket)(f.db, i),
  },
  // Only markets that do not exist (or cannot): a delisting is for good, and the cases after
  // this one trade BTC_USDT and ETH_USDT.
  delistMarket: {
    runs: 40,
    args: () =>
      A(
        maybe(fc.constantFrom("DOGE_USDT", "btc_usdt", "X_Y")),
        maybe(input({ topic: text, payload: fc.jsonValue() })),
      ),
    call: ([m, c]) => tx((t) => any(api.delistMarket)(t, m, c) as Promise<unknown>),
  },
  loadMarket: {
    runs: 100,
    args: () => A(maybe(market)),
    call: ([m]) => any(api.loadMarket)(f.db, m),
  },
  loadMarkets: {
    runs: 100,
    args: () => A(maybe(fc.array(maybe(market), { maxLength: 4 }))),
    call: ([m]) => any(api.loadMarkets)(f.db, m),
  },
  migrateDatabase: {
    runs: 40,
    args: () =>
      A(
        maybe(fc.oneof(fc.constant(f.test.ownerUrl), fc.string())),
        maybe(fc.record({ appUrl: fc.oneof(fc.constant(f.test.url), fc.webUrl()) })),
      ),
    call: ([u, o]) => any(api.migrateDatabase)(u, o),
  },
  jsonSafe: {
    runs: 500,
    args: () => A(fc.oneof(junk, fc.constant(cyclic()))),
    call: ([v]) => api.jsonSafe(v),
  },
  hashPassword: {
    runs: 40,
    args: () =>
      A(
        maybe(fc.string({ maxLength: 20 })),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(LOW_COST) },
          { weight: 1, arbitrary: fc.constant(undefined) },
          {
            weight: 4,
            arbitrary: fc.record({
              N: maybe(fc.constant(1024)),
              r: maybe(fc.constant(8)),
              p: junk,
            }),
          },
          { weight: 1, arbitrary: junk },
        ),
      ),
    call: ([p, cost]) => any(api.hashPassword)(p, cost),
  },
  passwordNeedsRehash: {
    runs: 200,
    args: () =>
      A(
        fc.oneof(
          fc.constant(passwordHash),
          fc.constantFrom("scrypt$131072$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5", "scrypt$$$$$"),
          junk,
        ),
      ),
    call: ([s]) => any(api.passwordNeedsRehash)(s),
  },
  verifyPassword: {
    runs: 60,
    args: () =>
      A(
        maybe(fc.constantFrom("correct horse", "wrong")),
        maybe(
          fc.oneof(
            fc.constant(passwordHash),
            fc.constantFrom("scrypt$1048576$64$16$aa$bb", "scrypt$3$8$1$c2FsdA$a2V5a2V5a2V5a2V5"),
            fc.string(),
          ),
        ),
      ),
    call: ([p, s]) => any(api.verifyPassword)(p, s),
  },
  placeOrders: {
    runs: 300,
    args: () => A(maybe(fc.array(orderInput(), { maxLength: 8 }))),
    call: ([i]) => any(api.placeOrders)(f.db, i),
  },
  ordersByText: {
    runs: 200,
    args: () =>
      A(
        maybe(
          fc.array(
            fc.oneof(
              input({ userId: userId(), market, text }),
              fc.record({ userId: userId(), market: fc.constant("BTC_USDT"), text }),
            ),
            { maxLength: 6 },
          ),
        ),
        fc.oneof(fc.constant(new Date()), fc.constant(new Date(Number.NaN)), junk),
      ),
    call: ([n, now]) => any(api.ordersByText)(f.db, n, now),
  },
  accountBook: {
    runs: 200,
    args: () =>
      A(
        input({
          userId: userId(),
          asset,
          from: fc.oneof(
            fc.date({ min: new Date("1969-12-31"), max: new Date("2100-01-01") }),
            fc.date(),
          ),
          to: fc.option(fc.date({ min: new Date("1969-12-31"), max: new Date("9999-02-01") }), {
            nil: undefined,
          }),
          sources: fc.array(
            fc.constantFrom("trade", "trade_fee", "order_rejected", "deposit", "new_order"),
            { maxLength: 4 },
          ),
          offset: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer()),
          limit: fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer()),
        }),
      ),
    call: ([q]) => any(api.accountBook)(f.db, q),
  },
  placeOrderHold: {
    runs: 80,
    args: () => A(orderInput()),
    call: ([i]) => any(api.placeOrderHold)(f.db, i),
  },
  runReconciliation: {
    runs: 15,
    args: () => A(maybe(fc.record({ fence: fence() }, { requiredKeys: [] }))),
    call: ([o]) => any(api.runReconciliation)(f.db, o),
  },
  runReconciliationExclusive: {
    runs: 15,
    args: () =>
      A(
        maybe(fc.constant(locks)),
        input({
          waitMs: fc.integer({ min: 0, max: 10 }),
          ttlMs: fc.integer({ min: 1, max: 60_000 }),
        }),
      ),
    call: ([l, o]) => any(api.runReconciliationExclusive)(f.db, l, o),
  },
  seedDemo: { runs: 2, args: () => A(), call: () => api.seedDemo(f.db) },
  applySettlementBatch: {
    runs: 500,
    args: () =>
      A(
        maybe(fc.constantFrom("BTC_USDT", "ETH_USDT")),
        events(),
        maybe(
          fc.record(
            {
              epoch: fc.bigInt({ min: 0n, max: 5n }),
              offset: fc.bigInt({ min: 0n, max: 10n ** 9n }),
            },
            { requiredKeys: [] },
          ),
        ),
      ),
    call: async ([m, e, o]) => any(api.applySettlementBatch)(f.db, m, await sequenced(m, e), o),
  },
  settleTrade: {
    runs: 100,
    args: () =>
      A(
        input({
          market: fc.constantFrom("BTC_USDT", "ETH_USDT"),
          seq: fc.bigInt({ min: 1n, max: 3n }),
          tradeId: fc.bigInt({ min: 1n, max: 10n ** 6n }),
          makerOrderId: orderId(),
          takerOrderId: orderId(),
          makerUserId: userId(),
          takerUserId: userId(),
          takerSide: fc.constantFrom("buy", "sell"),
          priceTicks: fc.oneof(fc.constant(3_000_000n), amount),
          qtyLots: fc.oneof(fc.constant(100n), amount),
          quoteAmount: fc.oneof(fc.constant(USDT("300")), amount),
          time: fc.date(),
        }),
      ),
    call: async ([t]) => {
      const [seqd] = (await sequenced((t as { market?: unknown } | null)?.market, [
        t,
      ])) as unknown[];
      return any(api.settleTrade)(f.db, seqd);
    },
  },
  feeFor: {
    runs: 500,
    args: () =>
      A(
        maybe(fc.bigInt({ min: 0n, max: 10n ** 20n })),
        maybe(fc.integer({ min: -5, max: 2_000_000 })),
      ),
    call: ([r, p]) => any(api.feeFor)(r, p),
  },
  formatMinor: {
    runs: 500,
    args: () => A(maybe(fc.bigInt()), maybe(fc.integer({ min: -2, max: 40 }))),
    call: ([m, d]) => any(api.formatMinor)(m, d),
  },
  parseDecimal: {
    runs: 500,
    args: () =>
      A(
        maybe(fc.oneof(fc.stringMatching(/^\d{1,30}(\.\d{0,20})?$/), fc.string())),
        maybe(fc.integer({ min: -2, max: 40 })),
      ),
    call: ([t, d]) => any(api.parseDecimal)(t, d),
  },
  marketScales: {
    runs: 500,
    args: () =>
      A(
        input({
          symbol: fc.constant("BTC_USDT"),
          base: fc.constant("BTC"),
          quote: fc.constant("USDT"),
          baseDecimals: fc.integer({ min: -1, max: 40 }),
          quoteDecimals: fc.integer({ min: -1, max: 40 }),
          pricePrecision: fc.integer({ min: -1, max: 40 }),
          amountPrecision: fc.integer({ min: -1, max: 40 }),
        }),
      ),
    call: ([m]) => any(api.marketScales)(m),
  },
  lotsToBaseMinor: {
    runs: 500,
    args: () => A(maybe(fc.bigInt()), maybe(fc.constant(f.btcUsdt))),
    call: ([l, s]) => any(api.lotsToBaseMinor)(l, s),
  },
  quoteMinorFor: {
    runs: 500,
    args: () => A(maybe(fc.bigInt()), maybe(fc.bigInt()), maybe(fc.constant(f.btcUsdt))),
    call: ([p, l, s]) => any(api.quoteMinorFor)(p, l, s),
  },
  requestWithdrawal: {
    runs: 80,
    args: () => A(input({ userId: userId(), asset, amount, address: text, ref: text })),
    call: ([i]) => any(api.requestWithdrawal)(f.db, i),
  },
  decideWithdrawalFenced: {
    runs: 60,
    args: () =>
      A(
        input({
          withdrawalId: fc.oneof(fc.constant(withdrawalId), fc.bigInt({ min: 1n, max: 100n })),
          operatorId: fc.oneof(fc.constant(f.operatorId), userId()),
          decision: fc.constantFrom("approve", "reject", "maybe"),
          reason: text,
          fence: fence(),
        }),
      ),
    call: ([i]) => any(api.decideWithdrawalFenced)(f.db, i),
  },
  decideWithdrawal: {
    runs: 60,
    args: () =>
      A(
        maybe(fc.constant(locks)),
        input({
          withdrawalId: fc.oneof(fc.constant(withdrawalId), fc.bigInt({ min: 1n, max: 100n })),
          operatorId: fc.oneof(fc.constant(f.operatorId), userId()),
          decision: fc.constantFrom("approve", "reject"),
          reason: text,
        }),
      ),
    call: ([l, i]) => any(api.decideWithdrawal)(f.db, l, i),
  },
};

function orderInput() {
  return input({
    userId: userId(),
    market,
    side: fc.constantFrom("buy", "sell", "short"),
    type: fc.constantFrom("limit", "market", "stop"),
    timeInForce: fc.constantFrom("gtc", "ioc", "poc", "fok", "day"),
    priceTicks: fc.oneof(fc.constant(3_000_000n), amount),
    amount,
    text: fc.string({ maxLength: 12 }),
    stpAct: fc.constantFrom("cn", "co", "cb", "xx"),
    outbox: fc.record({ topic: text, payload: fc.constant((o: { id: bigint }) => ({ id: o.id })) }),
  });
}

function cyclic() {
  const value: Record<string, unknown> = { a: 1n };
  value.self = value;
  return value;
}

// Classes and constants are not calls; every exported function must have a case.
const NOT_FUNCTIONS = new Set(["LedgerError"]);

describe("every exported function answers bad input with a label", () => {
  it("covers the whole public surface", () => {
    const functions = Object.entries(api)
      .filter(([name, value]) => typeof value === "function" && !NOT_FUNCTIONS.has(name))
      .map(([name]) => name)
      .sort();
    expect(Object.keys(cases).sort()).toEqual(functions);
  });

  let total = 0;
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: ${c.runs} random inputs, only labelled errors`, async () => {
      const unlabelled: string[] = [];
      await fc.assert(
        fc.asyncProperty(c.args(), async (args) => {
          total += 1;
          try {
            await c.call(args);
          } catch (error) {
            if (!api.isLedgerError(error) || !api.LEDGER_LABELS.includes(error.label)) {
              unlabelled.push(
                error instanceof Error ? `${error.name}: ${error.message}` : String(error),
              );
              throw error;
            }
          }
        }),
        { numRuns: c.runs, seed: 1_105 },
      );
      expect(unlabelled).toEqual([]);
    }, 60_000);
  }

  it("ran thousands of inputs in all", () => {
    expect(total).toBeGreaterThanOrEqual(Object.values(cases).reduce((sum, c) => sum + c.runs, 0));
    expect(total).toBeGreaterThan(5_000);
  });
});
