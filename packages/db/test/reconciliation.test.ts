// Reconciliation finds what was changed behind the ledger's back, names exactly the user and
// asset, records the run, and stays silent on a clean ledger after 10,000 random operations.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  reconciliationMetrics,
  runReconciliation,
  runReconciliationExclusive,
} from "../src/reconciliation";
import { BTC, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";
import { LedgerSimulation, type Op, randomSource } from "./simulation";
import { placeLimit } from "./trading";

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
      sql`SELECT kind, user_id, asset, expected, actual FROM reconciliation_findings WHERE run_id = ${run.id}`,
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
