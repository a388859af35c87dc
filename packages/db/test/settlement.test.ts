// Settlement of trades with real numbers: who gets what, which fee in which asset, rounding
// in the exchange's favour, partial fills, released holds, and the per-market sequence.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestAmend } from "../src/amend";
import { runReconciliation } from "../src/reconciliation";
import { applySettlementBatch, settleTrade } from "../src/settlement";
import { parseDecimal } from "../src/units";
import {
  BTC,
  balanceOf,
  createFixture,
  createUser,
  type Fixture,
  fund,
  systemBalance,
  USDT,
} from "./fixtures";
import {
  lastSeq,
  orderRow,
  placeLimit,
  placeMarket,
  type SettlementEvent,
  tradeEvent,
} from "./trading";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
});

/** The next sequence number of BTC_USDT (tests in this file share the market). */
const nextSeq = async () => (await lastSeq(f.db, "BTC_USDT")) + 1n;

async function traders() {
  const buyer = await createUser(f.db);
  const seller = await createUser(f.db);
  await fund(f.db, buyer, "USDT", USDT("1000"));
  await fund(f.db, seller, "BTC", BTC("1"));
  return { buyer, seller };
}

describe("settling a trade (BTC_USDT: maker 0.1 %, taker 0.2 %, fee in the asset received)", () => {
  it("a taker buy of 0.01 BTC at 30,000: buyer pays 2,000 sat, seller 0.3 USDT", async () => {
    const { buyer, seller } = await traders();
    const feesBtc = await systemBalance(f.db, "fees", "BTC");
    const feesUsdt = await systemBalance(f.db, "fees", "USDT");
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("700"),
      locked: USDT("300"),
    });

    const result = await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, await nextSeq(), ask, bid, "0.01", "30000"),
    ]);
    expect(result.ok).toBe(true);

    // Buyer: 300 USDT left the hold; 0.01 BTC arrived less 0.2 % = 0.00998 BTC.
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({ available: USDT("700"), locked: 0n });
    expect(await balanceOf(f.db, buyer, "BTC")).toEqual({ available: BTC("0.00998"), locked: 0n });
    // Seller: 0.01 BTC left the hold; 300 USDT arrived less 0.1 % = 299.7 USDT.
    expect(await balanceOf(f.db, seller, "BTC")).toEqual({ available: BTC("0.99"), locked: 0n });
    expect(await balanceOf(f.db, seller, "USDT")).toEqual({ available: USDT("299.7"), locked: 0n });
    expect(await systemBalance(f.db, "fees", "BTC")).toBe(feesBtc + 2_000n);
    expect(await systemBalance(f.db, "fees", "USDT")).toBe(feesUsdt + USDT("0.3"));

    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "closed",
      finish_as: "filled",
      filled_base_lots: 100n,
      filled_quote: USDT("300"),
      fee: 2_000n,
      hold_remaining: 0n,
    });
    expect(await orderRow(f.db, ask.id)).toMatchObject({ status: "closed", fee: USDT("0.3") });
    const trade = await f.db.execute(
      sql`SELECT buyer_fee, seller_fee, taker_side FROM trades WHERE taker_order_id = ${bid.id}`,
    );
    expect(trade.rows).toEqual([{ buyer_fee: 2_000n, seller_fee: 300_000n, taker_side: "buy" }]);
  });

  it("rounds a fractional fee up: a taker sell of 1 lot at 30,000.01 pays 6,001 micro-USDT", async () => {
    const { buyer, seller } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.0001", "30000.01");
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.0001", "30000");
    await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, await nextSeq(), bid, ask, "0.0001", "30000.01"),
    ]);
    // 0.0001 × 30,000.01 = 3.000001 USDT; 0.2 % = 0.006000002 → 0.006001 (rounded up by 0.999998 µUSDT).
    expect(await balanceOf(f.db, seller, "USDT")).toEqual({ available: 2_994_000n, locked: 0n });
    // The maker buyer pays 0.1 % of 10,000 sat = 10 sat.
    expect(await balanceOf(f.db, buyer, "BTC")).toEqual({ available: 9_990n, locked: 0n });
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("1000") - 3_000_001n,
      locked: 0n,
    });
  });

  it("partial fills keep the rest held; cancelling releases it, price improvement included", async () => {
    const { buyer } = await traders();
    const sellerA = await createUser(f.db);
    const sellerB = await createUser(f.db);
    await fund(f.db, sellerA, "BTC", BTC("1"));
    await fund(f.db, sellerB, "BTC", BTC("1"));
    const askA = await placeLimit(f.db, f.btcUsdt, sellerA, "sell", "0.01", "30000");
    const askB = await placeLimit(f.db, f.btcUsdt, sellerB, "sell", "0.01", "30500");
    // Buys 0.03 BTC up to 31,000: holds 930 USDT.
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.03", "31000");
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("70"),
      locked: USDT("930"),
    });

    const seq = await nextSeq();
    const result = await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "order_accepted", seq, orderId: bid.id },
      tradeEvent(f.btcUsdt, seq + 1n, askA, bid, "0.01", "30000"),
      tradeEvent(f.btcUsdt, seq + 2n, askB, bid, "0.01", "30500"),
    ]);
    expect(result).toMatchObject({ ok: true, applied: 3, skipped: 0, lastSeq: seq + 2n });
    // 605 USDT spent; 325 USDT stays held for the 0.01 BTC left (310 at the limit + 15 improvement).
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("70"),
      locked: USDT("325"),
    });
    expect(await balanceOf(f.db, buyer, "BTC")).toEqual({ available: BTC("0.01996"), locked: 0n });
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "open",
      filled_base_lots: 200n,
      filled_quote: USDT("605"),
      fee: 4_000n,
      hold_remaining: USDT("325"),
    });

    const cancelled = await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "order_finished", seq: seq + 3n, orderId: bid.id, finishAs: "cancelled" },
    ]);
    expect(cancelled.ok && cancelled.changes.orders[0]).toMatchObject({ released: USDT("325") });
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({ available: USDT("395"), locked: 0n });
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "cancelled",
      finish_as: "cancelled",
      hold_remaining: 0n,
    });
  });

  it("a buy filled entirely below its limit releases the surplus as it closes", async () => {
    const { buyer, seller } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.02", "31000"); // holds 620 USDT
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.02", "29500");
    const seq = await nextSeq();
    const result = await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, seq, bid, ask, "0.005", "31000"),
      tradeEvent(f.btcUsdt, seq + 1n, bid, ask, "0.015", "31000"),
    ]);
    expect(result.ok).toBe(true);
    // Maker bid priced at its own limit: spends all 620. Now the reverse: taker bid below limit.
    const bid2 = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "31000"); // holds 310 USDT
    const ask2 = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "29000");
    const before = await balanceOf(f.db, buyer, "USDT");
    await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, seq + 2n, ask2, bid2, "0.01", "29000"),
    ]);
    // 290 USDT paid, 20 USDT of the hold released on the spot; nothing stays locked.
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: before.available + USDT("20"),
      locked: 0n,
    });
    expect(await orderRow(f.db, bid2.id)).toMatchObject({ status: "closed", hold_remaining: 0n });
  });

  it("a market buy spends its quote amount; the unspent rest is released when it ends", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.003", "30000");
    const bid = await placeMarket(f.db, f.btcUsdt, buyer, "buy", "100"); // spend up to 100 USDT
    expect(bid).toMatchObject({ holdAsset: "USDT", holdAmount: USDT("100"), feeAsset: "BTC" });
    const seq = await nextSeq();
    await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, seq, ask, bid, "0.003", "30000"), // 90 USDT
      { kind: "order_finished", seq: seq + 1n, orderId: bid.id, finishAs: "filled" },
    ]);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({ available: USDT("910"), locked: 0n });
    // 0.003 BTC = 300,000 sat less the taker fee of 600 sat.
    expect(await balanceOf(f.db, buyer, "BTC")).toEqual({ available: 299_400n, locked: 0n });
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "closed",
      finish_as: "filled",
      filled_quote: USDT("90"),
      filled_base_lots: 30n,
    });
  });

  it("a market sell of 0.005 BTC into a resting bid closes filled", async () => {
    const { buyer, seller } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.005", "30000");
    const ask = await placeMarket(f.db, f.btcUsdt, seller, "sell", "0.005");
    expect(ask).toMatchObject({ holdAsset: "BTC", holdAmount: 500_000n });
    await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, await nextSeq(), bid, ask, "0.005", "30000"),
    ]);
    // 150 USDT less the taker's 0.2 % = 149.7 USDT.
    expect(await balanceOf(f.db, seller, "USDT")).toEqual({ available: USDT("149.7"), locked: 0n });
    expect(await orderRow(f.db, ask.id)).toMatchObject({ status: "closed", finish_as: "filled" });
    expect(await orderRow(f.db, bid.id)).toMatchObject({ status: "closed", fee: 500n });
  });

  it("a self-trade moves nothing but fees", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("100"));
    await fund(f.db, user, "BTC", BTC("0.01"));
    const ask = await placeLimit(f.db, f.btcUsdt, user, "sell", "0.001", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, user, "buy", "0.001", "30000");
    await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, await nextSeq(), ask, bid, "0.001", "30000"),
    ]);
    // Paid 30 USDT to itself less the maker fee (0.03); received 100,000 sat less the taker fee (200).
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("99.97"), locked: 0n });
    expect(await balanceOf(f.db, user, "BTC")).toEqual({
      available: BTC("0.01") - 200n,
      locked: 0n,
    });
  });

  it("a rejected order gets its whole hold back, with the reason recorded", async () => {
    const { buyer } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "45000");
    await applySettlementBatch(f.db, "BTC_USDT", [
      {
        kind: "order_rejected",
        seq: await nextSeq(),
        orderId: bid.id,
        reason: "price outside the band",
      },
    ]);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({ available: USDT("1000"), locked: 0n });
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "rejected",
      finish_as: "rejected",
      reject_reason: "price outside the band",
    });
  });
});

describe("the per-market sequence", () => {
  it("applies a redelivered batch once and reports nothing new the second time", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const seq = await nextSeq();
    const batch = [
      tradeEvent(f.btcUsdt, seq, ask, bid, "0.004", "30000"),
      tradeEvent(f.btcUsdt, seq + 1n, ask, bid, "0.006", "30000"),
    ];
    expect(await applySettlementBatch(f.db, "BTC_USDT", batch)).toMatchObject({
      ok: true,
      applied: 2,
    });
    expect(await applySettlementBatch(f.db, "BTC_USDT", batch)).toMatchObject({
      ok: true,
      applied: 0,
      skipped: 2,
      lastSeq: seq + 1n,
    });
    expect(await balanceOf(f.db, buyer, "BTC")).toEqual({ available: BTC("0.00998"), locked: 0n });
  });

  it("settles the same trade sent concurrently exactly once", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const event = tradeEvent(f.btcUsdt, await nextSeq(), ask, bid, "0.01", "30000");
    const trade = { market: "BTC_USDT", ...event };
    const results = await Promise.all([
      settleTrade(f.db, trade),
      settleTrade(f.db, trade),
      settleTrade(f.db, trade),
    ]);
    expect(results.map((r) => (r.ok ? r.applied : -1)).sort()).toEqual([0, 0, 1]);
    expect(await balanceOf(f.db, seller, "USDT")).toEqual({ available: USDT("299.7"), locked: 0n });
    const count = await f.db.execute(
      sql`SELECT count(*)::int AS n FROM trades WHERE id = ${event.tradeId}`,
    );
    expect(count.rows[0]).toEqual({ n: 1 });
  });

  it("skips what was applied and applies the rest of an overlapping batch", async () => {
    const seq = await nextSeq();
    await applySettlementBatch(f.db, "BTC_USDT", [{ kind: "noop", seq }]);
    const result = await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "noop", seq },
      { kind: "noop", seq: seq + 1n },
    ]);
    expect(result).toMatchObject({ ok: true, applied: 1, skipped: 1, lastSeq: seq + 1n });
  });

  it("reports a gap as an error value and applies nothing", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const last = await lastSeq(f.db, "BTC_USDT");
    const result = await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, last + 2n, ask, bid, "0.01", "30000"),
    ]);
    expect(result).toEqual({
      ok: false,
      error: "SEQUENCE_GAP",
      lastSeq: last,
      expectedSeq: last + 1n,
      gotSeq: last + 2n,
    });
    expect(await lastSeq(f.db, "BTC_USDT")).toBe(last);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("700"),
      locked: USDT("300"),
    });
  });

  it("refuses an impossible trade (above the buy's limit) with SETTLEMENT_REJECTED and writes nothing", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000.01");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const last = await lastSeq(f.db, "BTC_USDT");
    await expect(
      applySettlementBatch(f.db, "BTC_USDT", [
        { kind: "noop", seq: last + 1n },
        tradeEvent(f.btcUsdt, last + 2n, ask, bid, "0.01", "30000.01"),
      ]),
    ).rejects.toMatchObject({
      label: "SETTLEMENT_REJECTED",
      message: expect.stringMatching(/beyond the taker's limit/),
    });
    expect(await lastSeq(f.db, "BTC_USDT")).toBe(last);
    expect(await orderRow(f.db, bid.id)).toMatchObject({ status: "pending", filled_base_lots: 0n });
  });
});

describe("engine owner epochs and event offsets", () => {
  const sequenceRow = async () => {
    const found = await f.db.execute<{
      last_seq: bigint;
      last_epoch: bigint;
      last_offset: bigint | null;
    }>(
      sql`SELECT last_seq, last_epoch, last_offset FROM market_sequences WHERE market = 'ETH_USDT'`,
    );
    return found.rows[0];
  };

  it("refuses a batch from an older owner and changes nothing; a newer owner takes over", async () => {
    const first = await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "noop", seq: 1n }], {
      epoch: 5n,
      offset: 100n,
    });
    expect(first).toMatchObject({ ok: true, applied: 1 });
    expect(await sequenceRow()).toEqual({ last_seq: 1n, last_epoch: 5n, last_offset: 100n });

    // The old owner (epoch 4), still running, sends the next events.
    const stale = await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "noop", seq: 2n }], {
      epoch: 4n,
      offset: 101n,
    });
    expect(stale).toEqual({ ok: false, error: "STALE_EPOCH", lastEpoch: 5n, gotEpoch: 4n });
    expect(await sequenceRow()).toEqual({ last_seq: 1n, last_epoch: 5n, last_offset: 100n });

    // The same owner continues; then a newer one replays what was applied and goes on.
    await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "noop", seq: 2n }], {
      epoch: 5n,
      offset: 101n,
    });
    const replay = await applySettlementBatch(
      f.db,
      "ETH_USDT",
      [
        { kind: "noop", seq: 1n },
        { kind: "noop", seq: 2n },
      ],
      { epoch: 9n, offset: 205n },
    );
    expect(replay).toMatchObject({ ok: true, applied: 0, skipped: 2 });
    expect(await sequenceRow()).toEqual({ last_seq: 2n, last_epoch: 9n, last_offset: 205n });
    expect(
      await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "noop", seq: 3n }], { epoch: 5n }),
    ).toMatchObject({ ok: false, error: "STALE_EPOCH", lastEpoch: 9n });
    // A replay at an older offset leaves the stored one; a batch without options behaves as before.
    await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "noop", seq: 2n }], { offset: 150n });
    expect(await sequenceRow()).toEqual({ last_seq: 2n, last_epoch: 9n, last_offset: 205n });
    expect(await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "noop", seq: 3n }])).toMatchObject(
      { ok: true, applied: 1, lastSeq: 3n },
    );
    expect(await sequenceRow()).toEqual({ last_seq: 3n, last_epoch: 9n, last_offset: 205n });
  });
});

describe("order endings are checked against the fills", () => {
  it("closes a market buy that stopped at dust as filled and releases the dust", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    // 100 USDT buys 0.0033 BTC at 30,000 (99 USDT); the last 1 USDT cannot buy one lot.
    const bid = await placeMarket(f.db, f.btcUsdt, buyer, "buy", "100");
    const seq = await nextSeq();
    const result = await applySettlementBatch(f.db, "BTC_USDT", [
      tradeEvent(f.btcUsdt, seq, ask, bid, "0.0033", "30000"),
      {
        kind: "order_finished",
        seq: seq + 1n,
        orderId: bid.id,
        finishAs: "filled",
        status: "closed",
      },
    ]);
    expect(result.ok && result.changes.orders.find((o) => o.id === bid.id)).toMatchObject({
      status: "closed",
      finishAs: "filled",
      released: USDT("1"),
    });
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({ available: USDT("901"), locked: 0n });
  });

  it("refuses 'filled' for a market buy that bought nothing and for a partly filled limit order", async () => {
    const { buyer, seller } = await traders();
    const marketBuy = await placeMarket(f.db, f.btcUsdt, buyer, "buy", "100");
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.02", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const seq = await nextSeq();
    for (const event of [
      { kind: "order_finished" as const, seq, orderId: marketBuy.id, finishAs: "filled" as const },
      // The ask filled 0.01 of 0.02: it cannot end filled.
      {
        kind: "order_finished" as const,
        seq: seq + 1n,
        orderId: ask.id,
        finishAs: "filled" as const,
      },
    ]) {
      const batch =
        event.orderId === ask.id
          ? [tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30000"), event]
          : [event];
      await expect(applySettlementBatch(f.db, "BTC_USDT", batch)).rejects.toMatchObject({
        label: "SETTLEMENT_REJECTED",
      });
    }
    expect(await orderRow(f.db, marketBuy.id)).toMatchObject({ status: "pending" });
    expect(await orderRow(f.db, ask.id)).toMatchObject({ status: "pending", filled_base_lots: 0n });
    expect(await lastSeq(f.db, "BTC_USDT")).toBe(seq - 1n);
  });

  it("refuses an ending whose finish_as and status disagree (filled but cancelled, zero fills)", async () => {
    const { buyer } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const seq = await nextSeq();
    await expect(
      applySettlementBatch(f.db, "BTC_USDT", [
        { kind: "order_finished", seq, orderId: bid.id, finishAs: "filled", status: "cancelled" },
      ]),
    ).rejects.toMatchObject({ label: "SETTLEMENT_REJECTED" });
    await expect(
      applySettlementBatch(f.db, "BTC_USDT", [
        { kind: "order_finished", seq, orderId: bid.id, finishAs: "cancelled", status: "closed" },
      ]),
    ).rejects.toMatchObject({ label: "SETTLEMENT_REJECTED" });
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "pending",
      finish_as: "open",
      hold_remaining: USDT("300"),
    });
  });
});

describe("trade ids are idempotent", () => {
  it("treats the same trade under a new sequence number, or twice in one batch, as a no-op", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.02", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.02", "30000");
    const seq = await nextSeq();
    const trade = tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30000");
    const twice = await applySettlementBatch(f.db, "BTC_USDT", [
      trade,
      { ...trade, seq: seq + 1n },
    ]);
    expect(twice).toMatchObject({ ok: true, applied: 2, lastSeq: seq + 1n });
    // Redelivered later under yet another sequence number.
    const again = await applySettlementBatch(f.db, "BTC_USDT", [{ ...trade, seq: seq + 2n }]);
    expect(again).toMatchObject({ ok: true, applied: 1, lastSeq: seq + 2n });
    expect(again.ok && again.changes).toEqual({
      orders: [],
      balances: [],
      trades: [],
      triggered: [],
    });
    expect(await orderRow(f.db, bid.id)).toMatchObject({
      status: "open",
      filled_base_lots: 100n,
      hold_remaining: USDT("300"),
    });
    expect(await balanceOf(f.db, seller, "USDT")).toEqual({ available: USDT("299.7"), locked: 0n });
    const trades = await f.db.execute(
      sql`SELECT count(*)::int AS n FROM trades WHERE market = 'BTC_USDT' AND id = ${trade.tradeId}`,
    );
    expect(trades.rows[0]).toEqual({ n: 1 });
  });

  it("refuses a trade id reused for a different trade", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.02", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.02", "30000");
    const seq = await nextSeq();
    const trade = tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30000");
    await applySettlementBatch(f.db, "BTC_USDT", [trade]);
    await expect(
      applySettlementBatch(f.db, "BTC_USDT", [
        { ...tradeEvent(f.btcUsdt, seq + 1n, ask, bid, "0.005", "30000"), tradeId: trade.tradeId },
      ]),
    ).rejects.toMatchObject({ label: "SETTLEMENT_REJECTED" });
    expect(await lastSeq(f.db, "BTC_USDT")).toBe(seq);
  });
});

describe("trades the engine could not have made are refused, not written", () => {
  /** Runs the batch, expects SETTLEMENT_REJECTED, and checks nothing moved. */
  async function refused(events: SettlementEvent[], reason: RegExp, watch: bigint[]) {
    const before = await Promise.all(watch.map((id) => orderRow(f.db, id)));
    const seqBefore = await lastSeq(f.db, "BTC_USDT");
    await expect(applySettlementBatch(f.db, "BTC_USDT", events)).rejects.toMatchObject({
      label: "SETTLEMENT_REJECTED",
      message: expect.stringMatching(reason),
    });
    expect(await Promise.all(watch.map((id) => orderRow(f.db, id)))).toEqual(before);
    expect(await lastSeq(f.db, "BTC_USDT")).toBe(seqBefore);
  }

  it("a market sell filled at 0.01 against a 30,000 bid (not the maker's price)", async () => {
    const { buyer, seller } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const sell = await placeMarket(f.db, f.btcUsdt, seller, "sell", "0.01");
    await refused(
      [tradeEvent(f.btcUsdt, await nextSeq(), bid, sell, "0.01", "0.01")],
      /not the maker's/,
      [bid.id, sell.id],
    );
  });

  it("market against market, either way round", async () => {
    const { buyer, seller } = await traders();
    const buy = await placeMarket(f.db, f.btcUsdt, buyer, "buy", "300");
    const sell = await placeMarket(f.db, f.btcUsdt, seller, "sell", "0.01");
    const seq = await nextSeq();
    // No price to agree on: whatever the event says, a market maker never rested.
    const asMaker = { ...tradeEvent(f.btcUsdt, seq, sell, buy, "0.01", "30000") };
    await refused([asMaker], /market order, which never rests/, [buy.id, sell.id]);
    await refused(
      [tradeEvent(f.btcUsdt, seq, buy, sell, "0.01", "30000")],
      /market order, which never rests/,
      [buy.id, sell.id],
    );
  });

  it("a limit taker that did not cross, and a sell below its own limit", async () => {
    const { buyer, seller } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30100");
    const seq = await nextSeq();
    await refused(
      [tradeEvent(f.btcUsdt, seq, bid, ask, "0.01", "30000")],
      /beyond the taker's limit/,
      [bid.id, ask.id],
    );
    await refused(
      [tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30100")],
      /beyond the taker's limit/,
      [bid.id, ask.id],
    );
  });

  it("a market buy spending more than it holds, and a fill beyond an order's amount", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.1", "30000");
    const buy = await placeMarket(f.db, f.btcUsdt, buyer, "buy", "100"); // 100 USDT
    const seq = await nextSeq();
    await refused(
      [tradeEvent(f.btcUsdt, seq, ask, buy, "0.004", "30000")], // 120 USDT
      /beyond the .* it holds/,
      [ask.id, buy.id],
    );
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    await refused(
      [tradeEvent(f.btcUsdt, seq, ask, bid, "0.02", "30000")],
      /would fill 200 of 100/,
      [ask.id, bid.id],
    );
  });

  it("mismatched users or sides, unknown orders, and a wrong quote amount", async () => {
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const seq = await nextSeq();
    const good = tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30000");
    for (const [event, reason] of [
      [{ ...good, makerUserId: buyer }, /belongs to another user/],
      [{ ...good, takerSide: "sell" as const }, /is a buy/],
      [{ ...good, takerOrderId: 987_654_321n }, /does not exist/],
      [{ ...good, quoteAmount: good.quoteAmount + 1n }, /quote amount/],
    ] as const) {
      await refused([event], reason, [ask.id, bid.id]);
    }
  });
});

describe("every ending comes from the engine's stream", () => {
  it("offers no way to end an order outside applySettlementBatch", async () => {
    const api = await import("../src/index");
    expect(Object.keys(api)).not.toContain("finishOrder");
    // The only exported writers of orders: placement (creates) and settlement (fills, ends);
    // ordersByText only reads.
    const readers = new Set(["ordersByText"]);
    const orderWriters = Object.keys(api).filter(
      (name) =>
        /order/i.test(name) &&
        !readers.has(name) &&
        typeof (api as Record<string, unknown>)[name] === "function",
    );
    expect(orderWriters.sort()).toEqual(["placeOrderHold", "placeOrders"]);
  });

  it("a cancel and a trade racing for the same order settle in the engine's order, 20 rounds", async () => {
    for (let round = 0; round < 20; round++) {
      const { buyer, seller } = await traders();
      const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
      const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.02", "30000");
      const seq = await nextSeq();
      // The engine either matched first and then cancelled the rest, or cancelled first (and
      // then there was no trade). Either stream settles; neither wedges the market.
      const events: SettlementEvent[] =
        round % 2 === 0
          ? [
              tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30000"),
              { kind: "order_finished", seq: seq + 1n, orderId: bid.id, finishAs: "cancelled" },
            ]
          : [
              { kind: "order_finished", seq, orderId: bid.id, finishAs: "cancelled" },
              { kind: "order_finished", seq: seq + 1n, orderId: ask.id, finishAs: "cancelled" },
            ];
      const [result] = await Promise.all([
        applySettlementBatch(f.db, "BTC_USDT", events),
        applySettlementBatch(f.db, "BTC_USDT", events), // a redelivery racing it
      ]);
      expect(result.ok).toBe(true);
      expect(await orderRow(f.db, bid.id)).toMatchObject({
        status: "cancelled",
        hold_remaining: 0n,
        filled_base_lots: round % 2 === 0 ? 100n : 0n,
      });
      expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
        available: round % 2 === 0 ? USDT("700") : USDT("1000"),
        locked: 0n,
      });
    }
    // A trade for an order the stream already ended is refused with a label, never a raw error.
    const { buyer, seller } = await traders();
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const seq = await nextSeq();
    await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "order_finished", seq, orderId: bid.id, finishAs: "cancelled" },
    ]);
    await expect(
      applySettlementBatch(f.db, "BTC_USDT", [
        tradeEvent(f.btcUsdt, seq + 1n, ask, bid, "0.01", "30000"),
      ]),
    ).rejects.toMatchObject({
      label: "SETTLEMENT_REJECTED",
      message: expect.stringMatching(/already cancelled/),
    });
  });
});

describe("amends (gate.io's PATCH): the hold locked first, then exactly what the order needs", () => {
  const amend = (
    order: { id: bigint; userId: bigint },
    change: { priceTicks?: bigint; amount?: bigint },
  ) =>
    requestAmend(f.db, f.btcUsdt, {
      userId: order.userId,
      orderId: order.id,
      priceTicks: change.priceTicks ?? null,
      amount: change.amount ?? null,
      amendText: "t1",
      topic: "test-orders",
      command: () => ({ amend: true }),
    });
  const amendRow = async (id: bigint) =>
    (
      await f.db.execute(sql`
        SELECT price_ticks, amount, hold_remaining, amends, amend_pending, amend_reserved, amend_text
          FROM orders WHERE id = ${id}`)
    ).rows[0];
  const ticks = (price: string) => parseDecimal(price, f.btcUsdt.pricePrecision);
  const lots = (amount: string) => parseDecimal(amount, f.btcUsdt.amountPrecision);

  it("a higher price locks the difference up front; settling the amend keeps exactly that", async () => {
    const { buyer } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "20000");
    const queued = await amend(bid, { priceTicks: ticks("21000") });
    expect(queued.status).toBe("queued");
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("790"),
      locked: USDT("210"),
    });
    // A second amend waits while the engine has the first.
    expect((await amend(bid, { amount: lots("0.005") })).status).toBe("busy");
    await applySettlementBatch(f.db, "BTC_USDT", [
      {
        kind: "order_amended",
        seq: await nextSeq(),
        orderId: bid.id,
        priceTicks: ticks("21000"),
        leftLots: lots("0.01"),
      },
    ]);
    expect(await amendRow(bid.id)).toMatchObject({
      price_ticks: ticks("21000"),
      amount: lots("0.01"),
      hold_remaining: USDT("210"),
      amends: 1,
      amend_pending: false,
      amend_reserved: 0n,
      amend_text: "t1",
    });
    // Now the smaller amount: nothing to lock; settling it returns half.
    expect((await amend(bid, { amount: lots("0.005") })).status).toBe("queued");
    await applySettlementBatch(f.db, "BTC_USDT", [
      {
        kind: "order_amended",
        seq: await nextSeq(),
        orderId: bid.id,
        priceTicks: ticks("21000"),
        leftLots: lots("0.005"),
      },
    ]);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("895"),
      locked: USDT("105"),
    });
    expect((await runReconciliation(f.db)).findings).toEqual([]);
  });

  it("a refused amend returns what its request locked; an amend beyond the balance locks nothing", async () => {
    const { buyer } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "20000");
    await expect(amend(bid, { amount: lots("1") })).rejects.toMatchObject({
      label: "BALANCE_NOT_ENOUGH",
    });
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("800"),
      locked: USDT("200"),
    });
    await amend(bid, { amount: lots("0.02") });
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("600"),
      locked: USDT("400"),
    });
    await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "amend_rejected", seq: await nextSeq(), orderId: bid.id },
    ]);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("800"),
      locked: USDT("200"),
    });
    expect(await amendRow(bid.id)).toMatchObject({
      amount: lots("0.01"),
      amends: 0,
      amend_pending: false,
      amend_reserved: 0n,
    });
    expect((await runReconciliation(f.db)).findings).toEqual([]);
  });

  it("refuses an amended order its hold cannot pay for, and writes nothing", async () => {
    const { buyer } = await traders();
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "20000");
    const seq = await nextSeq();
    await expect(
      applySettlementBatch(f.db, "BTC_USDT", [
        {
          kind: "order_amended",
          seq,
          orderId: bid.id,
          priceTicks: ticks("20000"),
          leftLots: lots("0.02"),
        },
      ]),
    ).rejects.toMatchObject({ label: "SETTLEMENT_REJECTED" });
    expect(await lastSeq(f.db, "BTC_USDT")).toBe(seq - 1n);
    expect(await amendRow(bid.id)).toMatchObject({ amount: lots("0.01"), amends: 0 });
  });
});
