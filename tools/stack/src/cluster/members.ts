// The clustered stack's servers, from the same Debian packages and Maven jars as the single-node
// stack, on ports of their own (so both stacks can run side by side) with data under
// .data/cluster/: three Kafka brokers (KRaft, each also a controller), three etcd members, a Redis
// primary and replica watched by three Sentinels, a PostgreSQL primary with a streaming replica,
// and the PostgreSQL endpoint the apps connect to (a proxy to whichever server is primary).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ProbeResult } from "@spotx/platform";
import { pingEtcd } from "@spotx/platform/etcd";
import { pingKafka } from "@spotx/platform/kafka";
import { pingPostgres } from "@spotx/platform/postgres";
import { pingRedis } from "@spotx/platform/redis";
import pg from "pg";
import { dataDir, logDir, repoRoot } from "../paths";
import { spawnDetached } from "../process";
import { classpath, fetchJars, java, writeLog4j } from "../servers/kafka";
import {
  binDir,
  initdb,
  POSTGRES_PASSWORD,
  POSTGRES_USER,
  postgresAdminUrl,
  runAccount,
} from "../servers/postgres";
import { makeTraversable, StackError, which } from "../system";

export const clusterDir = path.join(dataDir, "cluster");

/**
 * Below Linux's ephemeral range (32768–60999): a client that keeps reconnecting to a member we
 * killed can be given that member's port as its own source port and connect to itself, and the
 * socket it leaves in TIME-WAIT stops the member from listening again when it restarts.
 */
export const CLUSTER_PORTS = {
  kafka: [29102, 29104, 29106],
  kafkaController: [29103, 29105, 29107],
  etcd: [22389, 22391, 22393],
  etcdPeer: [22390, 22392, 22394],
  redis: [26389, 26390],
  sentinel: [26391, 26392, 26393],
  postgres: [25442, 25443],
  postgresEndpoint: 25440,
} as const;

/** The name the Sentinels know the Redis primary by. */
export const REDIS_PRIMARY_NAME = "spotx";

export type MemberKind = "kafka" | "etcd" | "redis" | "sentinel" | "postgres" | "pgproxy";

export interface Member {
  /** kafka-1, etcd-2, redis-1, sentinel-3, postgres-2, pgproxy */
  readonly id: string;
  readonly kind: MemberKind;
  /** The port clients use, then any others it listens on. */
  readonly ports: readonly number[];
  readonly readyTimeoutMs: number;
  readonly stopSignal: NodeJS.Signals;
  readonly stopGraceMs: number;
  prepare(): Promise<void>;
  start(): number;
  probe(): Promise<ProbeResult>;
}

/** The stack's pid and log files are named by server; cluster members get a prefix. */
export const processName = (member: Member | string) =>
  `cluster-${typeof member === "string" ? member : member.id}`;

const memberDir = (id: string) => path.join(clusterDir, id);

// ---------------------------------------------------------------- Kafka

const kafkaClusterIdFile = path.join(clusterDir, "kafka-cluster-id");

function kafkaClusterId(): string {
  fs.mkdirSync(clusterDir, { recursive: true });
  if (!fs.existsSync(kafkaClusterIdFile))
    fs.writeFileSync(kafkaClusterIdFile, randomBytes(16).toString("base64url"));
  return fs.readFileSync(kafkaClusterIdFile, "utf8").trim();
}

function kafkaMember(index: number): Member {
  const id = `kafka-${index + 1}`;
  const port = CLUSTER_PORTS.kafka[index] as number;
  const controllerPort = CLUSTER_PORTS.kafkaController[index] as number;
  const dir = memberDir(id);
  const config = path.join(dir, "server.properties");
  const log4j = path.join(dir, "log4j2.properties");
  const voters = CLUSTER_PORTS.kafkaController.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(",");
  return {
    id,
    kind: "kafka",
    ports: [port, controllerPort],
    readyTimeoutMs: 90_000,
    stopSignal: "SIGTERM",
    stopGraceMs: 30_000,
    async prepare() {
      java();
      fetchJars();
      fs.mkdirSync(dir, { recursive: true });
      const properties = {
        "process.roles": "broker,controller",
        "node.id": String(index + 1),
        "controller.quorum.voters": voters,
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        "advertised.listeners": `PLAINTEXT://127.0.0.1:${port}`,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": path.join(dir, "data"),
        "num.partitions": "4",
        "auto.create.topics.enable": "false",
        // Every partition on all three brokers; a write is acknowledged (acks=all) once two
        // of them have it, so one broker can die without losing an acknowledged message and
        // without stopping writes.
        "default.replication.factor": "3",
        "min.insync.replicas": "2",
        "unclean.leader.election.enable": "false",
        "offsets.topic.replication.factor": "3",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "3",
        "transaction.state.log.min.isr": "2",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "3",
        "share.coordinator.state.topic.min.isr": "2",
        "group.initial.rebalance.delay.ms": "0",
      };
      fs.writeFileSync(
        config,
        `# written by tools/stack (cluster) on every start\n${Object.entries(properties)
          .map(([k, v]) => `${k}=${v}`)
          .join("\n")}\n`,
      );
      writeLog4j(log4j);
      if (fs.existsSync(path.join(dir, "data", "meta.properties"))) return;
      const result = spawnSync(
        java(),
        [
          "-cp",
          classpath(),
          `-Dlog4j2.configurationFile=${log4j}`,
          "kafka.tools.StorageTool",
          "format",
          "-t",
          kafkaClusterId(),
          "-c",
          config,
        ],
        { encoding: "utf8" },
      );
      if (result.status !== 0) {
        const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-2).join(" | ");
        throw new StackError(id, `formatting the KRaft storage failed: ${tail}`);
      }
    },
    start() {
      return spawnDetached({
        server: processName(id),
        command: java(),
        args: [
          "-Xms128m",
          "-Xmx512m",
          "-XX:+UseG1GC",
          "-Djava.awt.headless=true",
          `-Dlog4j2.configurationFile=${log4j}`,
          `-Dkafka.logs.dir=${logDir}`,
          "-cp",
          classpath(),
          "kafka.Kafka",
          config,
        ],
      });
    },
    probe: () => pingKafka([`127.0.0.1:${port}`]),
  };
}

// ---------------------------------------------------------------- etcd

function etcdMember(index: number): Member {
  const id = `etcd-${index + 1}`;
  const port = CLUSTER_PORTS.etcd[index] as number;
  const peerPort = CLUSTER_PORTS.etcdPeer[index] as number;
  const dir = memberDir(id);
  const initialCluster = CLUSTER_PORTS.etcdPeer
    .map((p, i) => `etcd-${i + 1}=http://127.0.0.1:${p}`)
    .join(",");
  return {
    id,
    kind: "etcd",
    ports: [port, peerPort],
    readyTimeoutMs: 30_000,
    stopSignal: "SIGTERM",
    stopGraceMs: 10_000,
    async prepare() {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    },
    start() {
      const binary = which("etcd");
      if (!binary) throw new StackError(id, "etcd not found on PATH");
      const client = `http://127.0.0.1:${port}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      return spawnDetached({
        server: processName(id),
        command: binary,
        args: [
          "--name",
          id,
          "--data-dir",
          dir,
          "--listen-client-urls",
          client,
          "--advertise-client-urls",
          client,
          "--listen-peer-urls",
          peer,
          "--initial-advertise-peer-urls",
          peer,
          "--initial-cluster",
          initialCluster,
          "--initial-cluster-state",
          "new",
          "--initial-cluster-token",
          "spotx-cluster",
          "--auto-compaction-mode",
          "periodic",
          "--auto-compaction-retention",
          "1h",
          "--logger",
          "zap",
          "--log-level",
          "warn",
        ],
      });
    },
    probe: () => pingEtcd([`http://127.0.0.1:${port}`]),
  };
}

// ---------------------------------------------------------------- Redis and Sentinel

/**
 * Redis nodes and Sentinels read a config file they may rewrite themselves (a Sentinel records
 * the primary it follows, a node the primary it replicates): it is written only the first time,
 * so a restarted member comes back knowing what the cluster became, not what it was at creation.
 */
function writeOnce(file: string, lines: string[]) {
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
}

function redisMember(index: number): Member {
  const id = `redis-${index + 1}`;
  const port = CLUSTER_PORTS.redis[index] as number;
  const dir = memberDir(id);
  const config = path.join(dir, "redis.conf");
  const primaryPort = CLUSTER_PORTS.redis[0];
  return {
    id,
    kind: "redis",
    ports: [port],
    readyTimeoutMs: 15_000,
    stopSignal: "SIGTERM",
    stopGraceMs: 10_000,
    async prepare() {
      writeOnce(config, [
        "# written once by tools/stack (cluster); Redis and the Sentinels may rewrite it",
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        "daemonize no",
        'logfile ""',
        // As on the single node: the fencing counters' increments are fsynced before the reply.
        "appendonly yes",
        "appendfsync always",
        'save ""',
        `replica-announce-ip 127.0.0.1`,
        ...(index === 0 ? [] : [`replicaof 127.0.0.1 ${primaryPort}`]),
      ]);
    },
    start() {
      const binary = which("redis-server");
      if (!binary) throw new StackError(id, "redis-server not found on PATH");
      return spawnDetached({ server: processName(id), command: binary, args: [config] });
    },
    probe: () => pingRedis(`redis://127.0.0.1:${port}`),
  };
}

function sentinelMember(index: number): Member {
  const id = `sentinel-${index + 1}`;
  const port = CLUSTER_PORTS.sentinel[index] as number;
  const dir = memberDir(id);
  const config = path.join(dir, "sentinel.conf");
  return {
    id,
    kind: "sentinel",
    ports: [port],
    readyTimeoutMs: 15_000,
    stopSignal: "SIGTERM",
    stopGraceMs: 10_000,
    async prepare() {
      writeOnce(config, [
        "# written once by tools/stack (cluster); the Sentinel rewrites it as the cluster changes",
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        "daemonize no",
        'logfile ""',
        "sentinel resolve-hostnames no",
        "sentinel announce-ip 127.0.0.1",
        // Two of the three Sentinels must agree the primary is down before one fails it over.
        `sentinel monitor ${REDIS_PRIMARY_NAME} 127.0.0.1 ${CLUSTER_PORTS.redis[0]} 2`,
        `sentinel down-after-milliseconds ${REDIS_PRIMARY_NAME} 2000`,
        `sentinel failover-timeout ${REDIS_PRIMARY_NAME} 10000`,
        `sentinel parallel-syncs ${REDIS_PRIMARY_NAME} 1`,
      ]);
    },
    start() {
      const binary = which("redis-server");
      if (!binary) throw new StackError(id, "redis-server not found on PATH");
      return spawnDetached({
        server: processName(id),
        command: binary,
        args: [config, "--sentinel"],
      });
    },
    probe: () => pingRedis(`redis://127.0.0.1:${port}`),
  };
}

// ---------------------------------------------------------------- PostgreSQL

const rolesFile = path.join(clusterDir, "postgres-roles.json");
export type PostgresRoles = { primary: string; replica: string };

/** Which PostgreSQL member is the primary now (a promotion swaps them). */
export function postgresRoles(): PostgresRoles {
  try {
    return JSON.parse(fs.readFileSync(rolesFile, "utf8")) as PostgresRoles;
  } catch {
    return { primary: "postgres-1", replica: "postgres-2" };
  }
}

export function writePostgresRoles(roles: PostgresRoles) {
  fs.mkdirSync(clusterDir, { recursive: true });
  fs.writeFileSync(rolesFile, `${JSON.stringify(roles)}\n`);
}

export const postgresPort = (id: string) =>
  CLUSTER_PORTS.postgres[Number(id.split("-")[1]) - 1] as number;
export const postgresDir = (id: string) => path.join(memberDir(id), "data");
export const slotName = (id: string) => `replica_${id.replace("-", "_")}`;

/**
 * Makes `id` a streaming replica of the current primary: a fresh base backup of it with
 * `-R` (standby.signal and primary_conninfo written) through a replication slot of its own.
 */
export function cloneReplica(id: string, primaryId: string): void {
  const dir = postgresDir(id);
  const account = runAccount();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  if (account) {
    fs.chownSync(path.dirname(dir), account.uid, account.gid);
    makeTraversable(dir, account);
  }
  const result = spawnSync(
    path.join(binDir(), "pg_basebackup"),
    [
      "-h",
      "127.0.0.1",
      "-p",
      String(postgresPort(primaryId)),
      "-U",
      POSTGRES_USER,
      "-D",
      dir,
      "-R",
      "-X",
      "stream",
      "-C",
      "-S",
      slotName(id),
      "--checkpoint=fast",
      "--no-password",
    ],
    {
      encoding: "utf8",
      env: { ...process.env, PGPASSWORD: POSTGRES_PASSWORD, PGAPPNAME: id },
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    },
  );
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-2).join(" | ");
    throw new StackError(id, `pg_basebackup from ${primaryId} failed: ${tail}`);
  }
  // primary_conninfo names the replica, so the primary's synchronous_standby_names sees it.
  const auto = path.join(dir, "postgresql.auto.conf");
  const text = fs
    .readFileSync(auto, "utf8")
    .replace(/^primary_conninfo = '(.*)'$/m, `primary_conninfo = '$1 application_name=${id}'`);
  fs.writeFileSync(auto, text);
}

function postgresMember(index: number): Member {
  const id = `postgres-${index + 1}`;
  const port = CLUSTER_PORTS.postgres[index] as number;
  const dir = postgresDir(id);
  return {
    id,
    kind: "postgres",
    ports: [port],
    readyTimeoutMs: 60_000,
    stopSignal: "SIGINT",
    stopGraceMs: 20_000,
    async prepare() {
      if (fs.existsSync(path.join(dir, "PG_VERSION"))) return;
      const roles = postgresRoles();
      if (roles.primary === id) initdb(dir);
      else cloneReplica(id, roles.primary);
    },
    start() {
      const account = runAccount();
      return spawnDetached({
        server: processName(id),
        command: path.join(binDir(), "postgres"),
        args: [
          "-D",
          dir,
          "-p",
          String(port),
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          "unix_socket_directories=",
          "-c",
          "max_connections=300",
          "-c",
          "shared_buffers=128MB",
          "-c",
          "logging_collector=off",
          "-c",
          "wal_level=replica",
          "-c",
          "max_wal_senders=10",
          "-c",
          "max_replication_slots=10",
          "-c",
          "hot_standby=on",
          "-c",
          `cluster_name=${id}`,
        ],
        ...(account ? { uid: account.uid, gid: account.gid } : {}),
      });
    },
    probe: () => pingPostgres(postgresAdminUrl("postgres", port)),
  };
}

/**
 * Commits on the primary wait until the replica has flushed them (synchronous replication)
 * while a replica is attached, so a promotion loses no acknowledged transaction; a primary left
 * without its replica (after a promotion) commits alone until a new replica is attached.
 */
export async function setSynchronousReplica(primaryId: string, replicaId: string | null) {
  const client = new pg.Client({
    connectionString: postgresAdminUrl("postgres", postgresPort(primaryId)),
  });
  await client.connect();
  try {
    await client.query(
      replicaId === null
        ? "ALTER SYSTEM RESET synchronous_standby_names"
        : `ALTER SYSTEM SET synchronous_standby_names = ${client.escapeLiteral(`"${replicaId}"`)}`,
    );
    await client.query("SELECT pg_reload_conf()");
  } finally {
    await client.end();
  }
}

function postgresEndpointMember(): Member {
  const port = CLUSTER_PORTS.postgresEndpoint;
  return {
    id: "pgproxy",
    kind: "pgproxy",
    ports: [port],
    readyTimeoutMs: 15_000,
    stopSignal: "SIGTERM",
    stopGraceMs: 5_000,
    async prepare() {},
    start() {
      return spawnDetached({
        server: processName("pgproxy"),
        command: process.execPath,
        args: [
          "--import",
          "tsx",
          path.join(repoRoot, "tools/stack/src/cluster/tcp-proxy.ts"),
          "--listen",
          String(port),
          "--postgres",
          CLUSTER_PORTS.postgres.join(","),
        ],
        cwd: repoRoot,
        env: { ...process.env, PGPROXY_USER: POSTGRES_USER, PGPROXY_PASSWORD: POSTGRES_PASSWORD },
      });
    },
    probe: () => pingPostgres(postgresAdminUrl("postgres", port)),
  };
}

export const clusterMembers: readonly Member[] = [
  ...[0, 1, 2].map(kafkaMember),
  ...[0, 1, 2].map(etcdMember),
  ...[0, 1].map(redisMember),
  ...[0, 1, 2].map(sentinelMember),
  ...[0, 1].map(postgresMember),
  postgresEndpointMember(),
];

export function member(id: string): Member {
  const found = clusterMembers.find((m) => m.id === id);
  if (!found)
    throw new StackError(
      id,
      `no such cluster member; one of ${clusterMembers.map((m) => m.id).join(", ")}`,
    );
  return found;
}
