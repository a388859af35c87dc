// Fuzzing every tRPC procedure's input with fast-check. For each procedure of the trader's
// routers, a valid input is broken field by field — wrong types, negative, zero and huge amounts,
// too many decimals, unicode where a symbol or a number belongs, control characters, fields left
// out, fields nobody asked for — and each broken input must be refused with a labelled client
// error (4xx, never SERVER_ERROR), changing nothing: the tables that hold money, orders and
// accounts are fingerprinted before and after. Fully random values (fc.anything) go at every
// procedure too, the admin router's included (as an operator), and a share of all inputs travels
// the real HTTP path (superjson, the route handler's context, CSRF header and cookies).
//
// A trader-router procedure that takes input and has no entry in FIELDS fails the test by name.
import { randomUUID } from "node:crypto";
import { CANDLE_INTERVALS, createApiKey, requestWithdrawal } from "@spotx/db";
import { callTRPCProcedure, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CSRF_HEADER } from "../src/auth/csrf";
import { CLIENT_IP_HEADER } from "../src/auth/http-context";
import { SESSION_COOKIE } from "../src/auth/session-cookies";
import type { Context, Session } from "../src/context";
import { errorLabel } from "../src/errors";
import { handleTrpcRequest } from "../src/http-handler";
import { appRouter } from "../src/root";
import { type ApiFixture, startApiFixture, type TestUser } from "./api-fixture";

// ------------------------------------------------------------------ broken values, by kind

const junk = fc.string({ unit: "grapheme", maxLength: 24 });
const wrongTypes = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 2 }),
);
/** A string field given anything but a string. */
const notString = wrongTypes;
const not = (pattern: RegExp) => junk.filter((s) => !pattern.test(s));

const badDecimal = fc.oneof(
  notString,
  fc.constantFrom("-1", "-0.5", "0", "0.0", "0.000", "00", "1e5", "1E-3", " 1", "1 ", "1,5"),
  fc.constantFrom("NaN", "Infinity", "0x10", "+1", "1.", ".5", "", "１２", "٣", "1_000"),
  // More decimals than any asset (9 at most) or market has.
  fc.integer({ min: 1, max: 20 }).map((k) => `0.${"0".repeat(k + 8)}1`),
  // Far beyond any balance or the engine's bounds.
  fc.integer({ min: 25, max: 80 }).map((n) => "9".repeat(n)),
  not(/^[0-9]+(\.[0-9]+)?$/),
);
const badMarket = fc.oneof(
  notString,
  fc.constantFrom("btc_usdt", "BTCUSDT", "BTC-USDT", "", "BTC_", "_USDT", "DOGE_USDT", "ABC_DEF"),
  fc.constantFrom("BTC_USDT ", "ＢＴＣ_USDT", "BTC_USDT\u0000", "BTC_ETH"),
  junk.filter((s) => s !== "BTC_USDT" && s !== "ETH_USDT"),
);
const badAsset = fc.oneof(
  notString,
  fc.constantFrom("btc", "XRP", "", "B", "BTC ", "ＢＴＣ", "BTC_USDT"),
  junk.filter((s) => !["BTC", "ETH", "USDT"].includes(s)),
);
const badEnum = (values: readonly string[]) =>
  fc.oneof(
    notString,
    fc.constantFrom(...values.map((v) => v.toUpperCase()), "", " "),
    junk.filter((s) => !values.includes(s)),
  );
const badId = fc.oneof(
  notString,
  fc.constantFrom("0", "-1", "1.5", "01", "１", "1e3", "", " 1", "0x1"),
  fc.integer({ min: 19, max: 40 }).map((n) => "9".repeat(n)),
  not(/^[1-9][0-9]{0,17}$/),
);
const badOrderRef = fc.oneof(
  notString,
  fc.constantFrom("", "x".repeat(41), "abc", "-1", "1.5", "t-", "T-abc"),
  junk.filter((s) => !/^\d{1,18}$/.test(s) && !s.startsWith("t-")),
);
const badEmail = fc.oneof(
  notString,
  fc.constantFrom("", "no-at", "a@", "@b.c", "a b@c.d", "a@b", "a@@b.c"),
  fc.integer({ min: 250, max: 400 }).map((n) => `${"a".repeat(n)}@x.io`),
  junk.filter((s) => !s.includes("@")),
);
const badPassword = fc.oneof(
  notString,
  fc.constant(""),
  fc.integer({ min: 1_025, max: 1_500 }).map((n) => "p".repeat(n)),
);
const badNewPassword = fc.oneof(badPassword, fc.string({ minLength: 1, maxLength: 7 }));
const badText = (max: number, min = 0) =>
  fc.oneof(
    notString,
    fc.integer({ min: max + 1, max: max + 60 }).map((n) => "x".repeat(n)),
    fc.string({ maxLength: 10 }).map((s) => `${s}\u0000`),
    fc.constantFrom("a\nb", "tab\there", "\u007f"),
    ...(min > 0 ? [fc.constant("")] : []),
  );
const badClientText = fc.oneof(
  notString,
  fc.constantFrom("", "t-", "x-abc", `t-${"a".repeat(29)}`, "t-héllo", "t-a b", "t-\u0000"),
  not(/^t-[A-Za-z0-9_.-]{1,28}$/),
);
const badClientRef = fc.oneof(
  notString,
  fc.constantFrom("", "a b", "x".repeat(65), "ünï"),
  not(/^[A-Za-z0-9_.-]{1,64}$/),
);
const badPermissions = fc.oneof(
  wrongTypes,
  fc.constantFrom([], ["read", "read"], ["admin"], ["read", "trade", "read"], [""], [null]),
  fc.array(
    junk.filter((s) => s !== "read" && s !== "trade"),
    { minLength: 1, maxLength: 3 },
  ),
);
const badAllowlist = fc.oneof(
  wrongTypes.filter((v) => v !== null),
  fc.constantFrom([], ["10.0.0.0/33"], ["example.com"], ["1.2.3.4/8/9"], ["::1/129"], [1]),
  fc.array(fc.constant("1.2.3.4"), { minLength: 101, maxLength: 105 }),
  fc.array(not(/^[0-9a-fA-F:./]+$/), { minLength: 1, maxLength: 3 }),
);
const badLimit = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 1e9, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
);
const badSeconds = fc.oneof(
  fc.constantFrom(-1, 1.5, 4e10, Number.NaN, Number.NEGATIVE_INFINITY),
  fc.string(),
  fc.constant(null),
);
const badCursor = fc.oneof(
  notString,
  junk,
  fc.integer({ min: 201, max: 300 }).map((n) => "a".repeat(n)),
  fc.constant(Buffer.from('["x","BTC_USDT","1",0]').toString("base64url")),
);
/** A TOTP code field: never six digits once spaces are taken out (that would be a code). */
const badCode = fc.oneof(
  notString,
  fc.constantFrom("", "12345", "1234567", "abcdef", "１２３４５６", "12345x", "-12345"),
  junk.filter((s) => !/^[0-9]{6}$/.test(s.replace(/\s/g, ""))),
);
const badApiKey = fc.oneof(notString, fc.constant("A".repeat(32)), not(/^[0-9a-f]{32}$/));

// ------------------------------------------------------------------ the procedures' fields

type Fixture = {
  owner: TestUser;
  orderId: string;
  /** A waiting stop-limit order of the owner's. */
  stopId: string;
  withdrawalId: string;
  apiKey: string;
};
type Field = { bad: fc.Arbitrary<unknown>; required?: true };
type Spec = { base: (x: Fixture) => Record<string, unknown>; fields: Record<string, Field> };

const required = (bad: fc.Arbitrary<unknown>): Field => ({ bad, required: true });
const optional = (bad: fc.Arbitrary<unknown>): Field => ({ bad });
const page = (cursor = badId) => ({ limit: optional(badLimit), cursor: optional(cursor) });
const marketOnly: Spec = {
  base: () => ({ market: "BTC_USDT" }),
  fields: { market: required(badMarket) },
};

const FIELDS: Record<string, Spec> = {
  "auth.signUp": {
    base: () => ({ email: `fuzz-${randomUUID()}@test.spotx.dev`, password: "long enough" }),
    fields: { email: required(badEmail), password: required(badNewPassword) },
  },
  "auth.logIn": {
    base: (x) => ({ email: x.owner.email, password: x.owner.password }),
    fields: { email: required(badEmail), password: required(badPassword) },
  },
  "auth.changePassword": {
    base: (x) => ({ currentPassword: x.owner.password, newPassword: "another password" }),
    fields: { currentPassword: required(badPassword), newPassword: required(badNewPassword) },
  },
  "auth.logInWithCode": {
    base: () => ({ challenge: "not a challenge", code: "123456" }),
    fields: { challenge: required(badText(2_000, 1)), code: required(badText(40, 1)) },
  },
  "auth.twoFactor.begin": {
    base: (x) => ({ password: x.owner.password }),
    fields: { password: required(badPassword) },
  },
  "auth.twoFactor.confirm": {
    base: () => ({ code: "123456" }),
    fields: { code: required(badCode) },
  },
  "auth.twoFactor.disable": {
    base: (x) => ({ password: x.owner.password, code: "123456" }),
    fields: { password: required(badPassword), code: required(badText(40, 1)) },
  },
  "markets.get": marketOnly,
  "markets.ticker": marketOnly,
  "markets.depth": {
    base: () => ({ market: "BTC_USDT", limit: 10 }),
    fields: { market: required(badMarket), limit: optional(badLimit) },
  },
  "markets.trades": {
    base: () => ({ market: "BTC_USDT" }),
    fields: { market: required(badMarket), limit: optional(badLimit), before: optional(badId) },
  },
  "markets.candles": {
    base: () => ({ market: "BTC_USDT", interval: "1m" }),
    fields: {
      market: required(badMarket),
      interval: required(badEnum(CANDLE_INTERVALS)),
      limit: optional(badLimit),
      from: optional(badSeconds),
      to: optional(badSeconds),
    },
  },
  "orders.place": {
    base: () => ({ market: "BTC_USDT", side: "buy", amount: "0.001", price: "20000" }),
    fields: {
      market: required(badMarket),
      side: required(badEnum(["buy", "sell"])),
      type: optional(badEnum(["limit", "market"])),
      amount: required(badDecimal),
      price: optional(badDecimal),
      timeInForce: optional(badEnum(["gtc", "ioc", "poc", "fok"])),
      text: optional(badClientText),
      stpAct: optional(badEnum(["cn", "co", "cb"])),
    },
  },
  "orders.cancel": {
    base: (x) => ({ market: "BTC_USDT", orderId: x.orderId }),
    fields: { market: required(badMarket), orderId: required(badOrderRef) },
  },
  "orders.cancelAll": {
    base: () => ({ market: "BTC_USDT" }),
    fields: { market: required(badMarket), side: optional(badEnum(["buy", "sell"])) },
  },
  "orders.amend": {
    base: (x) => ({ market: "BTC_USDT", orderId: x.orderId, price: "20001" }),
    fields: {
      market: required(badMarket),
      orderId: required(badOrderRef),
      price: optional(badDecimal),
      amount: optional(badDecimal),
      amendText: optional(badText(40, 1)),
    },
  },
  "orders.placeStop": {
    base: () => ({
      market: "BTC_USDT",
      side: "buy",
      triggerPrice: "31000",
      price: "31100",
      amount: "0.001",
    }),
    fields: {
      market: required(badMarket),
      side: required(badEnum(["buy", "sell"])),
      triggerPrice: required(badDecimal),
      rule: optional(badEnum([">=", "<="])),
      price: required(badDecimal),
      amount: required(badDecimal),
      timeInForce: optional(badEnum(["gtc", "ioc"])),
      expiration: optional(badSeconds),
    },
  },
  "orders.stops": {
    base: () => ({ market: "BTC_USDT" }),
    fields: { market: required(badMarket), limit: optional(badLimit) },
  },
  "orders.cancelStop": { base: (x) => ({ id: x.stopId }), fields: { id: required(badId) } },
  "orders.open": { base: () => ({}), fields: { market: optional(badMarket), ...page() } },
  "orders.history": {
    base: () => ({}),
    fields: {
      market: optional(badMarket),
      side: optional(badEnum(["buy", "sell"])),
      from: optional(badSeconds),
      to: optional(badSeconds),
      ...page(),
    },
  },
  "orders.fills": {
    base: () => ({}),
    fields: { market: optional(badMarket), orderId: optional(badId), ...page(badCursor) },
  },
  "account.ledger": { base: () => ({}), fields: { asset: optional(badAsset), ...page() } },
  "account.demoDeposit": {
    base: () => ({ asset: "USDT", amount: "10" }),
    fields: { asset: required(badAsset), amount: required(badDecimal) },
  },
  "account.requestWithdrawal": {
    base: () => ({ asset: "USDT", amount: "1", address: "0xfuzz" }),
    fields: {
      asset: required(badAsset),
      amount: required(badDecimal),
      address: required(badText(200, 1)),
      clientRef: optional(badClientRef),
      totpCode: optional(badCode),
    },
  },
  "account.withdrawals": {
    base: () => ({}),
    fields: { status: optional(badEnum(["pending", "completed", "rejected"])), ...page() },
  },
  "account.withdrawal": { base: (x) => ({ id: x.withdrawalId }), fields: { id: required(badId) } },
  "account.apiKeys.create": {
    base: () => ({ permissions: ["read"] }),
    fields: {
      permissions: required(badPermissions),
      ipAllowlist: optional(badAllowlist),
      label: optional(badText(100)),
      totpCode: optional(badCode),
    },
  },
  "account.apiKeys.revoke": {
    base: (x) => ({ key: x.apiKey }),
    fields: { key: required(badApiKey) },
  },
};

/** A field's breakage: a bad value, or — for a required field, one time in five — leaving it out. */
function changeOf(field: Field | undefined): fc.Arbitrary<{ set: unknown } | { drop: true }> {
  if (!field) throw new Error("no such field");
  const set = field.bad.map((value) => ({ set: value }));
  if (!field.required) return set;
  return fc.oneof(
    { weight: 4, arbitrary: set },
    { weight: 1, arbitrary: fc.constant({ drop: true as const }) },
  );
}

/** A valid input with at least one field broken: a value of the wrong kind, left out, or unasked for. */
function brokenInput(spec: Spec, x: Fixture): fc.Arbitrary<unknown> {
  const names = Object.keys(spec.fields);
  const breakage = fc.record(
    Object.fromEntries(
      names.map((name) => [
        name,
        fc.option(changeOf(spec.fields[name]), { nil: undefined, freq: 2 }),
      ]),
    ),
  );
  const extra = fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.anything()), {
    nil: undefined,
    freq: 4,
  });
  return fc
    .tuple(breakage, extra)
    .filter(
      ([changes, added]) =>
        Object.values(changes).some((c) => c !== undefined) ||
        (added !== undefined && !(added[0] in spec.fields)),
    )
    .map(([changes, added]) => {
      const input: Record<string, unknown> = { ...spec.base(x) };
      for (const [name, change] of Object.entries(changes)) {
        if (change === undefined) continue;
        if ("drop" in change) delete input[name];
        else input[name] = change.set;
      }
      if (added && !(added[0] in spec.fields)) input[added[0]] = added[1];
      return input;
    });
}

// ------------------------------------------------------------------ the exchange under fuzz

let f: ApiFixture;
let x: Fixture;
let operator: TestUser;
const PROCEDURES = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: "query" | "mutation" | "subscription"; inputs: unknown[] } } | undefined
>;
const tally = { brokenInProcess: 0, randomInProcess: 0, overHttp: 0, rawHttp: 0, serverErrors: 0 };

beforeAll(async () => {
  f = await startApiFixture();
  const owner = await f.createUser("trader", "active", "the owner's password");
  operator = await f.createUser("operator");
  await f.fund(owner.id, "USDT", 1_000_000_000n);
  await f.fund(owner.id, "BTC", 100_000_000n);
  const order = await f.trading.placeOrder(owner.id, {
    market: "BTC_USDT",
    side: "buy",
    amount: "0.001",
    price: "20000",
  });
  const withdrawal = await requestWithdrawal(f.db, {
    userId: owner.id,
    asset: "USDT",
    amount: 1_000_000n,
    address: "0xowner",
    ref: `u${owner.id}:fuzz`,
  });
  const key = await createApiKey(f.db, f.services.apiKeySealingKey, {
    userId: owner.id,
    permissions: ["read"],
  });
  const stop = await f.trading.placePriceOrder(owner.id, {
    market: "BTC_USDT",
    trigger: { price: "31000", rule: ">=" },
    put: { type: "limit", side: "buy", price: "31100", amount: "0.001" },
  });
  x = {
    owner,
    orderId: String(order.order.id),
    stopId: String(stop.id),
    withdrawalId: String(withdrawal.withdrawal.id),
    apiKey: key.key,
  };
});
afterAll(async () => {
  console.info(
    `fuzz: ${tally.brokenInProcess} broken inputs and ${tally.randomInProcess} random inputs in-process, ` +
      `${tally.overHttp} + ${tally.rawHttp} over HTTP; server errors: ${tally.serverErrors}`,
  );
  await f?.stop();
});

/** A fingerprint of every table a request could change money, orders or accounts in. */
async function fingerprint(): Promise<string> {
  const tables = [
    "balances",
    "orders",
    "price_orders",
    "outbox",
    "withdrawals",
    "api_keys",
    "users",
    "transfers",
  ];
  const parts = [];
  for (const table of tables) {
    const row = await f.db.execute<{ digest: string | null; n: string }>(
      sql.raw(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest, count(*)::text AS n
                 FROM ${table} t`),
    );
    parts.push(`${table}:${row.rows[0]?.n}:${row.rows[0]?.digest}`);
  }
  const counts = await f.db.execute<{ entries: string; trades: string; audit: string }>(sql`
    SELECT (SELECT count(*) FROM ledger_entries)::text AS entries,
           (SELECT count(*) FROM trades)::text AS trades,
           (SELECT count(*) FROM audit_log)::text AS audit`);
  return `${parts.join(" ")} ${JSON.stringify(counts.rows[0])}`;
}

async function sessionFor(user: TestUser): Promise<Session> {
  return f.sessionOf(user);
}

async function contextAs(user: TestUser): Promise<Context> {
  return f.context(await sessionFor(user));
}

/** Calls in-process; the outcome must be success or a labelled client error. */
async function callWith(path: string, ctx: Context, input: unknown) {
  const procedure = PROCEDURES[path];
  if (!procedure) throw new Error(`no procedure ${path}`);
  try {
    await callTRPCProcedure({
      router: appRouter,
      path,
      type: procedure._def.type,
      ctx,
      getRawInput: async () => input,
      signal: undefined,
      batchIndex: 0,
    });
    return { ok: true as const };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const status = getHTTPStatusCodeFromError(error);
    const label = errorLabel(error);
    if (status >= 500 || label === "SERVER_ERROR") tally.serverErrors += 1;
    return { ok: false as const, status, label, message: error.message };
  }
}

const show = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))?.slice(0, 300);

const fuzzed = Object.keys(FIELDS).sort();
const ownRouters = (path: string) => !path.startsWith("admin.");

describe("fuzzing tRPC inputs", () => {
  it("has a field list for every trader procedure that takes input", () => {
    const missing = Object.entries(PROCEDURES)
      .filter(([path, p]) => ownRouters(path) && (p?._def.inputs.length ?? 0) > 0)
      .map(([path]) => path)
      .filter((path) => !(path in FIELDS));
    expect(missing, `procedures with input but no fuzz fields: ${missing.join(", ")}`).toEqual([]);
  });

  it.each(fuzzed)("%s refuses 150 broken inputs with a label and changes nothing", async (path) => {
    const spec = FIELDS[path];
    if (!spec) throw new Error(`no spec for ${path}`);
    const before = await fingerprint();
    const ctx = await contextAs(x.owner);
    await fc.assert(
      fc.asyncProperty(brokenInput(spec, x), async (input) => {
        tally.brokenInProcess += 1;
        const outcome = await callWith(path, ctx, input);
        if (outcome.ok) throw new Error(`${path} accepted ${show(input)}`);
        if (outcome.status >= 500 || outcome.status < 400) {
          throw new Error(`${path} answered ${outcome.status} ${outcome.label} to ${show(input)}`);
        }
        expect(outcome.label).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: 150 },
    );
    expect(await fingerprint()).toBe(before);
  });

  it("answers fully random inputs to every procedure (the admin router's as an operator) without a server error", async () => {
    const before = await fingerprint();
    const traderCtx = await contextAs(x.owner);
    const operatorCtx = await contextAs(operator);
    // Procedures that take no input ignore what is sent: nothing to fuzz there.
    const withInput = Object.entries(PROCEDURES)
      .filter(([, p]) => (p?._def.inputs.length ?? 0) > 0)
      .map(([path]) => path)
      .sort();
    for (const path of withInput) {
      const ctx = ownRouters(path) ? traderCtx : operatorCtx;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.anything({ withBigInt: true, withNullPrototype: true }), wrongTypes),
          async (input) => {
            tally.randomInProcess += 1;
            const outcome = await callWith(path, ctx, input);
            if (!outcome.ok) {
              if (outcome.status >= 500 || outcome.status < 400) {
                throw new Error(
                  `${path} answered ${outcome.status} ${outcome.label} to ${show(input)}`,
                );
              }
            }
          },
        ),
        { numRuns: 40 },
      );
    }
    expect(await fingerprint()).toBe(before);
  });

  it("refuses broken inputs over HTTP with a 4xx and a label, changing nothing", async () => {
    const before = await fingerprint();
    const session = await sessionFor(x.owner);
    const access = await f.services.sessionTokens.sign(session, 900);
    // JSON carries only JSON: inputs that reach the server as they are (no undefined to drop,
    // no NaN turned null, no bigint), so each is still broken on arrival.
    const jsonOnly = (value: unknown): boolean => {
      if (value === null || typeof value === "string" || typeof value === "boolean") return true;
      if (typeof value === "number") return Number.isFinite(value);
      if (Array.isArray(value)) return value.every(jsonOnly);
      if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) {
        return false;
      }
      return Object.values(value).every(jsonOnly);
    };
    for (const path of fuzzed) {
      const spec = FIELDS[path];
      const procedure = PROCEDURES[path];
      if (!spec || !procedure) continue;
      await fc.assert(
        fc.asyncProperty(brokenInput(spec, x).filter(jsonOnly), async (input) => {
          tally.overHttp += 1;
          const body = JSON.stringify({ json: input });
          const query = procedure._def.type === "query";
          const url = `http://localhost/api/trpc/${path}${query ? `?input=${encodeURIComponent(body)}` : ""}`;
          const response = await handleTrpcRequest(
            new Request(url, {
              method: query ? "GET" : "POST",
              headers: {
                "content-type": "application/json",
                cookie: `${SESSION_COOKIE}=${access}`,
                [CSRF_HEADER]: "1",
                [CLIENT_IP_HEADER]: "192.0.2.99",
              },
              body: query ? undefined : body,
            }),
            { services: f.services, db: f.db },
          );
          const answer = (await response.json()) as {
            error?: { json?: { data?: { label?: string } } };
          };
          if (response.status >= 500) tally.serverErrors += 1;
          expect(response.status, `${path} ${show(input)}`).toBeGreaterThanOrEqual(400);
          expect(response.status, `${path} ${show(input)}`).toBeLessThan(500);
          expect(answer.error?.json?.data?.label).toMatch(/^[A-Z_]+$/);
        }),
        { numRuns: 20 },
      );
    }
    expect(await fingerprint()).toBe(before);
  });

  it("refuses bodies that are not tRPC's at all with a labelled 400", async () => {
    const bodies = [
      "",
      "{",
      "null",
      "[]",
      '{"json":',
      '{"json":{"asset":"USDT","amount":"10"},"meta":{"values":{"amount":["bigint"]}}}',
      '{"json":{"asset":"USDT"},"meta":{"values":"not an object"}}',
      "\u0000\u0001",
      "x".repeat(100_000),
    ];
    const access = await f.services.sessionTokens.sign(await sessionFor(x.owner), 900);
    for (const body of bodies) {
      tally.rawHttp += 1;
      const response = await handleTrpcRequest(
        new Request("http://localhost/api/trpc/account.demoDeposit", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            cookie: `${SESSION_COOKIE}=${access}`,
            [CSRF_HEADER]: "1",
          },
          body,
        }),
        { services: f.services, db: f.db },
      );
      const answer = (await response.json()) as {
        error?: { json?: { data?: { label?: string } } };
      };
      expect(response.status, body.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(response.status, body.slice(0, 40)).toBeLessThan(500);
      expect(answer.error?.json?.data?.label).toMatch(/^[A-Z_]+$/);
    }
    expect(tally.serverErrors).toBe(0);
  });
});
