// The authorization matrix, generated from the router itself: every procedure in
// appRouter._def.procedures is called as each kind of caller — anonymous, the trader who owns
// the things the input names (trader A), another trader, a frozen trader and an operator — and
// the answer must be what the table below says: "allow", or the label of the refusal. A
// procedure with no entry fails the test by name, so a new procedure cannot ship without
// someone deciding who may call it.
//
// Inputs name trader A's own things (an order, a withdrawal, an API key: made fresh for each
// call), so "another trader" and the operator calling with them show that nobody reaches
// another user's data through these procedures; and nothing any caller but A gets back may
// contain A's markers (email, order texts, withdrawal address, API key).
//
// Extending: one line per procedure, its input and the answer per caller, e.g. for an
// operator-only one: { input: () => ({ … }), anonymous: "LOGIN_REQUIRED", trader: "FORBIDDEN",
// otherTrader: "FORBIDDEN", frozen: "FORBIDDEN", operator: "allow" }.
import { randomUUID } from "node:crypto";
import { createApiKey, createAsset, createMarket, requestWithdrawal, schema } from "@spotx/db";
import { callTRPCProcedure, TRPCError } from "@trpc/server";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFRESH_COOKIE } from "../src/auth/session-cookies";
import { beginEnrolment, disableTwoFactor } from "../src/auth/two-factor";
import type { Context } from "../src/context";
import { type ApiLabel, errorLabel } from "../src/errors";
import { appRouter, createCaller } from "../src/root";
import { type ApiFixture, startApiFixture, type TestUser } from "./api-fixture";

const ROLES = ["anonymous", "trader", "otherTrader", "frozen", "operator"] as const;
type Role = (typeof ROLES)[number];
type Expected = "allow" | ApiLabel;

type Call = { f: ApiFixture; as: TestUser | null; owner: TestUser; marker: string };
type Entry = {
  input?: (call: Call) => Promise<unknown> | unknown;
  /** Puts back what the call changed that later cells rely on (two-factor sign-in on or off). */
  after?: (call: Call) => Promise<void>;
  /** The input itself names trader A (logging in with A's password): A's data is the answer. */
  answersAsOwner?: true;
  /** An operator's view of every user (the admin router): A's data may be in the answer. */
  seesEveryone?: true;
} & Record<Role, Expected>;

/** Anyone, signed in or not. */
const PUBLIC = {
  anonymous: "allow",
  trader: "allow",
  otherTrader: "allow",
  frozen: "allow",
  operator: "allow",
} as const;
/** Any signed-in user, frozen included, on their own data. */
const SIGNED_IN = { ...PUBLIC, anonymous: "LOGIN_REQUIRED" } as const;
/** Signed in and not frozen: trading, deposits, withdrawals, new keys. */
const ACTIVE = { ...SIGNED_IN, frozen: "FORBIDDEN" } as const;
/** Trader A's own thing, named in the input: nobody else finds it. */
const OWNER_ONLY = (notFound: ApiLabel, frozen: ApiLabel = notFound) =>
  ({
    anonymous: "LOGIN_REQUIRED",
    trader: "allow",
    otherTrader: notFound,
    frozen,
    operator: notFound,
  }) as const;

const market = { market: "BTC_USDT" };

/** The operator console's procedures: an active operator only. */
const OPERATOR_ONLY = {
  anonymous: "LOGIN_REQUIRED",
  trader: "FORBIDDEN",
  otherTrader: "FORBIDDEN",
  frozen: "FORBIDDEN",
  operator: "allow",
} as const;
const reason = "authorization matrix";

/** An asset symbol no other call uses. */
const freshSymbol = () => `M${randomUUID().replaceAll("-", "").slice(0, 8).toUpperCase()}`;

/** A new market on a new asset, straight through the ledger. */
async function freshMarket(f: ApiFixture): Promise<string> {
  const base = freshSymbol();
  await createAsset(f.db, { symbol: base, name: "Matrix coin", decimals: 8 });
  const created = await createMarket(f.db, {
    symbol: `${base}_USDT`,
    base,
    quote: "USDT",
    pricePrecision: 2,
    amountPrecision: 4,
    minBaseLots: 1n,
    minQuoteAmount: 1_000_000n,
    makerFeePpm: 1_000,
    takerFeePpm: 2_000,
  });
  return created.symbol;
}

/** A current code for a caller with two-factor sign-in on (the operator), who must give one. */
async function codeOf({ f, as }: Call): Promise<{ totpCode?: string }> {
  return as?.totpSecret ? { totpCode: await f.freshCode(as) } : {};
}

/** An order of A's, resting in BTC_USDT (its `text` carries A's marker). */
async function ownersOrder({ f, owner, marker }: Call) {
  const text = `t-${marker}-${randomUUID().slice(0, 6)}`;
  const placed = await f.trading.placeOrder(owner.id, {
    market: "BTC_USDT",
    side: "buy",
    amount: "0.001",
    price: "20000",
    text,
  });
  return { market: "BTC_USDT", orderId: String(placed.order.id) };
}

/** A stop-limit order of A's, waiting in BTC_USDT. */
async function ownersStop({ f, owner }: Call) {
  const created = await f.trading.placePriceOrder(owner.id, {
    market: "BTC_USDT",
    trigger: { price: "31000", rule: ">=" },
    put: { type: "limit", side: "buy", price: "31100", amount: "0.001" },
  });
  return { id: String(created.id) };
}

const EXPECTED: Record<string, Entry> = {
  "auth.signUp": {
    input: () => ({ email: `new-${randomUUID()}@test.spotx.dev`, password: "long enough" }),
    ...PUBLIC,
  },
  "auth.logIn": {
    input: ({ owner }) => ({ email: owner.email, password: owner.password }),
    answersAsOwner: true,
    ...PUBLIC,
  },
  "auth.logOut": PUBLIC,
  // Every signed-in caller holds a refresh cookie of its own session; anonymous holds none.
  "auth.refresh": SIGNED_IN,
  // With the caller's own password (set again unchanged): a frozen user may change it too.
  "auth.changePassword": {
    input: ({ as, owner }) => ({
      currentPassword: (as ?? owner).password,
      newPassword: (as ?? owner).password,
    }),
    ...SIGNED_IN,
  },
  "auth.me": PUBLIC,
  // A sign-in of someone else's (a fresh user with two-factor sign-in) completed by its code.
  "auth.logInWithCode": {
    input: async ({ f }) => {
      const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
      const [row] = await f.db
        .select({ passwordHash: schema.users.passwordHash })
        .from(schema.users)
        .where(eq(schema.users.id, user.id));
      return {
        challenge: await f.services.loginChallenges.issue(user.id, row?.passwordHash ?? ""),
        code: await f.freshCode(user),
      };
    },
    ...PUBLIC,
  },
  "auth.twoFactor.status": SIGNED_IN,
  // Anyone signed in may enrol (with their own password); the operator is enrolled already.
  "auth.twoFactor.begin": {
    input: ({ as, owner }) => ({ password: (as ?? owner).password }),
    ...SIGNED_IN,
    operator: "TWO_FACTOR_ALREADY_ENABLED",
  },
  "auth.twoFactor.confirm": {
    input: async ({ f, as }) => {
      if (!as || as.totpSecret !== null) return { code: "000000" };
      const { secret } = await beginEnrolment(f.db, f.services.twoFactorSealingKey, as);
      as.totpSecret = secret;
      return { code: await f.freshCode(as) };
    },
    after: async ({ f, as }) => {
      if (as && as.role !== "operator") await setTwoFactorOff(f, as);
    },
    ...SIGNED_IN,
    operator: "TWO_FACTOR_ALREADY_ENABLED",
  },
  "auth.twoFactor.disable": {
    input: async ({ f, as }) => {
      if (!as) return { password: "x", code: "000000" };
      if (as.totpSecret === null) await f.enableTwoFactor(as);
      return { password: as.password, code: await f.freshCode(as) };
    },
    after: async ({ f, as }) => {
      // The operator's console needs it back on; the traders' stays off.
      if (as?.role === "operator") await f.enableTwoFactor(as);
      else if (as) as.totpSecret = null;
    },
    ...SIGNED_IN,
  },

  "markets.list": PUBLIC,
  "markets.get": { input: () => market, ...PUBLIC },
  "markets.ticker": { input: () => market, ...PUBLIC },
  "markets.depth": { input: () => market, ...PUBLIC },
  "markets.trades": { input: () => market, ...PUBLIC },
  "markets.candles": { input: () => ({ ...market, interval: "1m" }), ...PUBLIC },

  "orders.place": {
    input: () => ({ ...market, side: "buy", amount: "0.001", price: "20000" }),
    ...ACTIVE,
  },
  "orders.cancel": { input: ownersOrder, ...OWNER_ONLY("ORDER_NOT_FOUND", "FORBIDDEN") },
  // Cancels the caller's own orders in the market: never A's (checked in the test below too).
  "orders.cancelAll": { input: () => market, ...ACTIVE },
  "orders.amend": {
    input: async (call) => ({ ...(await ownersOrder(call)), price: "20001" }),
    ...OWNER_ONLY("ORDER_NOT_FOUND", "FORBIDDEN"),
  },
  "orders.placeStop": {
    input: () => ({
      ...market,
      side: "buy",
      triggerPrice: "31000",
      price: "31100",
      amount: "0.001",
    }),
    ...ACTIVE,
  },
  "orders.stops": { input: () => market, ...SIGNED_IN },
  "orders.cancelStop": { input: ownersStop, ...OWNER_ONLY("ORDER_NOT_FOUND", "FORBIDDEN") },
  "orders.open": SIGNED_IN,
  "orders.history": SIGNED_IN,
  "orders.fills": SIGNED_IN,

  "account.balances": SIGNED_IN,
  "account.ledger": SIGNED_IN,
  "account.demoDeposit": { input: () => ({ asset: "USDT", amount: "10" }), ...ACTIVE },
  "account.requestWithdrawal": {
    input: async (call) => ({
      asset: "USDT",
      amount: "1",
      address: `addr-${call.as?.id ?? "none"}`,
      ...(await codeOf(call)),
    }),
    ...ACTIVE,
  },
  "account.withdrawals": SIGNED_IN,
  "account.withdrawal": {
    input: async ({ f, owner, marker }) => {
      const made = await requestWithdrawal(f.db, {
        userId: owner.id,
        asset: "USDT",
        amount: 1_000_000n,
        address: `addr-${marker}`,
        ref: `u${owner.id}:${randomUUID()}`,
      });
      return { id: String(made.withdrawal.id) };
    },
    ...OWNER_ONLY("NOT_FOUND"),
  },
  "account.apiKeys.create": {
    input: async (call) => ({ permissions: ["read"], ...(await codeOf(call)) }),
    ...ACTIVE,
  },
  "account.apiKeys.list": SIGNED_IN,
  "account.apiKeys.revoke": {
    input: async ({ f, owner }) => {
      const created = await createApiKey(f.db, f.services.apiKeySealingKey, {
        userId: owner.id,
        permissions: ["read", "trade"],
      });
      ownerKeys.add(created.key);
      return { key: created.key };
    },
    ...OWNER_ONLY("NOT_FOUND"),
  },
};

/** Two-factor sign-in off again for `user` (as disabling it does). */
async function setTwoFactorOff(f: ApiFixture, user: TestUser) {
  await disableTwoFactor(f.db, user.id);
  user.totpSecret = null;
}

/** A pending withdrawal of A's (its address carries A's marker), for the operator to decide. */
async function ownersWithdrawal({ f, owner, marker }: Call) {
  const made = await requestWithdrawal(f.db, {
    userId: owner.id,
    asset: "USDT",
    amount: 1_000_000n,
    address: `addr-${marker}`,
    ref: `u${owner.id}:${randomUUID()}`,
  });
  return made.withdrawal.id;
}

// The operator console (packages/api/src/routers/admin). Changes act on fresh users and on
// ETH_USDT, which nothing else here trades, so the rest of the matrix is not disturbed.
const ADMIN: Record<string, Entry> = {
  "admin.services": OPERATOR_ONLY,
  "admin.kafka": OPERATOR_ONLY,
  "admin.locks": OPERATOR_ONLY,
  "admin.breakers": OPERATOR_ONLY,
  "admin.rateLimits": OPERATOR_ONLY,
  "admin.markets.list": OPERATOR_ONLY,
  "admin.assets.list": OPERATOR_ONLY,
  "admin.assets.create": {
    input: () => ({ symbol: freshSymbol(), name: "Matrix coin", decimals: 8, reason }),
    ...OPERATOR_ONLY,
  },
  // A market of its own per call: a delisting is for good.
  "admin.markets.delist": {
    input: async ({ f }) => ({ symbol: await freshMarket(f), reason }),
    ...OPERATOR_ONLY,
  },
  // A market of its own per call, so no other case meets its new tick.
  "admin.markets.changeRules": {
    input: async ({ f }) => ({
      symbol: await freshMarket(f),
      tickSize: "0.05",
      lotSize: "0.001",
      minBaseAmount: "0.001",
      minQuoteAmount: "1",
      priceBandPercent: "10",
      makerFeePercent: "0.1",
      takerFeePercent: "0.2",
      reason,
    }),
    ...OPERATOR_ONLY,
  },
  "admin.markets.create": {
    input: () => ({
      base: "ETH",
      quote: "BTC",
      pricePrecision: 5,
      amountPrecision: 3,
      minBaseAmount: "0.01",
      minQuoteAmount: "0.0001",
      makerFeePercent: "0.1",
      takerFeePercent: "0.2",
      reason,
    }),
    ...OPERATOR_ONLY,
  },
  "admin.markets.halt": { input: () => ({ symbol: "ETH_USDT", reason }), ...OPERATOR_ONLY },
  "admin.markets.resume": { input: () => ({ symbol: "ETH_USDT", reason }), ...OPERATOR_ONLY },
  "admin.users.search": {
    input: ({ owner }) => ({ query: owner.email }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.users.detail": {
    input: ({ owner }) => ({ userId: owner.id }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.users.ledger": {
    input: ({ owner }) => ({ userId: owner.id }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.users.freeze": {
    input: async ({ f }) => ({ userId: (await f.createUser()).id, reason }),
    ...OPERATOR_ONLY,
  },
  "admin.users.unfreeze": {
    input: async ({ f }) => ({ userId: (await f.createUser("trader", "frozen")).id, reason }),
    ...OPERATOR_ONLY,
  },
  "admin.users.adjustBalance": {
    input: async ({ f }) => ({
      userId: (await f.createUser()).id,
      asset: "USDT",
      direction: "credit",
      amount: "1",
      reason,
      idempotencyKey: randomUUID(),
    }),
    ...OPERATOR_ONLY,
  },
  "admin.users.sessions": {
    input: ({ owner }) => ({ userId: owner.id }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.users.endSession": {
    input: async ({ f }) => {
      const user = await f.createUser();
      const { sessionId } = await f.services.sessions.create(user.id, {
        ip: null,
        userAgent: null,
      });
      return { userId: user.id, sessionId, reason };
    },
    ...OPERATOR_ONLY,
  },
  "admin.users.apiKeys": {
    input: ({ owner }) => ({ userId: owner.id }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.users.revokeApiKey": {
    input: async ({ f }) => {
      const user = await f.createUser();
      const made = await createApiKey(f.db, f.services.apiKeySealingKey, {
        userId: user.id,
        permissions: ["read"],
      });
      return { userId: user.id, keyId: made.id, reason };
    },
    ...OPERATOR_ONLY,
  },
  "admin.orders.search": {
    input: ({ owner }) => ({ userId: owner.id }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.orders.cancel": {
    input: async (call) => ({ orderId: (await ownersOrder(call)).orderId, reason }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.trades.search": OPERATOR_ONLY,
  "admin.withdrawals.queue": { seesEveryone: true, ...OPERATOR_ONLY },
  "admin.withdrawals.approve": {
    input: async (call) => ({ withdrawalId: await ownersWithdrawal(call) }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.withdrawals.reject": {
    input: async (call) => ({ withdrawalId: await ownersWithdrawal(call), reason }),
    seesEveryone: true,
    ...OPERATOR_ONLY,
  },
  "admin.reconciliation.run": OPERATOR_ONLY,
  "admin.reconciliation.runs": OPERATOR_ONLY,
  "admin.reconciliation.findings": OPERATOR_ONLY,
  "admin.audit.search": { seesEveryone: true, ...OPERATOR_ONLY },
};
Object.assign(EXPECTED, ADMIN);

let f: ApiFixture;
let users: Record<Exclude<Role, "anonymous">, TestUser>;
/** Text only trader A's things carry: it must never reach anyone else. */
const marker = `mxA${randomUUID().slice(0, 8)}`;
const ownerKeys = new Set<string>();

beforeAll(async () => {
  f = await startApiFixture();
  users = {
    trader: await f.createUser("trader", "active", "owner's own password"),
    otherTrader: await f.createUser(),
    frozen: await f.createUser("trader", "frozen"),
    operator: await f.createUser("operator"),
  };
  for (const user of Object.values(users)) {
    await f.fund(user.id, "USDT", 1_000_000_000_000n);
    await f.fund(user.id, "BTC", 100_000_000n);
  }
  // A's history, so that lists have something of A's to (not) show to others.
  const call: Call = { f, as: users.trader, owner: users.trader, marker };
  await ownersOrder(call);
  await EXPECTED["account.withdrawal"]?.input?.(call);
  await EXPECTED["account.apiKeys.revoke"]?.input?.(call);
  const kept = await createApiKey(f.db, f.services.apiKeySealingKey, {
    userId: users.trader.id,
    permissions: ["read"],
    label: marker,
  });
  ownerKeys.add(kept.key);
});
afterAll(async () => {
  await f?.stop();
});

/** Every procedure of the router by its dotted path, as tRPC keeps them. */
const PROCEDURES = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: "query" | "mutation" | "subscription" } } | undefined
>;

/** A context for one call: a fresh session (and its refresh cookie) for a signed-in caller. */
async function contextFor(user: TestUser | null): Promise<Context> {
  if (!user) return f.context(null);
  const { sessionId, refreshToken } = await f.services.sessions.create(user.id, {
    ip: null,
    userAgent: null,
  });
  const session = {
    userId: user.id,
    role: user.role,
    status: user.status,
    twoFactor: user.totpSecret !== null,
    sessionId,
  };
  return f.context(session, f.exchange(new Map([[REFRESH_COOKIE, refreshToken]])));
}

async function call(
  path: string,
  role: Role,
): Promise<{ ok: true; output: unknown } | { ok: false; error: TRPCError }> {
  const procedure = PROCEDURES[path];
  if (!procedure) throw new Error(`no procedure ${path}`);
  const as = role === "anonymous" ? null : users[role];
  const entry = EXPECTED[path];
  const input = await entry?.input?.({ f, as, owner: users.trader, marker });
  try {
    const output = await callTRPCProcedure({
      router: appRouter,
      path,
      type: procedure._def.type,
      ctx: await contextFor(as),
      getRawInput: async () => input,
      signal: undefined,
      batchIndex: 0,
    });
    return { ok: true, output };
  } catch (error) {
    if (error instanceof TRPCError) return { ok: false, error };
    throw error;
  } finally {
    await entry?.after?.({ f, as, owner: users.trader, marker });
  }
}

const procedures = Object.keys(PROCEDURES).sort();

describe("the authorization matrix", () => {
  it("has an entry for every procedure of the router", () => {
    const missing = procedures.filter((path) => !(path in EXPECTED));
    expect(missing, `procedures without an authorization entry: ${missing.join(", ")}`).toEqual([]);
    const stale = Object.keys(EXPECTED).filter((path) => !procedures.includes(path));
    expect(stale, `entries for procedures that no longer exist: ${stale.join(", ")}`).toEqual([]);
  });

  describe.each(procedures.filter((path) => path in EXPECTED))("%s", (path) => {
    it.each(ROLES)("as %s", async (role) => {
      const expected = EXPECTED[path]?.[role];
      const answer = await call(path, role);
      if (expected === "allow") {
        if (!answer.ok) {
          throw new Error(
            `${path} refused ${role}: ${errorLabel(answer.error)} ${answer.error.message}`,
          );
        }
        if (role !== "trader" && !EXPECTED[path]?.answersAsOwner && !EXPECTED[path]?.seesEveryone) {
          const shown =
            JSON.stringify(answer.output, (_k, v) => (typeof v === "bigint" ? String(v) : v)) ?? "";
          expect(shown).not.toContain(marker);
          expect(shown).not.toContain(users.trader.email);
          for (const key of ownerKeys) expect(shown).not.toContain(key);
        }
      } else {
        expect(answer.ok, `${path} allowed ${role}; expected ${expected}`).toBe(false);
        if (!answer.ok) expect(errorLabel(answer.error)).toBe(expected);
      }
    });
  });
});

describe("what the matrix's inputs do not show", () => {
  it("another trader's cancelAll leaves trader A's orders alone", async () => {
    const order = await ownersOrder({ f, as: users.trader, owner: users.trader, marker });
    const answer = await call("orders.cancelAll", "otherTrader");
    expect(answer.ok).toBe(true);
    const outbox = await f.db.execute<{ payload: { command: { type: string; userId: number } } }>(
      sql`SELECT payload FROM outbox ORDER BY id DESC LIMIT 1`,
    );
    // The engine's cancel-all names the caller: the engine cancels only that user's orders.
    expect(outbox.rows[0]?.payload.command).toMatchObject({
      type: "cancelAll",
      userId: Number(users.otherTrader.id),
    });
    const stillOpen = await f.trading.findOrder(users.trader.id, "BTC_USDT", order.orderId);
    expect(stillOpen.status).toBe("pending");
  });

  it("a frozen trader reads its own orders and revokes its own keys, but cancels nothing", async () => {
    const frozen = users.frozen;
    // Its order from before the freeze (placed directly: placing is what the freeze stops).
    await f.db.update(schema.users).set({ status: "active" }).where(eq(schema.users.id, frozen.id));
    const placed = await f.trading.placeOrder(frozen.id, {
      ...market,
      side: "buy",
      amount: "0.001",
      price: "20000",
    });
    await f.db.update(schema.users).set({ status: "frozen" }).where(eq(schema.users.id, frozen.id));
    const key = await createApiKey(f.db, f.services.apiKeySealingKey, {
      userId: frozen.id,
      permissions: ["read"],
    });
    const caller = createCaller(await contextFor(frozen));
    const open = await caller.orders.open();
    expect(open.items.map((o) => o.id)).toContain(String(placed.order.id));
    await expect(
      caller.orders.cancel({ ...market, orderId: String(placed.order.id) }),
    ).rejects.toMatchObject({ label: "FORBIDDEN" });
    expect(await caller.account.apiKeys.revoke({ key: key.key })).toEqual({ revoked: true });
  });
});
