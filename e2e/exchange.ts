// A whole exchange for the browser tests: a seeded database of its own, a namespace of its own
// on the stack's Kafka, etcd and Redis, the production web server and a worker (engine,
// settlement, market data) — and, when a test asks, the demo market maker. The same processes
// `npm start` runs, nothing mocked. Run it directly to look at the pages by hand:
//   node --import tsx e2e/exchange.ts        (prints the URL; Ctrl-C stops it)
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { seedDemo } from "@spotx/db";
import { createTestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { createKafka } from "@spotx/platform/kafka";
import { topology } from "@spotx/platform/topology";

const root = path.resolve(import.meta.dirname, "..");
const webDir = path.join(root, "apps/web");
const workerDir = path.join(root, "apps/worker");
const marketMakerDir = path.join(root, "apps/market-maker");

/** What a test needs to reach the exchange's processes and servers (also set as E2E_* env). */
export type ExchangeSettings = {
  baseUrl: string;
  databaseUrl: string;
  namespace: string;
  secretKey: string;
};

export type RunningExchange = ExchangeSettings & { stop(): Promise<void> };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function collectOutput(child: ChildProcess): () => string {
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => output;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  const output = collectOutput(child);
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(output());
      if (match) resolve(match[1] ?? match[0]);
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) =>
      reject(new Error(`${what} exited (${code}) before it was up:\n${output().slice(-3000)}`)),
    );
  });
}

/** Resolves once `url` answers 200, polling every 200 ms; rejects if the process dies first. */
async function waitForReady(child: ChildProcess, url: string, what: string, timeoutMs: number) {
  const output = collectOutput(child);
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`${what} exited before it was ready:\n${output().slice(-3000)}`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready within ${timeoutMs / 1000} s:\n${output().slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}

/** Leaves nothing of the namespace on the shared servers: its etcd keys and Kafka topics. */
async function forgetNamespace(namespace: string) {
  const env = platformEnv();
  const names = topology(namespace);
  const etcd = createEtcd(env.ETCD_ENDPOINTS);
  await etcd
    .delete()
    .prefix(`/${namespace}/`)
    .catch(() => undefined);
  etcd.close();
  const admin = createKafka(env.KAFKA_BROKERS, `e2e-${namespace}`).admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [names.kafka.orders.topic, names.kafka.events.topic] })
    .catch(() => undefined);
  await admin.disconnect();
}

/** The environment every process of this exchange shares. */
function sharedEnv(settings: Omit<ExchangeSettings, "baseUrl">): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "production",
    // The suites fund their traders as the demo does; production's default is off.
    DEMO_DEPOSITS: "on",
    SPOTX_SECRET_KEY: settings.secretKey,
    DATABASE_URL: settings.databaseUrl,
    SPOTX_NAMESPACE: settings.namespace,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn",
    NEXT_TELEMETRY_DISABLED: "1",
  };
}

export async function startExchange(): Promise<RunningExchange> {
  const serverBundle = path.join(webDir, "dist/server.js");
  if (!fs.existsSync(serverBundle) || !fs.existsSync(path.join(webDir, ".next/BUILD_ID"))) {
    throw new Error("apps/web is not built; run `npm run build` (npm test does this first)");
  }
  const database = await createTestDatabase();
  await seedDemo(database.db);
  const settings = {
    databaseUrl: database.url,
    namespace: `e2e${randomBytes(5).toString("hex")}`,
    secretKey: randomBytes(32).toString("hex"),
  };
  const env = sharedEnv(settings);

  const workerPort = await freePort();
  const worker = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: {
      ...env,
      WORKER_PORT: String(workerPort),
      WORKER_INSTANCE_ID: `e2e-worker-${process.pid}`,
      RECONCILIATION_INTERVAL_MS: "3600000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const web = spawn(process.execPath, [serverBundle], {
    cwd: webDir,
    env: {
      ...env,
      WEB_PORT: String(Number(process.env.E2E_WEB_PORT ?? 0)),
      WEB_HOST: "127.0.0.1",
      WEB_INSTANCE_ID: `e2e-web-${process.pid}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stopAll = async () => {
    await Promise.all([stopProcess(web), stopProcess(worker)]);
    await Promise.all([database.drop(), forgetNamespace(settings.namespace)]);
  };
  try {
    const url = await waitForLine(web, /listening on (http:\/\/\S+)/, "web server");
    // Ready: its consumers joined and the markets are owned, so orders trade from the start.
    await waitForReady(worker, `http://127.0.0.1:${workerPort}/ready`, "worker", 60_000);
    return { ...settings, baseUrl: url.replace("localhost", "127.0.0.1"), stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The demo market maker against a running exchange, until the returned function stops it. */
export async function startMarketMaker(
  settings: ExchangeSettings,
  extraEnv: Record<string, string> = {},
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: marketMakerDir,
    env: {
      ...sharedEnv(settings),
      MARKET_MAKER_API_URL: `${settings.baseUrl}/api/v4`,
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitForLine(child, /(market maker quoting)/, "market maker");
  return { stop: () => stopProcess(child) };
}

/** The settings global-setup published to the test workers. */
export function exchangeSettings(): ExchangeSettings {
  const { E2E_BASE_URL, E2E_DATABASE_URL, E2E_NAMESPACE, E2E_SECRET_KEY } = process.env;
  if (!E2E_BASE_URL || !E2E_DATABASE_URL || !E2E_NAMESPACE || !E2E_SECRET_KEY) {
    throw new Error("E2E_* settings are not set; global-setup did not run");
  }
  return {
    baseUrl: E2E_BASE_URL,
    databaseUrl: E2E_DATABASE_URL,
    namespace: E2E_NAMESPACE,
    secretKey: E2E_SECRET_KEY,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const exchange = await startExchange();
  console.log(`exchange up at ${exchange.baseUrl} (namespace ${exchange.namespace})`);
  if (process.argv.includes("--market-maker")) {
    await startMarketMaker(exchange);
    console.log("market maker running");
  }
  const stop = () => {
    void exchange.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
