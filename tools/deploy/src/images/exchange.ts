// The exchange run from the images against the local stack: an empty database of its own that
// the worker image's /app/migrate.mjs migrates, a namespace of its own on the shared Kafka, etcd
// and Redis, free ports, and the containers on the host's network. `stop` removes every
// container it started and leaves the shared servers as they were.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { createDatabase, type Database } from "@spotx/db";
import { withDatabase } from "@spotx/db/testing";
import { createEtcd } from "@spotx/platform/etcd";
import { createKafka } from "@spotx/platform/kafka";
import { createPostgresPool } from "@spotx/platform/postgres";
import { deleteRedisNamespace } from "@spotx/platform/redis";
import { topology } from "@spotx/platform/topology";
import { migrationDatabaseUrl, stackEnv } from "@spotx/stack/stack";
import pg from "pg";
import type { ImageName } from "./build";
import { podman } from "./podman";

export type Role = "migrate" | "worker" | "web" | "market-maker";

export type ContainerExchange = {
  namespace: string;
  database: string;
  webUrl: string;
  workerUrl: string;
  /** The server key the containers run with: API key secrets are sealed with a key derived from it. */
  serverKey: Buffer;
  /** The app role's connection to the exchange's database. */
  db: Database;
  /** Runs one container to completion (`--rm`); its output. */
  runOnce(role: Role, image: ImageName, command: string[]): Promise<string>;
  /** Starts a container in the background; its name. */
  start(role: Role, image: ImageName, env?: Record<string, string>): Promise<string>;
  /** Whether the container is still running (else its exit code and last log lines, thrown). */
  assertRunning(role: Role): Promise<void>;
  /** The main process's id on this machine, for reading its /proc entry. */
  pid(role: Role): Promise<number>;
  logs(role: Role, lines?: number): Promise<string>;
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

/**
 * Drops the database once the containers' sessions have gone: their server processes exit a
 * moment after the containers do, and the owner role may not end another role's sessions.
 */
async function dropDatabase(ownerServer: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(ownerServer, "postgres") });
  await admin.connect();
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
        return;
      } catch (error) {
        const inUse = (error as { code?: string }).code === "55006";
        if (!inUse || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await admin.end();
  }
}

/** Topics, consumer groups, etcd keys and Redis keys of the namespace: gone. */
async function deleteNamespace(namespace: string, servers: ReturnType<typeof stackEnv>) {
  const names = topology(namespace);
  const etcd = createEtcd(servers.ETCD_ENDPOINTS.split(","));
  try {
    await etcd.delete().prefix(`/${namespace}/`);
  } finally {
    etcd.close();
  }
  const admin = createKafka(servers.KAFKA_BROKERS.split(","), `images-${namespace}`).admin();
  await admin.connect();
  try {
    await admin.deleteGroups(Object.values(names.kafka.groups)).catch(() => undefined);
    const existing = new Set(await admin.listTopics());
    const topics = [names.kafka.orders.topic, names.kafka.events.topic].filter((t) =>
      existing.has(t),
    );
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
  await deleteRedisNamespace(servers.REDIS_URL, namespace);
}

export async function startContainerExchange(
  print: (line: string) => void,
): Promise<ContainerExchange> {
  const namespace = `images${randomBytes(4).toString("hex")}`;
  const database = `spotx_images_${randomBytes(6).toString("hex")}`;
  const servers = stackEnv();
  const ownerServer = migrationDatabaseUrl();
  const appUrl = withDatabase(servers.DATABASE_URL, database);
  const ownerUrl = withDatabase(ownerServer, database);
  const [webPort, workerPort] = [await freePort(), await freePort()];
  const serverKey = randomBytes(32);

  const admin = new pg.Client({ connectionString: withDatabase(ownerServer, "postgres") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const pool = createPostgresPool(appUrl, { max: 2, applicationName: "spotx-images-test" });
  print(
    `  namespace ${namespace}, empty database ${database}, web :${webPort}, worker :${workerPort}`,
  );

  // Given to podman as its own environment and named with `--env NAME`, so that no secret is on
  // a command line.
  const containerEnv: Record<string, string> = {
    ...servers,
    DATABASE_URL: appUrl,
    DATABASE_OWNER_URL: ownerUrl,
    SPOTX_NAMESPACE: namespace,
    SPOTX_SECRET_KEY: serverKey.toString("hex"),
    WEB_PORT: String(webPort),
    WORKER_PORT: String(workerPort),
    WEB_INSTANCE_ID: `${namespace}-web`,
    WORKER_INSTANCE_ID: `${namespace}-worker`,
  };
  const envArgs = (names: string[]) => names.flatMap((name) => ["--env", name]);
  // The owner's credentials go to the migrations only, as a deployment would give them.
  const appEnvNames = Object.keys(containerEnv).filter((name) => name !== "DATABASE_OWNER_URL");
  const containerName = (role: Role) => `spotx-${namespace}-${role}`;
  const started: Role[] = [];

  const logs = async (role: Role, lines = 30) =>
    podman(["logs", "--tail", String(lines), containerName(role)], { withStderr: true }).catch(
      (error: Error) => error.message,
    );
  const exchange: ContainerExchange = {
    namespace,
    database,
    webUrl: `http://127.0.0.1:${webPort}`,
    workerUrl: `http://127.0.0.1:${workerPort}`,
    serverKey,
    db: createDatabase(pool),
    async runOnce(role, image, command) {
      const names = role === "migrate" ? Object.keys(containerEnv) : appEnvNames;
      return podman(
        [
          "run",
          "--rm",
          "--network",
          "host",
          "--name",
          containerName(role),
          ...envArgs(names),
        ].concat([image, ...command]),
        { env: containerEnv, timeoutMs: 180_000 },
      );
    },
    async start(role, image, env = {}) {
      const name = containerName(role);
      // Not --rm: a container that dies keeps its logs until stop() removes it. A read-only root
      // (tmpfs on /tmp), as the Kubernetes manifests run it: the apps must not write elsewhere.
      await podman(
        ["run", "--detach", "--read-only", "--network", "host", "--name", name]
          .concat(envArgs([...appEnvNames, ...Object.keys(env)]))
          .concat([image]),
        { env: { ...containerEnv, ...env } },
      );
      started.push(role);
      return name;
    },
    async assertRunning(role) {
      const state = await podman([
        "inspect",
        "--format",
        "{{.State.Running}} {{.State.ExitCode}}",
        containerName(role),
      ]);
      const [running, exitCode] = state.trim().split(" ");
      if (running !== "true") {
        throw new Error(
          `${role} container exited (${exitCode}); its last lines:\n${await logs(role)}`,
        );
      }
    },
    async pid(role) {
      const pid = Number(
        (await podman(["inspect", "--format", "{{.State.Pid}}", containerName(role)])).trim(),
      );
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${role} container has no process`);
      return pid;
    },
    logs,
    async stop() {
      // In reverse: the market maker first, while the web server still answers its cancels.
      for (const role of [...started].reverse()) {
        await podman(["stop", "--time", "10", containerName(role)]).catch(() => undefined);
        await podman(["rm", "--force", containerName(role)]).catch(() => undefined);
      }
      await pool.end().catch(() => undefined);
      await deleteNamespace(namespace, servers).catch((error: Error) =>
        print(`  could not clean namespace ${namespace}: ${error.message}`),
      );
      await dropDatabase(ownerServer, database).catch((error: Error) =>
        print(`  could not drop database ${database}: ${error.message}`),
      );
    },
  };
  return exchange;
}
