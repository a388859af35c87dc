// admin.markets.changeRules (docs/decisions/006): an operator's change of a listed market's tick,
// lot, minimums, band and fees is checked (a tick finer than the listing unit is its own
// refusal), audited with before and after, and queued for the engine as a `rules` command in the
// same transaction; once the row carries the new steps, placement refuses prices and amounts off
// them with gate.io's INVALID_PRECISION. Against the real PostgreSQL, etcd and Redis.
import { placeOrders, schema } from "@spotx/db";
import { desc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MarketDirectory } from "../../src/gate/market-directory";
import { TradingService } from "../../src/trading/trading-service";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let trader: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  trader = await f.createUser();
  await f.fund(trader.id, "USDT", 100_000_000_000n); // 100,000 USDT
});
afterAll(async () => {
  await f?.stop();
});

const admin = () => f.callerAs(operator);

// BTC_USDT lists with price unit 0.01, amount unit 0.0001, 0.1 % / 0.2 % fees, a 10 % band.
const COARSER = {
  symbol: "BTC_USDT",
  tickSize: "0.05",
  lotSize: "0.001",
  minBaseAmount: "0.002",
  minQuoteAmount: "5",
  priceBandPercent: "5",
  makerFeePercent: "0.05",
  takerFeePercent: "0.15",
  reason: "coarser tick for a busy book",
};

describe("admin.markets.changeRules", () => {
  it("refuses a tick or lot finer than the listing unit, and bad values, writing nothing", async () => {
    const caller = await admin();
    const outboxBefore = await f.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM outbox`,
    );
    const cases: Array<[Partial<typeof COARSER>, string]> = [
      [{ tickSize: "0.001" }, "TICK_FINER_THAN_UNIT"],
      [{ lotSize: "0.00005" }, "LOT_FINER_THAN_UNIT"],
      [{ tickSize: "0" }, "INVALID_PARAM_VALUE"],
      [{ minBaseAmount: "0.0015" }, "INVALID_PARAM_VALUE"], // not a whole number of 0.001 lots
      [{ minQuoteAmount: "0.0000001" }, "INVALID_PRECISION"], // USDT keeps 6 decimals
      [{ priceBandPercent: "0" }, "INVALID_PARAM_VALUE"],
      [{ takerFeePercent: "10.5" }, "INVALID_PARAM_VALUE"],
      [{ tickSize: "1000000000000" }, "INVALID_MARKET_CONFIG"], // no price would fit
      [{ symbol: "NOPE_USDT" }, "INVALID_CURRENCY_PAIR"],
    ];
    for (const [change, label] of cases) {
      expect(await refusal(caller.admin.markets.changeRules({ ...COARSER, ...change }))).toEqual({
        label,
        status: 400,
      });
    }
    const message = await caller.admin.markets
      .changeRules({ ...COARSER, tickSize: "0.001" })
      .catch((e: Error) => e.message);
    expect(message).toContain("the finest tick possible is 0.01");
    const outboxAfter = await f.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM outbox`,
    );
    expect(outboxAfter.rows[0]?.n).toBe(outboxBefore.rows[0]?.n);
    const audits = await f.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.action, "market.rules"));
    expect(audits).toEqual([]);
  });

  it("refuses a trader", async () => {
    const caller = await f.callerAs(trader);
    expect(await refusal(caller.admin.markets.changeRules(COARSER))).toMatchObject({
      status: 403,
    });
  });

  it("queues a rules command and audits the rules before and after in one transaction", async () => {
    const caller = await admin();
    const answer = await caller.admin.markets.changeRules(COARSER);
    const before = {
      tickSize: "0.01",
      lotSize: "0.0001",
      minBaseAmount: "0.0001",
      minQuoteAmount: "1",
      priceBandPercent: "10",
      makerFeePercent: "0.1",
      takerFeePercent: "0.2",
    };
    const after = {
      tickSize: "0.05",
      lotSize: "0.001",
      minBaseAmount: "0.002",
      minQuoteAmount: "5",
      priceBandPercent: "5",
      makerFeePercent: "0.05",
      takerFeePercent: "0.15",
    };
    expect(answer).toMatchObject({ symbol: "BTC_USDT", before, after });
    expect(answer.policy).toContain("not a multiple of the new tick or lot are cancelled");

    const [queued] = await f.db
      .select()
      .from(schema.outbox)
      .where(eq(schema.outbox.id, answer.outboxId));
    expect(queued).toMatchObject({ topic: f.names.kafka.orders.topic, key: "BTC_USDT" });
    // Engine integers: ticks of 0.01, lots of 0.0001, USDT minor units, bps, ppm.
    expect(queued?.payload).toMatchObject({
      v: 1,
      market: "BTC_USDT",
      command: {
        type: "rules",
        rules: {
          priceStep: 5,
          quantityStep: 10,
          minQuantity: 20,
          minNotional: 5_000_000,
          priceBandBps: 500,
          makerFeePpm: 500,
          takerFeePpm: 1_500,
        },
      },
    });
    const [audit] = await f.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.id, answer.auditId));
    expect(audit).toMatchObject({
      action: "market.rules",
      subject: "market:BTC_USDT",
      actorId: operator.id,
    });
    expect(audit?.details).toMatchObject({
      reason: "coarser tick for a busy book",
      before,
      after,
      outboxId: answer.outboxId.toString(),
    });
    // The row changes when settlement applies the engine's rulesChanged, not here.
    const [row] = await f.db
      .select()
      .from(schema.markets)
      .where(eq(schema.markets.symbol, "BTC_USDT"));
    expect(row).toMatchObject({ priceStepTicks: 1n, amountStepLots: 1n, takerFeePpm: 2_000 });
  });

  it("refuses, at placement, prices and amounts off the market's tick and lot", async () => {
    // As settlement leaves the row once the engine applied the change above.
    await f.db
      .update(schema.markets)
      .set({ priceStepTicks: 5n, amountStepLots: 10n })
      .where(eq(schema.markets.symbol, "ETH_USDT"));
    const trading = new TradingService({ db: f.db, names: f.names, halts: f.halts });
    const place = (price: string, amount: string) =>
      trading.placeOrder(trader.id, {
        market: "ETH_USDT",
        side: "buy",
        type: "limit",
        price,
        amount,
      });
    await expect(place("2000.01", "0.01")).rejects.toMatchObject({
      label: "INVALID_PRECISION",
      message: "price 2000.01 is not a multiple of ETH_USDT's tick 0.05",
    });
    await expect(place("2000.05", "0.0015")).rejects.toMatchObject({
      label: "INVALID_PRECISION",
      message: "amount 0.0015 is not a multiple of ETH_USDT's lot 0.001",
    });
    const placed = await place("2000.05", "0.01");
    expect(placed.order).toMatchObject({ priceTicks: 200_005n, amount: 100n });
    // The ledger's own check, behind the API's: the same refusal.
    const [direct] = await placeOrders(f.db, [
      {
        userId: trader.id,
        market: "ETH_USDT",
        side: "buy",
        type: "limit",
        priceTicks: 200_001n,
        amount: 100n,
      },
    ]);
    expect(direct).toMatchObject({ ok: false, error: { label: "INVALID_PRECISION" } });
  });

  it("shows the current tick and lot in the gate.io currency pair and the console list", async () => {
    const directory = new MarketDirectory(f.db, f.halts);
    const pair = directory.pairObject(await directory.market("ETH_USDT"));
    // tick 0.05 → 2 decimals, lot 0.001 → 3 decimals.
    expect(pair).toMatchObject({ precision: 2, amount_precision: 3 });
    const caller = await admin();
    const listed = (await caller.admin.markets.list()).find((m) => m.symbol === "ETH_USDT");
    expect(listed).toMatchObject({ tickSize: "0.05", lotSize: "0.001" });
    const audits = await f.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.action, "market.rules"))
      .orderBy(desc(schema.auditLog.id));
    expect(audits).toHaveLength(1);
  });
});
