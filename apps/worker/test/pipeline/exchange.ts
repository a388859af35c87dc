// A whole exchange for one test file: a database of its own with the demo assets and markets,
// a Kafka/etcd/Redis namespace of its own, real worker processes (started, killed and
// restarted at will) and the placement service in this process — the same code paths as
// `npm start`, with nothing mocked.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { TradingService } from "@spotx/api";
import { type Database, DEMO_ASSETS, DEMO_MARKETS, deposit, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createKafka, ensureTopics, type Kafka } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { type Topology, topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";

const workerDir = path.resolve(import.meta.dirname, "../..");

export type WorkerProcess = {
  id: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
  /** Its /health, /ready, /metrics port, once registered. */
  port: () => Promise<number>;
};

export type Exchange = {
  namespace: string;
  names: Topology;
  test: TestDatabase;
  db: Database;
  kafka: Kafka;
  etcd: Etcd3;
  trading: TradingService;
  config: MarketConfigWatcher;
  startWorker(options?: { id?: string; env?: Record<string, string> }): WorkerProcess;
  createUser(): Promise<bigint>;
  fund(userId: bigint, asset: string, amount: bigint): Promise<void>;
  stop(): Promise<void>;
};

export async function startExchange(): Promise<Exchange> {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const names = topology(namespace);
  const test = await createTestDatabase();
  const db = test.db;
  await db.insert(schema.assets).values([...DEMO_ASSETS]);
  await db.insert(schema.markets).values([...DEMO_MARKETS]);

  const env = platformEnv();
  const kafka = createKafka(env.KAFKA_BROKERS, `test-${namespace}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, names);
  await admin.disconnect();

  const etcd = createEtcd(env.ETCD_ENDPOINTS);
  const config = new MarketConfigWatcher(etcd, logger("test-config"), names);
  await config.start();
  const trading = new TradingService({ db, names, halts: config });
  const workers: WorkerProcess[] = [];

  return {
    namespace,
    names,
    test,
    db,
    kafka,
    etcd,
    trading,
    config,
    startWorker(options = {}) {
      const id = options.id ?? `w-${randomUUID().slice(0, 8)}`;
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        cwd: workerDir,
        env: {
          ...process.env,
          DATABASE_URL: test.url,
          SPOTX_NAMESPACE: namespace,
          WORKER_PORT: "0",
          WORKER_INSTANCE_ID: id,
          WORKER_LEASE_TTL_SECONDS: "5",
          RECONCILIATION_INTERVAL_MS: "3600000",
          LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? "error",
          ...options.env,
        },
        stdio: ["ignore", "inherit", "inherit"],
      });
      const exited = new Promise<number | string>((resolve) =>
        child.once("exit", (code, signal) => resolve(signal ?? code ?? -1)),
      );
      const worker: WorkerProcess = {
        id,
        child,
        exited,
        port: async () => {
          const key = names.etcd.service("worker", id);
          const record = await waitFor(async () => etcd.get(key).string(), {
            what: `worker ${id} to register`,
            timeoutMs: 30_000,
          });
          return (JSON.parse(record) as { httpPort: number }).httpPort;
        },
      };
      workers.push(worker);
      return worker;
    },
    async createUser() {
      const inserted = await db
        .insert(schema.users)
        .values({ email: `${randomUUID()}@test.spotx.dev`, passwordHash: "x" })
        .returning({ id: schema.users.id });
      const id = inserted[0]?.id;
      if (id === undefined) throw new Error("user not created");
      return id;
    },
    async fund(userId, asset, amount) {
      await deposit(db, { userId, asset, amount, ref: `test:${randomUUID()}` });
    },
    async stop() {
      for (const worker of workers) {
        if (worker.child.exitCode === null && worker.child.signalCode === null) {
          worker.child.kill("SIGKILL");
        }
      }
      await Promise.all(workers.map((w) => w.exited));
      await config.stop();
      // Leave nothing of the namespace behind in etcd.
      await etcd.delete().prefix(`/${namespace}/`);
      etcd.close();
      const cleanup = kafka.admin();
      await cleanup.connect();
      await cleanup
        .deleteTopics({ topics: [names.kafka.orders.topic, names.kafka.events.topic] })
        .catch(() => undefined);
      await cleanup.disconnect();
      await test.drop();
    },
  };
}

/**
 * Awaits a condition: calls `check` until it returns a value other than null/undefined/false,
 * or fails after the timeout naming what it waited for.
 */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  options: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.what}${last instanceof Error ? ` (last error: ${last.message})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** An order's row, for assertions. */
export async function orderRow(db: Database, id: bigint) {
  const found = await db.execute<{
    status: string;
    finish_as: string;
    filled_base_lots: bigint;
    filled_quote: bigint;
    fee: bigint;
    hold_remaining: bigint;
  }>(sql`SELECT status, finish_as, filled_base_lots, filled_quote, fee, hold_remaining
           FROM orders WHERE id = ${id}`);
  return found.rows[0];
}

export async function balance(db: Database, userId: bigint, asset: string) {
  const found = await db.execute<{ available: bigint; locked: bigint }>(
    sql`SELECT available, locked FROM balances WHERE user_id = ${userId} AND asset = ${asset}`,
  );
  return found.rows[0] ?? { available: 0n, locked: 0n };
}
