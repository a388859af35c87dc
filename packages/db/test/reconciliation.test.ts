// Reconciliation finds what was changed behind the ledger's back, names exactly the user and
// asset, records the run, and stays silent on a clean ledger after 10,000 random operations.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLedgerError } from "../src/errors";
import { adjustWithLock } from "../src/ledger";
import { createAsset } from "../src/markets";
import {
  reconciliationMetrics,
  runReconciliation,
  runReconciliationExclusive,
} from "../src/reconciliation";
import { applySettlementBatch } from "../src/settlement";
import { BTC, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";
import { LedgerSimulation, type Op, randomSource } from "./simulation";
import { lastSeq, placeLimit, tradeEvent } from "./trading";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:recon:${randomUUID()}:` });
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

describe("reconciliation", () => {
  it("reports nothing on a clean ledger and records the run", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "BTC", BTC("2"));
    await placeLimit(f.db, f.btcUsdt, user, "sell", "0.5", "30000");
    const run = await runReconciliation(f.db);
    expect(run).toMatchObject({ status: "clean", findings: [] });
    expect(run.accountsChecked).toBeGreaterThan(0);
    const stored = await f.db.execute(
      sql`SELECT status, findings_count FROM reconciliation_runs WHERE id = ${run.id}`,
    );
    expect(stored.rows).toEqual([{ status: "clean", findings_count: 0 }]);
    expect((await reconciliationMetrics.findings.get()).values[0]?.value).toBe(0);
  });

  it("names exactly the user and asset whose balance was changed by raw SQL without an entry", async () => {
    const victim = await createUser(f.db);
    const bystander = await createUser(f.db);
    await fund(f.db, victim, "USDT", USDT("100"));
    await fund(f.db, victim, "BTC", BTC("1"));
    await fund(f.db, bystander, "USDT", USDT("100"));
    await f.db.execute(
      sql`UPDATE balances SET available = available + 5000000 WHERE user_id = ${victim} AND asset = 'USDT'`,
    );
    const run = await runReconciliation(f.db);
    expect(run.status).toBe("mismatch");
    expect(run.findings).toEqual([
      expect.objectContaining({
        kind: "available_mismatch",
        userId: victim,
        asset: "USDT",
        expected: USDT("100"),
        actual: USDT("105"),
      }),
    ]);
    const stored = await f.db.execute(
      sql`SELECT kind, user_id, asset, expected::int8, actual::int8 FROM reconciliation_findings WHERE run_id = ${run.id}`,
    );
    expect(stored.rows).toEqual([
      {
        kind: "available_mismatch",
        user_id: victim,
        asset: "USDT",
        expected: USDT("100"),
        actual: USDT("105"),
      },
    ]);
    expect((await reconciliationMetrics.findings.get()).values[0]?.value).toBe(1);
    // It never fixes anything itself: the corruption is still there, reported again.
    const again = await runReconciliation(f.db);
    expect(again.findings).toHaveLength(1);
    await f.db.execute(
      sql`UPDATE balances SET available = available - 5000000 WHERE user_id = ${victim} AND asset = 'USDT'`,
    );
  });

  it("finds a locked balance that no order or withdrawal explains", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "BTC", BTC("1"));
    const order = await placeLimit(f.db, f.btcUsdt, user, "sell", "0.1", "30000");
    // The order's hold vanishes without releasing the funds.
    await f.db.execute(
      sql`UPDATE orders SET hold_remaining = 0, status = 'cancelled', finish_as = 'cancelled' WHERE id = ${order.id}`,
    );
    const run = await runReconciliation(f.db);
    expect(run.findings).toEqual([
      expect.objectContaining({
        kind: "hold_mismatch",
        userId: user,
        asset: "BTC",
        expected: 0n,
        actual: BTC("0.1"),
      }),
    ]);
    await f.db.execute(sql`
      UPDATE orders SET hold_remaining = ${BTC("0.1")}, status = 'open', finish_as = 'open' WHERE id = ${order.id}`);
  });

  it("runs once cluster-wide: a second runner finds the lock busy and skips", async () => {
    const holder = await locks.acquire("job:reconciliation", 10_000);
    expect(await runReconciliationExclusive(f.db, locks)).toEqual({ ran: false, reason: "busy" });
    await holder?.release();
    const outcome = await runReconciliationExclusive(f.db, locks);
    expect(outcome.ran && outcome.run.fencingToken).toBe((holder?.token ?? 0n) + 1n);
  });

  it("reports nothing after 10,000 random operations, and the ledger matches a simple model", async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => createUser(f.db)));
    const sim = new LedgerSimulation(
      f.db,
      locks,
      f.ethUsdt,
      users,
      f.operatorId,
      `recon:${randomUUID()}`,
    );
    await sim.start();
    const random = randomSource(20250101);
    const price = () => random.big(199_000n, 201_000n); // 1,990.00 – 2,010.00 USDT
    for (let i = 0; i < users.length; i++) {
      await sim.apply({ kind: "deposit", user: i, asset: "quote", amount: USDT("20000") });
      await sim.apply({ kind: "deposit", user: i, asset: "base", amount: BTC("10") });
    }
    while (sim.operations < 10_000) {
      // Rounds of account operations, then a burst of engine events settled in one batch.
      for (let k = 0; k < 20; k++) {
        const roll = random.int(100);
        const user = random.int(users.length);
        const op: Op =
          roll < 40
            ? {
                kind: "limit",
                user,
                side: random.int(2) ? "buy" : "sell",
                priceTicks: price(),
                lots: random.big(10n, 2_000n),
              }
            : roll < 50
              ? { kind: "marketBuy", user, spend: random.big(USDT("5"), USDT("500")) }
              : roll < 70
                ? {
                    kind: "deposit",
                    user,
                    asset: random.int(2) ? "base" : "quote",
                    amount: random.big(1n, USDT("1000")),
                  }
                : roll < 85
                  ? {
                      kind: "withdraw",
                      user,
                      asset: random.int(2) ? "base" : "quote",
                      amount: random.big(1n, USDT("2000")),
                    }
                  : { kind: "decide", pick: random.int(1000), approve: random.int(3) > 0 };
        await sim.apply(op);
      }
      for (let k = 0; k < 20; k++) {
        await sim.apply(
          random.int(5) === 0
            ? { kind: "cancel", pick: random.int(1000) }
            : { kind: "match", pick: random.int(1000), share: random.next() },
        );
      }
    }
    expect(await sim.differences()).toEqual([]);
    const run = await runReconciliation(f.db);
    expect(run.findings).toEqual([]);
    expect(run.status).toBe("clean");
    const mix = await f.db.execute<{
      trades: number;
      market_buys: number;
      cancelled: number;
      paid_out: number;
      returned: number;
    }>(sql`
      SELECT (SELECT count(*)::int FROM trades WHERE market = 'ETH_USDT') AS trades,
             (SELECT count(*)::int FROM orders WHERE market = 'ETH_USDT' AND type = 'market' AND filled_base_lots > 0) AS market_buys,
             (SELECT count(*)::int FROM orders WHERE market = 'ETH_USDT' AND status = 'cancelled') AS cancelled,
             (SELECT count(*)::int FROM withdrawals WHERE status = 'completed') AS paid_out,
             (SELECT count(*)::int FROM withdrawals WHERE status = 'rejected') AS returned`);
    expect(mix.rows[0]).toEqual({
      trades: expect.any(Number),
      market_buys: expect.any(Number),
      cancelled: expect.any(Number),
      paid_out: expect.any(Number),
      returned: expect.any(Number),
    });
    for (const count of Object.values(mix.rows[0] ?? {})) expect(count).toBeGreaterThan(50);
  }, 170_000);
});

describe("reconciliation of trades, orders, sequences and the audit log", () => {
  /** Changes a row as the tables' owner would (the app role may not), runs, and undoes it. */
  async function tampered(change: ReturnType<typeof sql>, undo: ReturnType<typeof sql>) {
    await f.test.ownerDb.execute(change);
    try {
      return (await runReconciliation(f.db)).findings;
    } finally {
      await f.test.ownerDb.execute(undo);
    }
  }

  async function settledTrade() {
    const buyer = await createUser(f.db);
    const seller = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("1000"));
    await fund(f.db, seller, "BTC", BTC("1"));
    const ask = await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.02", "30000");
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.01", "30000");
    const seq = (await lastSeq(f.db, "BTC_USDT")) + 1n;
    const event = tradeEvent(f.btcUsdt, seq, ask, bid, "0.01", "30000");
    const result = await applySettlementBatch(f.db, "BTC_USDT", [event]);
    if (!result.ok) throw new Error("trade not settled");
    expect((await runReconciliation(f.db)).findings).toEqual([]);
    return { buyer, seller, ask, bid, tradeId: event.tradeId };
  }

  it("notices a trade edited after settlement: price, quantity or fee no longer match its transfer", async () => {
    const { tradeId, buyer } = await settledTrade();
    const trade = sql`market = 'BTC_USDT' AND id = ${tradeId}`;
    const fee = await tampered(
      sql`UPDATE trades SET buyer_fee = buyer_fee - 1000 WHERE ${trade}`,
      sql`UPDATE trades SET buyer_fee = buyer_fee + 1000 WHERE ${trade}`,
    );
    // The buyer's receipt and the fee account's entry no longer match what the trade says.
    expect(fee.map((x) => [x.kind, x.userId, x.asset, x.expected - x.actual])).toEqual(
      expect.arrayContaining([
        ["trade_mismatch", null, "BTC", -1000n],
        ["trade_mismatch", buyer, "BTC", 1000n],
        ["order_fill_mismatch", buyer, "BTC", -1000n],
      ]),
    );
    const price = await tampered(
      sql`UPDATE trades SET price_ticks = 100 WHERE ${trade}`,
      sql`UPDATE trades SET price_ticks = 3000000 WHERE ${trade}`,
    );
    expect(price).toEqual([
      expect.objectContaining({
        kind: "trade_mismatch",
        expected: 10_000n, // 0.01 USDT × 100 lots: 0.01 USDT per 0.0001 BTC at 1.00 × 100
        actual: USDT("300"),
        detail: expect.stringMatching(/quote amount 300000000 is not price × lots = 10000$/),
      }),
    ]);
    const moved = await tampered(
      sql`UPDATE trades SET transfer_id = transfer_id - 1 WHERE ${trade}`,
      sql`UPDATE trades SET transfer_id = transfer_id + 1 WHERE ${trade}`,
    );
    expect(moved.some((x) => x.kind === "trade_mismatch" && /its transfer/.test(x.detail))).toBe(
      true,
    );
    expect((await runReconciliation(f.db)).findings).toEqual([]);
  });

  it("notices an order whose fills or fee no longer add up to its trades", async () => {
    const { ask, seller } = await settledTrade();
    const findings = await tampered(
      sql`UPDATE orders SET filled_base_lots = 0 WHERE id = ${ask.id}`,
      sql`UPDATE orders SET filled_base_lots = 100 WHERE id = ${ask.id}`,
    );
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "order_fill_mismatch",
          userId: seller,
          expected: 100n,
          actual: 0n,
          detail: `order ${ask.id}: filled_base_lots is 0 but its trades sum to 100`,
        }),
      ]),
    );
  });

  it("notices a live order holding other than what it can still spend", async () => {
    const { ask, seller } = await settledTrade();
    // The ask sold 0.01 of 0.02 BTC: it can still spend 1,000,000 sat and holds exactly that.
    const findings = await tampered(
      sql`UPDATE orders SET hold_amount = hold_amount + 5 WHERE id = ${ask.id}`,
      sql`UPDATE orders SET hold_amount = hold_amount - 5 WHERE id = ${ask.id}`,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        kind: "order_hold_mismatch",
        userId: seller,
        asset: "BTC",
        expected: BTC("0.02"),
        actual: BTC("0.02") + 5n,
      }),
    ]);
  });

  it("notices an edited sequence row, which would skip or replay engine events", async () => {
    await settledTrade();
    const findings = await tampered(
      sql`UPDATE market_sequences SET last_seq = last_seq + 5 WHERE market = 'BTC_USDT'`,
      sql`UPDATE market_sequences SET last_seq = last_seq - 5 WHERE market = 'BTC_USDT'`,
    );
    const seq = await lastSeq(f.db, "BTC_USDT");
    expect(findings).toEqual([
      expect.objectContaining({ kind: "sequence_mismatch", expected: seq, actual: seq + 5n }),
    ]);
    const rewound = await tampered(
      sql`UPDATE market_sequences SET last_seq = 0 WHERE market = 'BTC_USDT'`,
      sql`UPDATE market_sequences SET last_seq = ${seq} WHERE market = 'BTC_USDT'`,
    );
    expect(rewound.map((x) => x.kind)).toEqual(["sequence_mismatch"]);
  });

  it("verifies the audit log's hash chain: an edit, a removal in the middle, a cut at the end", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("10"));
    const credit = () =>
      adjustWithLock(f.db, locks, {
        userId: user,
        asset: "USDT",
        amount: 1n,
        reason: "chain test",
        operatorId: f.operatorId,
        ref: randomUUID(),
      });
    await Promise.all([credit(), credit(), credit(), credit()]); // concurrent writers, one chain
    const rows = await f.db.execute<{ id: bigint; prev_hash: Buffer | null; hash: Buffer }>(
      sql`SELECT id, prev_hash, hash FROM audit_log ORDER BY id`,
    );
    for (let i = 1; i < rows.rows.length; i++) {
      expect(rows.rows[i]?.prev_hash).toEqual(rows.rows[i - 1]?.hash);
    }
    expect((await runReconciliation(f.db)).findings).toEqual([]);
    const ids = rows.rows.map((r) => r.id);
    // The four rows just written (earlier tests wrote others before them).
    const [second, third] = ids.slice(-3);
    const last = ids[ids.length - 1];
    if (second === undefined || third === undefined || last === undefined) {
      throw new Error("audit rows missing");
    }

    const edited = await tampered(
      sql`UPDATE audit_log SET details = details || '{"reason": "rewritten"}' WHERE id = ${second}`,
      sql`UPDATE audit_log SET details = details || '{"reason": "chain test"}' WHERE id = ${second}`,
    );
    expect(edited).toEqual([
      expect.objectContaining({
        kind: "audit_chain_broken",
        detail: expect.stringMatching(/edited/),
      }),
    ]);

    await f.test.ownerDb.execute(
      sql`CREATE TABLE audit_saved AS SELECT * FROM audit_log WHERE id = ${third}`,
    );
    const removed = await tampered(
      sql`DELETE FROM audit_log WHERE id = ${third}`,
      sql`INSERT INTO audit_log SELECT * FROM audit_saved`,
    );
    await f.test.ownerDb.execute(sql`DROP TABLE audit_saved`);
    expect(removed).toEqual([
      expect.objectContaining({
        kind: "audit_chain_broken",
        expected: ids[ids.indexOf(third) + 1],
        detail: expect.stringMatching(/removed or inserted/),
      }),
    ]);
    expect((await runReconciliation(f.db)).findings).toEqual([]); // restored exactly

    // Cutting the last row off leaves a valid chain; the head the last run saw is missing.
    await f.test.ownerDb.execute(sql`DELETE FROM audit_log WHERE id = ${last}`);
    const cut = await runReconciliation(f.db);
    expect(cut.findings).toEqual([
      expect.objectContaining({ kind: "audit_chain_broken", expected: last }),
    ]);
  });

  it("sums in numeric: balances past int8 in total reconcile exactly", async () => {
    // 9 decimals is the most an asset may have; two users holding 5 billion whole units each
    // put the external account at −10^19, beyond int8, which once overflowed reconciliation.
    await createAsset(f.db, { symbol: "MEME", name: "Meme", decimals: 9 });
    for (let i = 0; i < 2; i++) {
      const user = await createUser(f.db);
      await fund(f.db, user, "MEME", 5_000_000_000n * 10n ** 9n);
    }
    const run = await runReconciliation(f.db);
    expect(run.findings.filter((x) => x.kind !== "audit_chain_broken")).toEqual([]);
    const refused = await createAsset(f.db, { symbol: "WEI", name: "Wei", decimals: 18 }).catch(
      (e: unknown) => e,
    );
    expect(isLedgerError(refused, "INVALID_PARAM_VALUE")).toBe(true);
    const raw = await f.db
      .execute(sql`INSERT INTO assets (symbol, name, decimals) VALUES ('WEI', 'Wei', 18)`)
      .catch((e: { cause?: { constraint?: string } }) => e.cause?.constraint);
    expect(raw).toBe("assets_supply_fits_balance");
  });
});
