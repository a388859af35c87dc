// Group-commit placement: a batch of orders written by one statement, each order with its own
// outcome, a client order id placed once however often (and however concurrently) it is sent,
// balances never overspent across batches — and balances read without locks: a batch whose
// balance moved between its read and its write decides again, and settlement racing placement
// on the same balances leaves the ledger exact.
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/client";
import { isLedgerError } from "../src/errors";
import { holdFunds, releaseFunds } from "../src/ledger";
import type { Order, PlaceOrderInput } from "../src/orders";
import { type PlaceResult, placeOrders } from "../src/placement";
import { runReconciliation } from "../src/reconciliation";
import * as schema from "../src/schema";
import { applySettlementBatch, type SettlementEvent } from "../src/settlement";
import { BTC, balanceOf, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";
import { lastSeq, tradeEvent } from "./trading";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture({ poolSize: 40 });
});
afterAll(async () => {
  await f?.test.drop();
});

const bid = (userId: bigint, amount: bigint, extra: Partial<PlaceOrderInput> = {}) =>
  ({
    userId,
    market: "BTC_USDT",
    side: "buy",
    type: "limit",
    priceTicks: 3_000_000n, // 30,000.00: one lot (0.0001 BTC) holds 3 USDT
    amount,
    ...extra,
  }) satisfies PlaceOrderInput;

const command = {
  topic: "spotx.orders",
  payload: (order: { id: bigint; amount: bigint }) => ({ orderId: order.id, amount: order.amount }),
};

function labelOf(result: PlaceResult | undefined): string {
  if (!result) return "missing";
  return result.ok ? "placed" : result.error.label;
}

describe("placeOrders", () => {
  it("gives each input of a mixed batch its own outcome, in input order", async () => {
    const buyer = await createUser(f.db);
    const frozen = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("10")); // covers 3 lots, not 4
    await fund(f.db, frozen, "USDT", USDT("10"));
    await f.db.execute(sql`UPDATE users SET status = 'frozen' WHERE id = ${frozen}`);
    const results = await placeOrders(f.db, [
      bid(buyer, 2n, { outbox: command }), // 6 USDT
      bid(buyer, 2n), // 6 more: only 4 left
      bid(buyer, 1n, { outbox: command }), // 3 USDT: still fits
      bid(987_654_321n, 1n),
      bid(frozen, 1n),
      bid(buyer, 1n, { market: "DOGE_USDT" }),
      { ...bid(buyer, 1n), amount: 1 as unknown as bigint }, // a number where a bigint belongs
      bid(buyer, 1n, { priceTicks: 100n }), // 0.0001 × 1.00 USDT is below the minimum
    ]);
    expect(results.map(labelOf)).toEqual([
      "placed",
      "BALANCE_NOT_ENOUGH",
      "placed",
      "NOT_FOUND",
      "FORBIDDEN",
      "INVALID_CURRENCY_PAIR",
      "INVALID_PARAM_VALUE",
      "AMOUNT_TOO_LITTLE",
    ]);
    const [first, , third] = results;
    if (!first?.ok || !third?.ok) throw new Error("orders not placed");
    expect(third.order.id).toBeGreaterThan(first.order.id);
    expect(first.order).toMatchObject({
      status: "pending",
      holdAmount: USDT("6"),
      holdRemaining: USDT("6"),
    });
    // Both outbox rows, in the orders' order, keyed by the market.
    expect(third.outboxId).toBeGreaterThan(first.outboxId ?? 0n);
    const outbox = await f.db.execute<{ id: bigint; key: string; payload: unknown }>(sql`
      SELECT id, key, payload FROM outbox WHERE id IN (${first.outboxId}, ${third.outboxId}) ORDER BY id`);
    expect(outbox.rows).toEqual([
      {
        id: first.outboxId,
        key: "BTC_USDT",
        payload: { orderId: `${first.order.id}`, amount: "2" },
      },
      {
        id: third.outboxId,
        key: "BTC_USDT",
        payload: { orderId: `${third.order.id}`, amount: "1" },
      },
    ]);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("1"),
      locked: USDT("9"),
    });
    // Each placed order has its own balanced hold transfer.
    const holds = await f.db.execute<{ ref: string; total: bigint; locked: bigint }>(sql`
      SELECT t.ref, sum(e.amount)::int8 AS total,
             sum(e.amount) FILTER (WHERE e.bucket = 'locked')::int8 AS locked
        FROM transfers t JOIN ledger_entries e ON e.transfer_id = t.id
       WHERE t.ref IN (${`order:${first.order.id}:hold`}, ${`order:${third.order.id}:hold`})
       GROUP BY t.ref ORDER BY t.ref`);
    expect(holds.rows.map((r) => [r.total, r.locked])).toEqual([
      [0n, USDT("6")],
      [0n, USDT("3")],
    ]);
  });

  it("places every order that repeats a client order id as an order of its own: in the same batch and in a later one", async () => {
    const buyer = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("100"));
    const results = await placeOrders(f.db, [
      bid(buyer, 1n, { text: "t-a", outbox: command }),
      bid(buyer, 1n, { text: "t-a", outbox: command }),
      bid(buyer, 2n, { text: "t-b", outbox: command }),
    ]);
    expect(results.map(labelOf)).toEqual(["placed", "placed", "placed"]);
    const [a, aAgain] = results;
    if (!a?.ok || !aAgain?.ok) throw new Error("not placed");
    expect(aAgain.order.id).not.toBe(a.order.id);
    expect([a.order.text, aAgain.order.text]).toEqual(["t-a", "t-a"]);
    expect(aAgain.outboxId).not.toBeNull();

    const later = await placeOrders(f.db, [bid(buyer, 5n, { text: "t-a", outbox: command })]);
    expect(later.map(labelOf)).toEqual(["placed"]);
    expect(later[0]?.ok && later[0].order.id).toBeGreaterThan(aAgain.order.id);

    // Four orders, four commands, four holds: 3 + 3 + 6 + 15 USDT.
    const counts = await f.db.execute(sql`
      SELECT (SELECT count(*)::int FROM orders WHERE user_id = ${buyer}) AS orders,
             (SELECT count(*)::int FROM outbox
               WHERE payload->>'orderId' IN (SELECT id::text FROM orders WHERE user_id = ${buyer})) AS outbox`);
    expect(counts.rows[0]).toEqual({ orders: 4, outbox: 4 });
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("73"),
      locked: USDT("27"),
    });
  });

  it("places all of 10 concurrent batches that carry the same client order id", async () => {
    const buyer = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("1000"));
    const batches = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        placeOrders(f.db, [
          bid(buyer, 1n, { text: "t-race", outbox: command }),
          bid(buyer, 1n, { text: `t-own-${i}` }),
        ]),
      ),
    );
    expect(batches.flat().map(labelOf)).toEqual(Array(20).fill("placed"));
    const raced = batches.map((b) => (b[0]?.ok ? b[0].order.id : 0n));
    expect(new Set(raced).size).toBe(10);
    // 20 orders of 3 USDT.
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("940"),
      locked: USDT("60"),
    });
    const outbox = await f.db.execute(sql`
      SELECT count(*)::int AS n FROM outbox
       WHERE payload->>'orderId' IN (SELECT id::text FROM orders WHERE user_id = ${buyer} AND text = 't-race')`);
    expect(outbox.rows[0]).toEqual({ n: 10 });
  });

  it("never overspends across 20 concurrent batches: a balance covering 50 orders places exactly 50", async () => {
    const seller = await createUser(f.db);
    await fund(f.db, seller, "BTC", BTC("5")); // 50 × 0.1 BTC
    const sell = {
      userId: seller,
      market: "BTC_USDT",
      side: "sell",
      type: "limit",
      priceTicks: 3_000_000n,
      amount: 1_000n,
    } satisfies PlaceOrderInput;
    const batches = await Promise.all(
      Array.from({ length: 20 }, () =>
        placeOrders(
          f.db,
          Array.from({ length: 10 }, () => sell),
        ),
      ),
    );
    const outcomes = batches.flat().map(labelOf);
    expect(outcomes.filter((o) => o === "placed")).toHaveLength(50);
    expect(outcomes.filter((o) => o === "BALANCE_NOT_ENOUGH")).toHaveLength(150);
    expect(await balanceOf(f.db, seller, "BTC")).toEqual({ available: 0n, locked: BTC("5") });
  });

  it("writes a batch with the same few statements whatever its size (no per-order round trips)", async () => {
    const statements: string[] = [];
    const counted: Database = drizzle(f.test.pool, {
      schema,
      logger: { logQuery: (query) => statements.push(query) },
    });
    const counts: number[] = [];
    // The first batch on a handle reads its markets and draws a block of ids; later ones need
    // neither, and write in ONE statement when every account has the funds.
    for (const size of [1, 5, 100]) {
      const users = await Promise.all(Array.from({ length: size }, () => createUser(f.db)));
      for (const user of users) await fund(f.db, user, "USDT", USDT("100"));
      statements.length = 0;
      const results = await placeOrders(
        counted,
        users.map((user, i) => bid(user, 1n, { text: `t-${size}-${i}`, outbox: command })),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      counts.push(statements.length);
    }
    expect(counts[0]).toBeLessThanOrEqual(6);
    expect(counts.slice(1)).toEqual([1, 1]);
  });

  it("decides again when the balance moved between its read and its write: no overspend, each order its answer", async () => {
    const buyer = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("10"));
    // Another writer holds the balance row; a batch reads it meanwhile (reads do not wait)…
    let holding: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const other = f.db.transaction(async (tx) => {
      await tx.execute(
        sql`SELECT 1 FROM balances WHERE user_id = ${buyer} AND asset = 'USDT' FOR UPDATE`,
      );
      holding();
      await gate;
      // …and takes 4 USDT (a withdrawal's hold, say) before committing: 6 are left.
      await holdFunds(tx, {
        userId: buyer,
        asset: "USDT",
        amount: USDT("4"),
        ref: `race:${buyer}`,
      });
    });
    await held;
    // Three bids of 3 USDT each: 9 of the 10 available when read.
    const placing = placeOrders(f.db, [bid(buyer, 1n), bid(buyer, 1n), bid(buyer, 1n)]);
    // The batch's write waits for the row: its balance update comes after its read and decision.
    await expect
      .poll(
        async () =>
          (
            await f.db.execute<{ n: number }>(sql`
              SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'
                 AND query LIKE '%WITH x AS MATERIALIZED%'`)
          ).rows[0]?.n,
        { timeout: 5_000 },
      )
      .toBe(1);
    release();
    await other;
    // The write re-checked the balance, found 6, wrote nothing; decided again in input order
    // from the 6 left: two fit, the third does not.
    const results = await placing;
    expect(results.map(labelOf)).toEqual(["placed", "placed", "BALANCE_NOT_ENOUGH"]);
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({ available: 0n, locked: USDT("10") });
    const orders = await f.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM orders WHERE user_id = ${buyer}`,
    );
    expect(orders.rows[0]?.n).toBe(2);
    // The other writer's hold ends (nothing records it; reconciliation would rightly object).
    await f.db.transaction((tx) =>
      releaseFunds(tx, { userId: buyer, asset: "USDT", amount: USDT("4"), ref: `unrace:${buyer}` }),
    );
  });

  it("races settlement on the same balances: never negative, every order answered, the ledger exact", async () => {
    const buyer = await createUser(f.db);
    const seller = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("600")); // 200 one-lot bids at 30,000
    await fund(f.db, seller, "BTC", BTC("1"));
    const placed = async (inputs: PlaceOrderInput[]) =>
      (await placeOrders(f.db, inputs)).map((r) => {
        if (!r.ok) throw r.error;
        return r.order;
      });
    // 100 resting bids (300 USDT locked) and 50 sells that will take half of them.
    const bids = await placed(Array.from({ length: 100 }, () => bid(buyer, 1n)));
    const sells = await placed(
      Array.from({ length: 50 }, () => ({ ...bid(seller, 1n), side: "sell" as const })),
    );
    let seq = await lastSeq(f.db, "BTC_USDT");
    const next = () => {
      seq += 1n;
      return seq;
    };
    const accepted: SettlementEvent[] = bids.map((o) => ({
      kind: "order_accepted",
      seq: next(),
      orderId: o.id,
    }));
    expect(await applySettlementBatch(f.db, "BTC_USDT", accepted)).toMatchObject({ ok: true });

    // Settlement: ten batches, each filling five bids (3 USDT spent from locked each) and
    // cancelling five (3 USDT back to available each) — while 30 placement batches of ten more
    // bids each (900 USDT wanted) hold from the same balance.
    const settle = async () => {
      for (let b = 0; b < 10; b++) {
        const events: SettlementEvent[] = [];
        for (let i = 0; i < 5; i++) {
          const maker = bids[b * 10 + i] as Order;
          const taker = sells[b * 5 + i] as Order;
          events.push(tradeEvent(f.btcUsdt, next(), maker, taker, "0.0001", "30000"));
        }
        for (let i = 5; i < 10; i++) {
          const order = bids[b * 10 + i] as Order;
          events.push({
            kind: "order_finished",
            seq: next(),
            orderId: order.id,
            finishAs: "cancelled",
          });
        }
        const result = await applySettlementBatch(f.db, "BTC_USDT", events);
        expect(result).toMatchObject({ ok: true, applied: 10 });
      }
    };
    const place = () =>
      Promise.all(
        Array.from({ length: 30 }, () =>
          placeOrders(
            f.db,
            Array.from({ length: 10 }, () => bid(buyer, 1n)),
          ),
        ),
      );
    const [, batches] = await Promise.all([settle(), place()]);
    const outcomes = batches.flat().map(labelOf);
    expect(outcomes.filter((o) => o !== "placed" && o !== "BALANCE_NOT_ENOUGH")).toEqual([]);
    const newBids = outcomes.filter((o) => o === "placed").length;
    // 300 USDT were available from the start and 150 came back by cancels: at least 100 new
    // bids fit whenever they ran, at most 150.
    expect(newBids).toBeGreaterThanOrEqual(100);
    expect(newBids).toBeLessThanOrEqual(150);
    // 600 funded, 150 spent on the 50 fills; what is left is locked by the new bids exactly.
    expect(await balanceOf(f.db, buyer, "USDT")).toEqual({
      available: USDT("450") - USDT("3") * BigInt(newBids),
      locked: USDT("3") * BigInt(newBids),
    });
    expect(await balanceOf(f.db, buyer, "BTC")).toEqual({
      available: BTC("0.005") - 50n * 10n, // 50 lots less the 0.1 % maker fee (10 sat each)
      locked: 0n,
    });
    const reconciliation = await runReconciliation(f.db);
    expect(reconciliation.findings).toEqual([]);
  }, 60_000);

  it("answers a call that is not a list with a label", async () => {
    const error = await placeOrders(f.db, "orders" as unknown as PlaceOrderInput[]).catch(
      (e: unknown) => e,
    );
    expect(isLedgerError(error, "INVALID_PARAM_VALUE")).toBe(true);
    expect(await placeOrders(f.db, [])).toEqual([]);
  });
});
