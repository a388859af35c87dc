// admin.markets: listing a market, its fees, halting and resuming it (placement stops within a
// second and comes back; both halt records and the audit row agree) — against the real
// PostgreSQL, etcd and Redis.
import { schema } from "@spotx/db";
import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let trader: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  trader = await f.createUser();
  await f.fund(trader.id, "USDT", 10_000_000_000n); // 10,000 USDT
});
afterAll(async () => {
  await f?.stop();
});

const admin = () => f.callerAs(operator);

async function lastAudit(subject: string) {
  const rows = await f.db
    .select()
    .from(schema.auditLog)
    .where(eq(schema.auditLog.subject, subject))
    .orderBy(desc(schema.auditLog.id))
    .limit(1);
  return rows[0];
}

const buy = (market: string, price = "100", amount = "0.1") =>
  f.trading.placeOrder(trader.id, { market, side: "buy", type: "limit", price, amount });

/** Polls placement until `accepted(outcome)` or the deadline; returns how long it took. */
async function placementTurns(
  market: string,
  accepted: boolean,
  withinMs: number,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const outcome = await buy(market).then(
      () => true,
      () => false,
    );
    const took = performance.now() - started;
    if (outcome === accepted) return took;
    if (took > withinMs)
      throw new Error(`placement did not turn ${accepted} within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("admin.markets", () => {
  it("creates a market with decimal minimums and percentage fees, and lists it", async () => {
    const caller = await admin();
    const created = await caller.admin.markets.create({
      base: "ETH",
      quote: "BTC",
      pricePrecision: 5,
      amountPrecision: 3,
      minBaseAmount: "0.01",
      minQuoteAmount: "0.0001",
      makerFeePercent: "0.05",
      takerFeePercent: "0.15",
      priceBandPercent: "12.5",
      reason: "list ETH against BTC",
    });
    expect(created).toMatchObject({
      symbol: "ETH_BTC",
      pricePrecision: 5,
      amountPrecision: 3,
      minBaseAmount: "0.01",
      minQuoteAmount: "0.0001",
      makerFeePercent: "0.05",
      takerFeePercent: "0.15",
      priceBandPercent: "12.5",
      status: "trading",
      live: { halted: false, by: `operator:${operator.id}` },
      liveOrders: 0,
    });
    const [row] = await f.db
      .select()
      .from(schema.markets)
      .where(eq(schema.markets.symbol, "ETH_BTC"));
    expect(row).toMatchObject({
      minBaseLots: 10n,
      minQuoteAmount: 10_000n,
      makerFeePpm: 500,
      takerFeePpm: 1_500,
      priceBandBps: 1_250,
    });
    const listed = await caller.admin.markets.list();
    expect(listed.map((m) => m.symbol)).toEqual(["BTC_USDT", "ETH_BTC", "ETH_USDT"]);
    const audit = await lastAudit("market:ETH_BTC");
    expect(audit).toMatchObject({ actorId: operator.id, action: "market.create" });
    expect(audit?.details).toMatchObject({
      reason: "list ETH against BTC",
      before: null,
      after: { symbol: "ETH_BTC", makerFeePpm: 500 },
      origin: { ip: "192.0.2.10", userAgent: "vitest" },
    });
  });

  it("refuses a minimum finer than a lot, a precision the assets cannot carry, and a second listing", async () => {
    const caller = await admin();
    const base = {
      base: "BTC",
      quote: "ETH",
      pricePrecision: 4,
      amountPrecision: 4,
      minBaseAmount: "0.0001",
      minQuoteAmount: "0.001",
      makerFeePercent: "0.1",
      takerFeePercent: "0.2",
      reason: "list BTC against ETH",
    };
    expect(
      await refusal(caller.admin.markets.create({ ...base, minBaseAmount: "0.00005" })),
    ).toEqual({
      label: "INVALID_PRECISION",
      status: 400,
    });
    // ETH has 8 decimals: 5 + 4 price and amount decimals would split a minor unit.
    expect(
      await refusal(caller.admin.markets.create({ ...base, pricePrecision: 5 })),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await refusal(caller.admin.markets.create({ ...base, makerFeePercent: "10.5" })),
    ).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
    const again = {
      ...base,
      base: "ETH",
      quote: "BTC",
      pricePrecision: 5,
      amountPrecision: 3,
      minBaseAmount: "0.01",
      minQuoteAmount: "0.0001",
    };
    expect(await refusal(caller.admin.markets.create(again))).toEqual({
      label: "MARKET_EXISTS",
      status: 409,
    });
    const markets = await f.db.select({ symbol: schema.markets.symbol }).from(schema.markets);
    expect(markets.map((m) => m.symbol).sort()).toEqual(["BTC_USDT", "ETH_BTC", "ETH_USDT"]);
  });

  it("halts a market — placement refused within a second — and resumes it", async () => {
    const caller = await admin();
    await buy("BTC_USDT"); // trading before
    const halted = await caller.admin.markets.halt({
      symbol: "BTC_USDT",
      reason: "incident 42: price feed",
    });
    expect(halted).toMatchObject({
      status: "halted",
      halted: true,
      reason: "incident 42: price feed",
    });
    const haltTook = await placementTurns("BTC_USDT", false, 1_000);
    expect(haltTook).toBeLessThan(1_000);
    console.info(`halt → placement refused after ${Math.round(haltTook)} ms`);
    const refused = await buy("BTC_USDT").catch((e: unknown) => e);
    expect(refused).toMatchObject({ label: "INVALID_CURRENCY_PAIR" });

    const [row] = await f.db
      .select()
      .from(schema.markets)
      .where(eq(schema.markets.symbol, "BTC_USDT"));
    expect(row?.status).toBe("halted");
    const stored = JSON.parse(
      (await f.etcd.get(f.names.etcd.marketConfig("BTC_USDT")).string()) ?? "{}",
    );
    expect(stored).toMatchObject({ halted: true, by: `operator:${operator.id}` });
    const audit = await lastAudit("market:BTC_USDT");
    expect(audit).toMatchObject({
      id: halted.auditId,
      action: "market.halt",
      actorId: operator.id,
    });
    expect(audit?.details).toMatchObject({
      before: { status: "trading", live: null },
      after: { status: "halted", live: { halted: true, reason: "incident 42: price feed" } },
    });

    const resumed = await caller.admin.markets.resume({ symbol: "BTC_USDT", reason: "feed fixed" });
    expect(resumed).toMatchObject({ status: "trading", halted: false });
    // The trading service caches markets.status for up to 2 s; etcd's change is at once.
    const resumeTook = await placementTurns("BTC_USDT", true, 3_000);
    console.info(`resume → placement accepted after ${Math.round(resumeTook)} ms`);
    expect((await lastAudit("market:BTC_USDT"))?.details).toMatchObject({
      before: { status: "halted", live: { halted: true } },
      after: { status: "trading", live: { halted: false, reason: "feed fixed" } },
    });
    const live = await f.db
      .select()
      .from(schema.orders)
      .where(and(eq(schema.orders.userId, trader.id), eq(schema.orders.market, "BTC_USDT")));
    expect(live.length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a halt without a reason, and of an unknown market, changing nothing", async () => {
    const caller = await admin();
    expect(await refusal(caller.admin.markets.halt({ symbol: "BTC_USDT", reason: "" }))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
    expect(
      await refusal(caller.admin.markets.halt({ symbol: "XRP_USDT", reason: "no such market" })),
    ).toEqual({ label: "INVALID_CURRENCY_PAIR", status: 400 });
    expect(await f.etcd.get(f.names.etcd.marketConfig("XRP_USDT")).string()).toBeNull();
    const listed = await (await admin()).admin.markets.list();
    expect(listed.find((m) => m.symbol === "BTC_USDT")).toMatchObject({
      status: "trading",
      live: { halted: false },
    });
  });
});
