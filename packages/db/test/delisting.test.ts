// Delisting's settlement (issue 19): the engine's `delisted` cancels release every hold to the
// minor unit, the market becomes closed, its waiting price orders end, its history stays, and
// nothing new is placed in it — reconciliation clean throughout.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLedgerError } from "../src/errors";
import { placeOrderHold } from "../src/placement";
import { createPriceOrder } from "../src/price-orders";
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

const arm = { topic: "test.orders", command: (o: { id: bigint }) => ({ arm: String(o.id) }) };

describe("settling a delisting (ETH_USDT: maker 0.1 %, taker 0.2 %)", () => {
  it("releases every hold exactly, closes the market, ends its price orders and keeps its trades", async () => {
    const seller = await createUser(f.db);
    const buyer = await createUser(f.db);
    const bidder = await createUser(f.db);
    await fund(f.db, seller, "ETH", ETH("1"));
    await fund(f.db, buyer, "USDT", USDT("1000"));
    await fund(f.db, bidder, "USDT", USDT("1000"));

    const ask = await placeLimit(f.db, f.ethUsdt, seller, "sell", "1", "2000");
    const take = await placeLimit(f.db, f.ethUsdt, buyer, "buy", "0.4", "2000");
    const bid = await placeLimit(f.db, f.ethUsdt, bidder, "buy", "0.3", "1900.55");
    const waiting = await createPriceOrder(
      f.db,
      {
        userId: bidder,
        market: "ETH_USDT",
        triggerPriceTicks: 180_000n,
        rule: "lte",
        expirationSeconds: 0,
        side: "buy",
        type: "limit",
        priceTicks: 180_000n,
        amount: 1_000n,
        timeInForce: "gtc",
        text: null,
        maxOpen: 10,
      },
      arm,
    );
    if (waiting === "too_many") throw new Error("price order refused");
    expect(await balanceOf(f.db, bidder, "USDT")).toEqual({
      available: USDT("429.835"),
      locked: USDT("570.165"), // 0.3 × 1900.55
    });

    let seq = await lastSeq(f.db, "ETH_USDT");
    const next = () => {
      seq += 1n;
      return seq;
    };
    const accepted = await applySettlementBatch(f.db, "ETH_USDT", [
      { kind: "order_accepted", seq: next(), orderId: ask.id },
      tradeEvent(f.ethUsdt, next(), ask, take, "0.4", "2000"),
      { kind: "order_accepted", seq: next(), orderId: bid.id },
    ]);
    expect(accepted.ok).toBe(true);

    // The engine's delist: each resting order cancelled (finish_as delisted), then `delisted`.
    const delisted = await applySettlementBatch(f.db, "ETH_USDT", [
      { kind: "order_finished", seq: next(), orderId: ask.id, finishAs: "delisted" },
      { kind: "noop", seq: next() }, // the ask level going to 0
      { kind: "order_finished", seq: next(), orderId: bid.id, finishAs: "delisted" },
      { kind: "noop", seq: next() },
      { kind: "market_delisted", seq: next() },
    ]);
    if (!delisted.ok) throw new Error(`batch refused: ${delisted.error}`);
    expect(delisted.changes.orders.map((o) => [o.id, o.status, o.finishAs, o.released])).toEqual(
      expect.arrayContaining([
        [ask.id, "cancelled", "delisted", ETH("0.6")],
        [bid.id, "cancelled", "delisted", USDT("570.165")],
      ]),
    );

    // Holds back to the minor unit; the fill before it stays.
    expect(await balanceOf(f.db, seller, "ETH")).toEqual({ available: ETH("0.6"), locked: 0n });
    expect(await balanceOf(f.db, seller, "USDT")).toEqual({
      available: USDT("799.2"), // 800 less the 0.1 % maker fee
      locked: 0n,
    });
    expect(await balanceOf(f.db, bidder, "USDT")).toEqual({ available: USDT("1000"), locked: 0n });
    expect(await orderRow(f.db, take.id)).toMatchObject({ status: "closed", finish_as: "filled" });
    expect(await orderRow(f.db, ask.id)).toMatchObject({
      status: "cancelled",
      finish_as: "delisted",
      filled_base_lots: 4_000n,
      hold_remaining: 0n,
    });

    const market = await f.db.execute<{ status: string }>(
      sql`SELECT status FROM markets WHERE symbol = 'ETH_USDT'`,
    );
    expect(market.rows[0]?.status).toBe("closed");
    const price = await f.db.execute<{ status: string; reason: string }>(
      sql`SELECT status, reason FROM price_orders WHERE id = ${waiting.id}`,
    );
    expect(price.rows[0]).toEqual({ status: "cancelled", reason: "the market was delisted" });
    const trades = await f.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM trades WHERE market = 'ETH_USDT'`,
    );
    expect(trades.rows[0]?.n).toBe(1);
    expect((await runReconciliation(f.db)).findings).toEqual([]);

    // Redelivered, the delisting is a no-op.
    const again = await applySettlementBatch(f.db, "ETH_USDT", [{ kind: "market_delisted", seq }]);
    expect(again).toMatchObject({ ok: true, applied: 0, skipped: 1 });
  });

  it("refuses a placement and a price order in the closed market with MARKET_CLOSED, holding nothing", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("100"));
    const placed = await placeOrderHold(f.db, {
      userId: user,
      market: "ETH_USDT",
      side: "buy",
      type: "limit",
      priceTicks: 200_000n,
      amount: 100n,
    }).catch((e: unknown) => e);
    expect(isLedgerError(placed, "MARKET_CLOSED")).toBe(true);
    const priced = await createPriceOrder(
      f.db,
      {
        userId: user,
        market: "ETH_USDT",
        triggerPriceTicks: 180_000n,
        rule: "lte",
        expirationSeconds: 0,
        side: "buy",
        type: "limit",
        priceTicks: 180_000n,
        amount: 1_000n,
        timeInForce: "gtc",
        text: null,
        maxOpen: 10,
      },
      arm,
    ).catch((e: unknown) => e);
    expect(isLedgerError(priced, "MARKET_CLOSED")).toBe(true);
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("100"), locked: 0n });
  });
});
