// Settling a rules change (docs/decisions/006): the engine's rulesChanged writes the market row —
// steps, minimums, band, fees — in the batch's transaction, at its sequence point: a trade before
// it pays the old fees, one after it (same batch) the new ones; an order the change cancelled
// (finish_as market_rules) has its hold released like any cancel; the rules the market listed
// with are kept once; reconciliation stays clean.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReconciliation } from "../src/reconciliation";
import { applySettlementBatch } from "../src/settlement";
import { balanceOf, createFixture, createUser, ETH, type Fixture, fund, USDT } from "./fixtures";
import { lastSeq, orderRow, placeLimit, tradeEvent } from "./trading";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
});

describe("settling a rules change (ETH_USDT: maker 0.1 %, taker 0.2 %)", () => {
  it("switches fees at the event, releases the cancelled order's hold and writes the row", async () => {
    const seller = await createUser(f.db);
    const early = await createUser(f.db);
    const late = await createUser(f.db);
    const bidder = await createUser(f.db);
    await fund(f.db, seller, "ETH", ETH("1"));
    await fund(f.db, early, "USDT", USDT("1000"));
    await fund(f.db, late, "USDT", USDT("1000"));
    await fund(f.db, bidder, "USDT", USDT("1000"));

    const ask = await placeLimit(f.db, f.ethUsdt, seller, "sell", "1", "2000");
    const first = await placeLimit(f.db, f.ethUsdt, early, "buy", "0.4", "2000");
    const bid = await placeLimit(f.db, f.ethUsdt, bidder, "buy", "0.3", "1900.55");
    const second = await placeLimit(f.db, f.ethUsdt, late, "buy", "0.2", "2000");

    let seq = await lastSeq(f.db, "ETH_USDT");
    const next = () => {
      seq += 1n;
      return seq;
    };
    const rulesSeq = seq + 5n;
    const batch = await applySettlementBatch(f.db, "ETH_USDT", [
      { kind: "order_accepted", seq: next(), orderId: ask.id },
      { kind: "order_accepted", seq: next(), orderId: bid.id },
      tradeEvent(f.ethUsdt, next(), ask, first, "0.4", "2000"),
      { kind: "noop", seq: next() },
      // Tick 0.05 (5 units of 0.01), lot 0.001 (10 of 0.0001), fees 0.5 % / 1 %.
      {
        kind: "market_rules",
        seq: next(),
        priceStepTicks: 5n,
        amountStepLots: 10n,
        minBaseLots: 20n,
        minQuoteAmount: USDT("5"),
        priceBandBps: 500,
        makerFeePpm: 5_000,
        takerFeePpm: 10_000,
      },
      // 1900.55 is off the 0.05 tick: cancelled by the change.
      { kind: "order_finished", seq: next(), orderId: bid.id, finishAs: "market_rules" },
      { kind: "noop", seq: next() },
      tradeEvent(f.ethUsdt, next(), ask, second, "0.2", "2000"),
    ]);
    if (!batch.ok) throw new Error(`batch refused: ${batch.error}`);
    expect(seq).toBe(rulesSeq + 3n);
    expect(batch.changes.rules).toMatchObject({
      priceStepTicks: 5n,
      amountStepLots: 10n,
      makerFeePpm: 5_000,
      takerFeePpm: 10_000,
    });

    const fees = await f.db.execute<{
      taker_order_id: string;
      buyer_fee: string;
      seller_fee: string;
    }>(
      sql`SELECT taker_order_id::text, buyer_fee::text, seller_fee::text
            FROM trades WHERE market = 'ETH_USDT' ORDER BY seq`,
    );
    expect(fees.rows).toEqual([
      // Before the change: taker 0.2 % of 0.4 ETH, maker 0.1 % of 800 USDT.
      {
        taker_order_id: String(first.id),
        buyer_fee: String(ETH("0.0008")),
        seller_fee: String(USDT("0.8")),
      },
      // After it: taker 1 % of 0.2 ETH, maker 0.5 % of 400 USDT.
      {
        taker_order_id: String(second.id),
        buyer_fee: String(ETH("0.002")),
        seller_fee: String(USDT("2")),
      },
    ]);
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "cancelled",
      finish_as: "market_rules",
      hold_remaining: 0n,
    });
    expect(await balanceOf(f.db, bidder, "USDT")).toEqual({ available: USDT("1000"), locked: 0n });

    const row = await f.db.execute<Record<string, unknown>>(sql`
      SELECT price_step_ticks::text, amount_step_lots::text, min_base_lots::text,
             min_quote_amount::text, price_band_bps, maker_fee_ppm, taker_fee_ppm, listed_rules
        FROM markets WHERE symbol = 'ETH_USDT'`);
    expect(row.rows[0]).toEqual({
      price_step_ticks: "5",
      amount_step_lots: "10",
      min_base_lots: "20",
      min_quote_amount: String(USDT("5")),
      price_band_bps: 500,
      maker_fee_ppm: 5_000,
      taker_fee_ppm: 10_000,
      // What it listed with (seed: 0.001 ETH, 1 USDT, 10 %), kept for an engine replaying the log.
      listed_rules: { minBaseLots: "10", minQuoteAmount: String(USDT("1")), priceBandBps: 1_000 },
    });
    expect((await runReconciliation(f.db)).findings).toEqual([]);

    // A second change keeps the listing rules; null fees leave the rates as they are.
    const again = await applySettlementBatch(f.db, "ETH_USDT", [
      {
        kind: "market_rules",
        seq: next(),
        priceStepTicks: 10n,
        amountStepLots: 10n,
        minBaseLots: 10n,
        minQuoteAmount: USDT("2"),
        priceBandBps: 800,
        makerFeePpm: null,
        takerFeePpm: null,
      },
    ]);
    expect(again.ok).toBe(true);
    const after = await f.db.execute<Record<string, unknown>>(sql`
      SELECT price_step_ticks::text, maker_fee_ppm, taker_fee_ppm, listed_rules
        FROM markets WHERE symbol = 'ETH_USDT'`);
    expect(after.rows[0]).toEqual({
      price_step_ticks: "10",
      maker_fee_ppm: 5_000,
      taker_fee_ppm: 10_000,
      listed_rules: { minBaseLots: "10", minQuoteAmount: String(USDT("1")), priceBandBps: 1_000 },
    });
    // Redelivered, it is a no-op.
    const replay = await applySettlementBatch(f.db, "ETH_USDT", [
      {
        kind: "market_rules",
        seq,
        priceStepTicks: 1n,
        amountStepLots: 1n,
        minBaseLots: 1n,
        minQuoteAmount: 1n,
        priceBandBps: 1,
        makerFeePpm: 0,
        takerFeePpm: 0,
      },
    ]);
    expect(replay).toMatchObject({ ok: true, applied: 0, skipped: 1 });
  });
});
