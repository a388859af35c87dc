// The reconciliation job against the stack's PostgreSQL and Redis: it records runs, logs
// mismatches at error level with user and asset, and runs as one process at a time.
import { randomUUID } from "node:crypto";
import { deposit, reconciliationMetrics, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JobLog, nextRunDelayMs, startReconciliationJob } from "../src/jobs/reconciliation";

let test: TestDatabase;
const redis = createRedis(platformEnv().REDIS_URL);
const prefix = `test:recon-job:${randomUUID()}:`;
let userId: bigint;

beforeAll(async () => {
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values({ symbol: "USDT", name: "Tether", decimals: 6 });
  const users = await test.db
    .insert(schema.users)
    .values({ email: `${randomUUID()}@test.spotx.dev`, passwordHash: "x" })
    .returning({ id: schema.users.id });
  userId = users[0]?.id ?? 0n;
  await deposit(test.db, { userId, asset: "USDT", amount: 5_000_000n, ref: "job-test" });
});
afterAll(async () => {
  await test?.drop();
  redis.disconnect();
});

function recordingLog() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  const log: JobLog = { debug: at("debug"), info: at("info"), error: at("error") };
  return { log, lines };
}

const job = (log: JobLog, intervalMs = 60_000, runAtStart = false) =>
  startReconciliationJob({
    db: test.db,
    redis,
    log,
    intervalMs,
    runAtStart,
    locks: new LockService(redis, { prefix }),
  });

describe("reconciliation job", () => {
  it("waits its interval between runs, and 50 times a long run's duration after it", () => {
    expect(nextRunDelayMs(300_000, null)).toBe(300_000);
    // 1.9 s (a few minutes of heavy trading): the interval is longer than 95 s.
    expect(nextRunDelayMs(300_000, 1_900)).toBe(300_000);
    // 20 s (a ledger of ten million entries): 1,000 s, so the scan stays under 2 % of the time.
    expect(nextRunDelayMs(300_000, 20_000)).toBe(1_000_000);
  });

  it("runs on demand, records a clean run and exports the metric", async () => {
    const { log, lines } = recordingLog();
    const recon = job(log);
    const outcome = await recon.runNow();
    await recon.stop();
    expect(outcome.ran && outcome.run.status).toBe("clean");
    expect(lines).toEqual([
      expect.objectContaining({ level: "info", message: "reconciliation clean" }),
    ]);
    expect((await reconciliationMetrics.findings.get()).values[0]?.value).toBe(0);
    expect((await reconciliationMetrics.lastRun.get()).values[0]?.value).toBeGreaterThan(0);
  });

  it("logs a mismatch at error level naming the user and asset, and fixes nothing", async () => {
    await test.db.execute(
      sql`UPDATE balances SET available = available + 1 WHERE user_id = ${userId}`,
    );
    const { log, lines } = recordingLog();
    const recon = job(log);
    await recon.runNow();
    await recon.stop();
    const error = lines.find((l) => l.level === "error");
    expect(error?.message).toBe("reconciliation found 1 mismatch(es)");
    expect(error?.fields.findings).toEqual([
      expect.objectContaining({
        kind: "available_mismatch",
        userId: userId.toString(),
        asset: "USDT",
        expected: "5000000",
        actual: "5000001",
      }),
    ]);
    const balance = await test.db.execute(
      sql`SELECT available FROM balances WHERE user_id = ${userId}`,
    );
    expect(balance.rows[0]).toEqual({ available: 5_000_001n });
    await test.db.execute(
      sql`UPDATE balances SET available = available - 1 WHERE user_id = ${userId}`,
    );
  });

  it("runs on a schedule as a cluster-wide singleton: runs of two workers never overlap", async () => {
    const before = await test.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM reconciliation_runs`,
    );
    const start = before.rows[0]?.n ?? 0;
    const workers = [job(recordingLog().log, 20, true), job(recordingLog().log, 20, true)];
    // Await the condition (six more runs recorded), not a fixed time.
    for (;;) {
      const now = await test.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM reconciliation_runs`,
      );
      if ((now.rows[0]?.n ?? 0) >= start + 6) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(workers.map((w) => w.stop()));
    const runs = await test.db.execute<{
      started_at: string;
      finished_at: string;
      fencing_token: bigint;
    }>(sql`
      SELECT started_at::text, finished_at::text, fencing_token FROM reconciliation_runs
       WHERE fencing_token IS NOT NULL ORDER BY id`);
    const rows = runs.rows;
    for (let i = 1; i < rows.length; i++) {
      const previous = rows[i - 1];
      const current = rows[i];
      if (!previous || !current) continue;
      expect(current.fencing_token).toBeGreaterThan(previous.fencing_token);
      expect(new Date(current.started_at).getTime()).toBeGreaterThanOrEqual(
        new Date(previous.finished_at).getTime() - 1,
      );
    }
  });
});
