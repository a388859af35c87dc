// The exchange under test: N web instances and M workers from the production builds
// (apps/web/dist/server.js, apps/worker/dist/main.js, NODE_ENV=production), on a fresh database,
// a namespace of its own (Kafka topics and groups, etcd and Redis keys) and ports of its own,
// so nothing else on the servers is touched. Any one process can be killed and started again in
// its slot (same port, a new instance id). The servers are whatever the addresses name — the
// stack's by default — so a cluster run only passes other addresses.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { type Database, DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createKafka, ensureTopics } from "@spotx/platform/kafka";
import { deleteRedisNamespace } from "@spotx/platform/redis";
import { type Topology, topology } from "@spotx/platform/topology";
import { lastLines } from "@spotx/stack/process";
import { migrationDatabaseUrl, stackEnv } from "@spotx/stack/stack";
import { chaosEnv, logDir, repoRoot } from "./env";
import { waitFor } from "./wait";

/** The servers' addresses, as the apps take them. */
export type ServerAddresses = ReturnType<typeof stackEnv>;

export type AppKind = "web" | "worker";

export const MARKETS: readonly string[] = DEMO_MARKETS.map((m) => m.symbol);

const SCRIPTS: Record<AppKind, string> = {
  web: "apps/web/dist/server.js",
  worker: "apps/worker/dist/main.js",
};

/** One running (or killed) web or worker process. */
export class AppInstance {
  readonly exited: Promise<string>;
  /** Whether the harness killed it (a process that died otherwise is a casualty). */
  killed = false;
  /** How it ended ("SIGKILL", "1"), once it has. */
  exit: string | null = null;
  /** From its start until it answered /health. */
  startMs: number | null = null;

  constructor(
    readonly kind: AppKind,
    readonly slot: number,
    readonly id: string,
    readonly port: number,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exit = signal ?? String(code);
        resolve(this.exit);
      }),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

export type ExchangeOptions = {
  webs: number;
  workers: number;
  /** How long a killed worker keeps its registration and its markets' ownership in etcd. */
  workerLeaseTtlSeconds: number;
  /** The servers; the stack's (or the environment's) by default. */
  servers?: ServerAddresses;
  /** The role that creates and migrates the test database (migrationDatabaseUrl by default). */
  ownerUrl?: string;
};

export class ChaosExchange {
  private readonly slots: Record<AppKind, AppInstance[]> = { web: [], worker: [] };
  private readonly generations = new Map<string, number>();
  private readonly cleanups: Array<() => Promise<void>> = [];

  private constructor(
    readonly namespace: string,
    readonly names: Topology,
    readonly servers: ServerAddresses,
    readonly test: TestDatabase,
    readonly etcd: Etcd3,
    /** The SPOTX_SECRET_KEY the apps run with: API key secrets are sealed under it. */
    readonly serverKey: Buffer,
    private readonly options: ExchangeOptions,
  ) {}

  static async start(options: ExchangeOptions): Promise<ChaosExchange> {
    const servers = options.servers ?? stackEnv();
    const namespace = `chaos${randomBytes(5).toString("hex")}`;
    const names = topology(namespace);
    const test = await createTestDatabase(options.ownerUrl ?? migrationDatabaseUrl(), {
      appUrl: servers.DATABASE_URL,
      poolSize: 4,
      connectTimeoutMs: 2_000,
    });
    const etcd = createEtcd(servers.ETCD_ENDPOINTS.split(","));
    const exchange = new ChaosExchange(
      namespace,
      names,
      servers,
      test,
      etcd,
      randomBytes(32),
      options,
    );
    exchange.cleanups.push(() => test.drop());
    try {
      await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
      await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
      exchange.cleanups.push(async () => {
        await etcd.delete().prefix(`/${namespace}/`);
        etcd.close();
      });
      exchange.cleanups.push(() => deleteKafkaNamespace(servers, names));
      exchange.cleanups.push(() => deleteRedisNamespace(servers.REDIS_URL, namespace));
      const admin = createKafka(servers.KAFKA_BROKERS.split(","), `chaos-${namespace}`).admin();
      await admin.connect();
      await ensureTopics(admin, names);
      await admin.disconnect();

      fs.mkdirSync(logDir, { recursive: true });
      exchange.cleanups.push(() => exchange.killAll());
      const ports = await freePorts(options.webs + options.workers);
      const launches: Promise<AppInstance>[] = [];
      for (let slot = 0; slot < options.workers; slot++) {
        launches.push(exchange.launch("worker", slot, ports.pop() ?? 0));
      }
      for (let slot = 0; slot < options.webs; slot++) {
        launches.push(exchange.launch("web", slot, ports.pop() ?? 0));
      }
      await Promise.all(launches);
      return exchange;
    } catch (error) {
      await exchange.stop();
      throw error;
    }
  }

  get db(): Database {
    return this.test.db;
  }

  get webs(): readonly AppInstance[] {
    return this.slots.web;
  }

  get workers(): readonly AppInstance[] {
    return this.slots.worker;
  }

  /** The base URL of every web slot (a killed instance's too: it comes back on the same port). */
  webUrls(): string[] {
    return this.slots.web.map((app) => app.url);
  }

  /** SIGKILL, then waits until the process is gone. */
  async kill(app: AppInstance): Promise<void> {
    app.killed = true;
    if (app.alive) app.child.kill("SIGKILL");
    await app.exited;
  }

  /** Starts the slot's process again (a new instance id, the same port); killed first if alive. */
  async restart(app: AppInstance): Promise<AppInstance> {
    await this.kill(app);
    return this.launch(app.kind, app.slot, app.port);
  }

  /** Processes that died without being killed by the harness. */
  casualties(): AppInstance[] {
    return [...this.slots.web, ...this.slots.worker].filter((app) => !app.alive && !app.killed);
  }

  /** Each market's engine owner as etcd records it: the worker's instance id. */
  async marketOwners(): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (const symbol of MARKETS) {
      const value = await this.etcd.get(this.names.etcd.marketOwner(symbol)).string();
      if (value !== null) owners.set(symbol, (JSON.parse(value) as { instance: string }).instance);
    }
    return owners;
  }

  /** A live worker that owns at least one market, or undefined while none does. */
  async workerOwningMarkets(): Promise<AppInstance | undefined> {
    const owners = new Set((await this.marketOwners()).values());
    return this.slots.worker.find((w) => w.alive && owners.has(w.id));
  }

  /**
   * Each market's engine sequence, read from its owner's /metrics; null while a market has no
   * live owner answering.
   */
  async engineSequences(): Promise<Map<string, bigint> | null> {
    const owners = await this.marketOwners();
    const sequences = new Map<string, bigint>();
    for (const symbol of MARKETS) {
      const owner = this.slots.worker.find((w) => w.alive && w.id === owners.get(symbol));
      if (!owner) return null;
      const response = await fetch(`${owner.url}/metrics`, { signal: AbortSignal.timeout(2_000) });
      const value = metricValue(await response.text(), "spotx_engine_seq", { market: symbol });
      sequences.set(symbol, BigInt(value ?? 0));
    }
    return sequences;
  }

  /** Kills every process and removes the namespace, the database and the topics. */
  async stop(): Promise<void> {
    for (const step of this.cleanups.reverse()) await step().catch(() => undefined);
    this.cleanups.length = 0;
  }

  private async killAll(): Promise<void> {
    await Promise.all([...this.slots.web, ...this.slots.worker].map((app) => this.kill(app)));
  }

  private async launch(kind: AppKind, slot: number, port: number): Promise<AppInstance> {
    const name = `${kind}-${slot}`;
    const generation = (this.generations.get(name) ?? 0) + 1;
    this.generations.set(name, generation);
    const id = `${this.namespace}-${name}-${generation}`;
    const logFile = path.join(logDir, `${id}.log`);
    const out = fs.openSync(logFile, "w");
    const script = path.join(repoRoot, SCRIPTS[kind]);
    const own =
      kind === "web"
        ? { WEB_PORT: String(port), WEB_HOST: "127.0.0.1", WEB_INSTANCE_ID: id }
        : {
            WORKER_PORT: String(port),
            WORKER_INSTANCE_ID: id,
            WORKER_LEASE_TTL_SECONDS: String(this.options.workerLeaseTtlSeconds),
            // The suite reconciles after every fault itself.
            RECONCILIATION_INTERVAL_MS: "3600000",
          };
    const child = spawn(process.execPath, ["--enable-source-maps", script], {
      cwd: path.dirname(path.dirname(script)),
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: "1",
        DO_NOT_TRACK: "1",
        ...this.servers,
        DATABASE_URL: this.test.url,
        SPOTX_NAMESPACE: this.namespace,
        SPOTX_SECRET_KEY: this.serverKey.toString("hex"),
        NODE_ENV: "production",
        LOG_LEVEL: chaosEnv.LOG_LEVEL,
        ...own,
      },
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    const app = new AppInstance(kind, slot, id, port, child, logFile);
    const started = Date.now();
    this.slots[kind][slot] = app;
    const exitedEarly = app.exited.then((how) => {
      throw new Error(
        `${id} exited (${how}) before it answered /health; last lines of ${logFile}:\n${lastLines(logFile, 15)}`,
      );
    });
    await Promise.race([
      exitedEarly,
      waitFor(
        async () => {
          const response = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(1_000) });
          return response.ok;
        },
        { what: `${id} to answer /health`, timeoutMs: 90_000, intervalMs: 100 },
      ),
    ]);
    exitedEarly.catch(() => undefined);
    app.startMs = Date.now() - started;
    return app;
  }
}

/** The value of a gauge with the given labels in a Prometheus text exposition. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** Ports nothing listens on now (the kernel's choice), for the apps to bind. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function deleteKafkaNamespace(servers: ServerAddresses, names: Topology): Promise<void> {
  const admin = createKafka(servers.KAFKA_BROKERS.split(","), `chaos-${names.namespace}`).admin();
  await admin.connect();
  try {
    await admin.deleteGroups(Object.values(names.kafka.groups)).catch(() => undefined);
    await admin.deleteTopics({
      topics: [names.kafka.orders.topic, names.kafka.events.topic],
      timeout: 10_000,
    });
  } finally {
    await admin.disconnect();
  }
}
