// A running exchange to back up: a database of its own (cloned from the migrated template) with
// the demo assets and markets, a Kafka/etcd/Redis namespace of its own, a real worker process
// (`node --import tsx src/main.ts` in apps/worker, as `npm start` runs it) and the placement
// service in this process — the same code paths as production, nothing mocked.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { TradingService } from "@spotx/api";
import { type Database, DEMO_ASSETS, DEMO_MARKETS, deposit, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { createKafka, ensureTopics } from "@spotx/platform/kafka";
import { type Topology, topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";

const workerDir = path.resolve(import.meta.dirname, "../../../apps/worker");

export type BackupExchange = {
  namespace: string;
  names: Topology;
  test: TestDatabase;
  db: Database;
  trading: TradingService;
  createUser(): Promise<bigint>;
  fund(userId: bigint, asset: string, amount: bigint): Promise<void>;
  /** Waits until every command was published, applied by the engine and settled. */
  drained(timeoutMs?: number): Promise<void>;
  /** Stops the worker, deletes the namespace's topics and etcd keys, drops the database. */
  stop(): Promise<void>;
};

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Polls `check` until it returns true, or fails naming what it waited for. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`timed out waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The value of a gauge with the given labels in a Prometheus text exposition. */
function metricValue(text: string, name: string, labels: Record<string, string>) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => line.includes(w))) return BigInt(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0n;
}

export async function startBackupExchange(): Promise<BackupExchange> {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const names = topology(namespace);
  const env = platformEnv();
  const test = await createTestDatabase();
  const kafka = createKafka(env.KAFKA_BROKERS, `backup-${namespace}`);
  const etcd = createEtcd(env.ETCD_ENDPOINTS);
  let worker: ChildProcess | undefined;

  const stop = async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const child = worker;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await etcd
      .delete()
      .prefix(`/${namespace}/`)
      .catch(() => undefined);
    etcd.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [names.kafka.orders.topic, names.kafka.events.topic] })
      .catch(() => undefined);
    await admin.disconnect();
    await test.drop();
  };

  try {
    const db = test.db;
    await db.insert(schema.assets).values([...DEMO_ASSETS]);
    await db.insert(schema.markets).values([...DEMO_MARKETS]);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, names);
    await admin.disconnect();

    const port = await freePort();
    worker = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: workerDir,
      env: {
        ...process.env,
        DATABASE_URL: test.url,
        SPOTX_NAMESPACE: namespace,
        WORKER_PORT: String(port),
        WORKER_INSTANCE_ID: `backup-${namespace}`,
        RECONCILIATION_INTERVAL_MS: "3600000",
        LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? "error",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const running = worker;
    const metrics = async () => {
      if (running.exitCode !== null || running.signalCode !== null) {
        throw new Error(`the worker exited (${running.signalCode ?? running.exitCode})`);
      }
      return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    };
    await waitUntil(async () => (await metrics()).length > 0, "the worker to serve /metrics");

    // Nothing is halted here; placement's own transaction still checks markets.status.
    const trading = new TradingService({
      db,
      names,
      halts: { get: () => ({ halted: false, reason: null }) },
    });

    return {
      namespace,
      names,
      test,
      db,
      trading,
      async createUser() {
        const inserted = await db
          .insert(schema.users)
          .values({ email: `${randomUUID()}@backup.spotx.dev`, passwordHash: "x" })
          .returning({ id: schema.users.id });
        const id = inserted[0]?.id;
        if (id === undefined) throw new Error("user not created");
        return id;
      },
      async fund(userId, asset, amount) {
        await deposit(db, { userId, asset, amount, ref: `backup-test:${randomUUID()}` });
      },
      async drained(timeoutMs = 60_000) {
        await waitUntil(
          async () => {
            const counts = await db.execute<{ unsent: bigint; pending: bigint }>(sql`
              SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::int8 AS unsent,
                     (SELECT count(*) FROM orders WHERE status = 'pending')::int8 AS pending`);
            const row = counts.rows[0];
            if (row?.unsent !== 0n || row.pending !== 0n) return false;
            // Every event the engine produced is settled: its sequence equals settlement's.
            const text = await metrics();
            const settled = await db.execute<{ market: string; last_seq: bigint }>(
              sql`SELECT market, last_seq FROM market_sequences`,
            );
            return DEMO_MARKETS.every(
              ({ symbol }) =>
                metricValue(text, "spotx_engine_seq", { market: symbol }) ===
                (settled.rows.find((r) => r.market === symbol)?.last_seq ?? 0n),
            );
          },
          "the pipeline to drain",
          timeoutMs,
        );
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
