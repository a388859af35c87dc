// The exchange under benchmark, started as `npm start` starts it — the stack, the production
// builds of the worker and the web server (node apps/*/dist, NODE_ENV=production) — but on a
// fresh database, a namespace (Kafka topics and groups, etcd and Redis keys) and free ports of
// its own, so a developer's running exchange is never touched. The placement service runs in
// this process, as the web server will run it. `stop` leaves nothing behind.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { TradingService } from "@spotx/api";
import { createDatabase, type Database, DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createKafka, ensureTopics, type Kafka } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createPostgresPool } from "@spotx/platform/postgres";
import { deleteRedisNamespace } from "@spotx/platform/redis";
import { type Topology, topology } from "@spotx/platform/topology";
import { stackEnv, up } from "@spotx/stack/stack";

import { outDir, repoRoot, runDir } from "./paths";

export { outDir, repoRoot, runDir };

/** Tools we run must not phone home (the same settings as `npm start`). */
const quietTools = {
  NEXT_TELEMETRY_DISABLED: "1",
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
};

export type AppProcess = {
  name: "web" | "worker";
  child: ChildProcess;
  pid: number;
  httpPort: number;
  logFile: string;
};

export type BenchExchange = {
  namespace: string;
  names: Topology;
  test: TestDatabase;
  /** The placement service's pool (as large as the web server's). */
  db: Database;
  /** A small pool of its own for the benchmark's observations, so they never queue placements. */
  observer: Database;
  kafka: Kafka;
  etcd: Etcd3;
  trading: TradingService;
  redisUrl: string;
  /** The ports the stack's servers listen on (for finding their processes' CPU). */
  serverPorts: Record<"postgres" | "redis" | "etcd" | "kafka", number | undefined>;
  /** The exchange's SPOTX_SECRET_KEY: API key secrets are sealed with a key derived from it. */
  serverKey: Buffer;
  worker: AppProcess;
  web: AppProcess;
  /** Kafka topics made by the benchmark itself, deleted with the namespace's. */
  extraTopics: string[];
  stop(): Promise<void>;
};

const log = (line: string) => console.log(line);

/** Brings the stack up (a no-op when it is) and builds what `npm start` runs (turbo-cached). */
export async function prepareMachine(options: { build: boolean }): Promise<void> {
  log("• stack (PostgreSQL, Redis, etcd, Kafka)");
  await up((line) => log(line));
  if (!options.build) {
    log(
      "• build skipped (BENCH_SKIP_BUILD=1): using apps/web/dist and apps/worker/dist as they are",
    );
    return;
  }
  log("• building web and worker for production (turbo, cached between runs)");
  const started = Date.now();
  fs.mkdirSync(runDir, { recursive: true });
  const logFile = path.join(runDir, "build.log");
  const out = fs.openSync(logFile, "w");
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      "npx",
      [
        "turbo",
        "run",
        "build",
        "--filter=@spotx/web",
        "--filter=@spotx/worker",
        "--output-logs=errors-only",
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, ...quietTools, NODE_ENV: "production" },
        stdio: ["ignore", out, out],
      },
    );
    child.once("error", reject);
    child.once("exit", (exitCode) => resolve(exitCode ?? 1));
  });
  fs.closeSync(out);
  if (code !== 0) {
    throw new Error(`build failed; see ${path.relative(repoRoot, logFile)}:\n${tail(logFile, 25)}`);
  }
  log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function startExchange(options: { profileDir?: string }): Promise<BenchExchange> {
  const namespace = `bench${randomBytes(5).toString("hex")}`;
  const names = topology(namespace);
  const servers = stackEnv();
  const test = await createTestDatabase(undefined, { poolSize: 20 });
  log(`• exchange: namespace ${namespace}, fresh database ${test.name}`);
  const cleanups: Array<() => Promise<void>> = [() => test.drop()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
    await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
    const observerPool = createPostgresPool(test.url, { max: 3, applicationName: "spotx-bench" });
    cleanups.push(() => observerPool.end());
    const observer = createDatabase(observerPool);

    const kafka = createKafka(servers.KAFKA_BROKERS.split(","), `bench-${namespace}`);
    const extraTopics: string[] = [];
    const etcd = createEtcd(servers.ETCD_ENDPOINTS.split(","));
    cleanups.push(async () => {
      await etcd.delete().prefix(`/${namespace}/`);
      etcd.close();
    });
    cleanups.push(() => deleteKafkaNamespace(kafka, names, extraTopics));
    cleanups.push(() => deleteRedisNamespace(servers.REDIS_URL, namespace));
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, names);
    await admin.disconnect();

    const config = new MarketConfigWatcher(etcd, logger("bench-config"), names);
    await config.start();
    cleanups.push(() => config.stop());
    const trading = new TradingService({ db: test.db, names, halts: config });

    fs.mkdirSync(runDir, { recursive: true });
    const serverKey = randomBytes(32);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...quietTools,
      ...servers,
      DATABASE_URL: test.url,
      SPOTX_NAMESPACE: namespace,
      SPOTX_SECRET_KEY: serverKey.toString("hex"),
      NODE_ENV: "production",
      WEB_PORT: "0",
      WORKER_PORT: "0",
      WEB_INSTANCE_ID: `${namespace}-web`,
      WORKER_INSTANCE_ID: `${namespace}-worker`,
      // The socket fleets' clients (up to BENCH_MANY_SOCKET_CLIENTS, 5,000 at most) all connect
      // from this machine's one address.
      WS_MAX_CONNECTIONS_PER_ADDRESS: "10000",
    };
    const nodeArgs = options.profileDir
      ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`]
      : [];
    const apps: AppProcess[] = [];
    cleanups.push(() => stopApps(apps));
    const started = await Promise.allSettled([
      startApp("worker", "apps/worker/dist/main.js", env, nodeArgs, (line) => {
        if (!line.includes('"worker started"')) return null;
        const parsed = JSON.parse(line) as { httpPort?: number };
        return parsed.httpPort ?? null;
      }),
      startApp("web", "apps/web/dist/server.js", env, nodeArgs, (line) => {
        const match = /listening on http:\/\/\S+:(\d+)/.exec(line);
        return match ? Number(match[1]) : null;
      }),
    ]);
    for (const result of started) if (result.status === "fulfilled") apps.push(result.value);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const worker = apps.find((a) => a.name === "worker");
    const web = apps.find((a) => a.name === "web");
    if (!worker || !web) throw new Error("web or worker did not start");
    log(`  worker pid ${worker.pid} :${worker.httpPort}   web pid ${web.pid} :${web.httpPort}`);

    return {
      namespace,
      names,
      test,
      db: test.db,
      observer,
      kafka,
      etcd,
      trading,
      redisUrl: servers.REDIS_URL,
      serverPorts: serverPorts(servers),
      serverKey,
      worker,
      web,
      extraTopics,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The port each server of the stack listens on, from the addresses the apps are given. */
function serverPorts(servers: ReturnType<typeof stackEnv>): BenchExchange["serverPorts"] {
  const port = (address: string | undefined, fallback: number) => {
    if (!address) return undefined;
    try {
      const url = new URL(address.includes("://") ? address : `tcp://${address}`);
      return url.port === "" ? fallback : Number(url.port);
    } catch {
      return undefined;
    }
  };
  return {
    postgres: port(servers.DATABASE_URL, 5432),
    redis: port(servers.REDIS_URL, 6379),
    etcd: port(servers.ETCD_ENDPOINTS.split(",")[0], 2379),
    kafka: port(servers.KAFKA_BROKERS.split(",")[0], 9092),
  };
}

/** Starts one production app; resolves once `ready` finds its port in a line of its output. */
function startApp(
  name: AppProcess["name"],
  script: string,
  env: NodeJS.ProcessEnv,
  nodeArgs: string[],
  ready: (line: string) => number | null,
): Promise<AppProcess> {
  const logFile = path.join(runDir, `${name}.log`);
  const out = fs.openSync(logFile, "w");
  const scriptPath = path.join(repoRoot, script);
  const child = spawn(process.execPath, [...nodeArgs, "--enable-source-maps", scriptPath], {
    cwd: path.dirname(path.dirname(scriptPath)),
    env,
    stdio: ["ignore", "pipe", out],
  });
  const pid = child.pid;
  return new Promise((resolve, reject) => {
    if (pid === undefined) {
      reject(new Error(`${name}: could not start ${script}`));
      return;
    }
    let buffered = "";
    let found = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name}: not ready within 90 s; see ${path.relative(repoRoot, logFile)}`));
    }, 90_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      fs.appendFileSync(out, chunk);
      if (found) return;
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const port = ready(line);
        if (port === null) continue;
        found = true;
        clearTimeout(timer);
        resolve({ name, child, pid, httpPort: port, logFile });
        return;
      }
    });
    child.once("exit", (code, signal) => {
      if (found) return;
      clearTimeout(timer);
      reject(
        new Error(
          `${name} exited (${signal ?? code}) before it was ready; last lines of ${path.relative(repoRoot, logFile)}:\n${tail(logFile, 15)}`,
        ),
      );
    });
  });
}

/** SIGTERM (the apps' clean stop, which also writes a --cpu-prof profile), SIGKILL after 20 s. */
async function stopApps(apps: AppProcess[]) {
  await Promise.all(
    apps.map(
      (app) =>
        new Promise<void>((resolve) => {
          const { child } = app;
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}

async function deleteKafkaNamespace(kafka: Kafka, names: Topology, extra: string[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = Object.values(names.kafka.groups);
    await admin.deleteGroups([...groups, ...extra]).catch(() => undefined);
    const existing = new Set(await admin.listTopics());
    const topics = [names.kafka.orders.topic, names.kafka.events.topic, ...extra].filter((t) =>
      existing.has(t),
    );
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

export function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
