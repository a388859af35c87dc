// `npm run stack -- up|down|status|logs --cluster`: the clustered stack (members.ts), and what the
// chaos suite needs to act on it — kill a member, bring it back, find who leads, promote the
// PostgreSQL replica.
import fs from "node:fs";
import type { ProbeResult } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { createKafka } from "@spotx/platform/kafka";
import { Redis } from "ioredis";
import pg from "pg";
import { logFile } from "../paths";
import { isPortFree, lastLines, ourPid, portOwner, stopProcess } from "../process";
import {
  POSTGRES_APP_ROLE,
  POSTGRES_OWNER_ROLE,
  postgresAdminUrl,
  provisionRoles,
} from "../servers/postgres";
import { aptInstall, assertDiskSpace, StackError, which } from "../system";
import {
  CLUSTER_PORTS,
  cloneReplica,
  clusterDir,
  clusterMembers,
  type Member,
  member,
  postgresDir,
  postgresPort,
  postgresRoles,
  processName,
  REDIS_PRIMARY_NAME,
  setSynchronousReplica,
  writePostgresRoles,
} from "./members";

export { CLUSTER_PORTS, clusterMembers, type Member, member, postgresRoles };

const ROLE_PASSWORD = { [POSTGRES_APP_ROLE]: "spotx_app", [POSTGRES_OWNER_ROLE]: "spotx_owner" };
const endpointUrl = (role: keyof typeof ROLE_PASSWORD) =>
  `postgres://${role}:${ROLE_PASSWORD[role]}@127.0.0.1:${CLUSTER_PORTS.postgresEndpoint}/spotx`;

/** What the apps are given to run on the clustered stack. */
export function clusterEnv() {
  return {
    DATABASE_URL: endpointUrl(POSTGRES_APP_ROLE),
    DATABASE_OWNER_URL: endpointUrl(POSTGRES_OWNER_ROLE),
    REDIS_URL: `redis-sentinel://${CLUSTER_PORTS.sentinel.map((p) => `127.0.0.1:${p}`).join(",")}/${REDIS_PRIMARY_NAME}`,
    ETCD_ENDPOINTS: CLUSTER_PORTS.etcd.map((p) => `http://127.0.0.1:${p}`).join(","),
    KAFKA_BROKERS: CLUSTER_PORTS.kafka.map((p) => `127.0.0.1:${p}`).join(","),
  };
}

const pad = (text: string, width: number) => text.padEnd(width);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

async function waitReady(m: Member): Promise<ProbeResult> {
  const deadline = Date.now() + m.readyTimeoutMs;
  let last: ProbeResult = { ok: false, latencyMs: 0, error: "not probed" };
  while (Date.now() < deadline) {
    last = await m.probe();
    if (last.ok) return last;
    if (ourPid(processName(m)) === undefined)
      throw new StackError(
        m.id,
        `exited during start-up; last log lines:\n${lastLines(logFile(processName(m)), 15)}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError(
    m.id,
    `not ready after ${seconds(m.readyTimeoutMs)} (${last.ok ? "" : last.error}); last log lines:\n${lastLines(logFile(processName(m)), 15)}`,
  );
}

async function portFreesSoon(port: number, graceMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    if (await isPortFree(port)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts one member unless it runs, and waits for it to answer. */
async function startMember(m: Member): Promise<string> {
  const started = Date.now();
  const running = ourPid(processName(m));
  if (running !== undefined) {
    const result = await waitReady(m);
    return `${pad(m.id, 11)} already running  127.0.0.1:${m.ports[0]}  pid ${running}  ${result.ok ? (result.detail ?? "") : ""}`;
  }
  await m.prepare();
  for (const port of m.ports) {
    if (!(await portFreesSoon(port))) {
      const owner = portOwner(port);
      throw new StackError(m.id, `port ${port} is in use${owner ? ` by ${owner}` : ""}`);
    }
  }
  const pid = m.start();
  const result = await waitReady(m);
  return `${pad(m.id, 11)} ready  127.0.0.1:${m.ports[0]}  pid ${pid}  in ${seconds(Date.now() - started)}  ${result.ok ? (result.detail ?? "") : ""}`;
}

const ofKind = (kind: Member["kind"]) => clusterMembers.filter((m) => m.kind === kind);

function missingPackages(): string[] {
  const packages: string[] = [];
  if (!which("etcd")) packages.push("etcd-server");
  if (!which("redis-server")) packages.push("redis-server");
  if (!fs.existsSync("/usr/lib/postgresql")) packages.push("postgresql");
  if (!which("java")) packages.push("openjdk-17-jre-headless");
  if (!which("mvn")) packages.push("maven");
  return packages;
}

/** Brings every member up: Kafka, etcd and Redis in parallel, PostgreSQL primary before replica. */
export async function clusterUp(print: (line: string) => void = console.log): Promise<void> {
  const missing = missingPackages();
  if (missing.length > 0) aptInstall("cluster", missing);
  assertDiskSpace("cluster", clusterDir, 2048);
  const say = async (m: Member) => print(`  ${(await startMember(m)).trimEnd()}`);
  const roles = postgresRoles();
  const results = await Promise.allSettled([
    Promise.all(ofKind("kafka").map(say)),
    Promise.all(ofKind("etcd").map(say)),
    (async () => {
      await Promise.all(ofKind("redis").map(say));
      await Promise.all(ofKind("sentinel").map(say));
    })(),
    (async () => {
      // The replica first: a primary that already names it synchronous would hold every
      // commit (the roles below too) until it is back.
      await say(member(roles.primary));
      await say(member(roles.replica));
      await setSynchronousReplica(roles.primary, roles.replica);
      await provisionRoles(postgresAdminUrl("postgres", postgresPort(roles.primary)));
      await say(member("pgproxy"));
    })(),
  ]);
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  if (failures.length > 0) {
    for (const failure of failures.slice(1))
      print(`  ${failure instanceof Error ? failure.message : String(failure)}`);
    throw failures[0];
  }
}

export async function clusterDown(print: (line: string) => void = console.log): Promise<void> {
  for (const m of [...clusterMembers].reverse()) {
    const pid = ourPid(processName(m));
    if (pid === undefined) {
      print(`  ${pad(m.id, 11)} not running`);
      continue;
    }
    await stopProcess(pid, m.stopSignal, m.stopGraceMs);
    print(`  ${pad(m.id, 11)} stopped (pid ${pid})`);
  }
}

export async function clusterStatus(print: (line: string) => void = console.log): Promise<boolean> {
  const roles = await clusterRoles().catch(() => new Map<string, string>());
  let healthy = true;
  const lines = await Promise.all(
    clusterMembers.map(async (m) => {
      const pid = ourPid(processName(m));
      const result = await m.probe();
      healthy &&= result.ok;
      const state = pid !== undefined ? `pid ${pid}` : "not running";
      const health = result.ok
        ? `healthy (${result.latencyMs} ms) ${result.detail ?? ""}`
        : `unhealthy: ${result.error}`;
      return `  ${pad(m.id, 11)} ${pad(`127.0.0.1:${m.ports[0]}`, 16)} ${pad(state, 12)} ${pad(roles.get(m.id) ?? "", 10)} ${health}`.trimEnd();
    }),
  );
  for (const line of lines) print(line);
  return healthy;
}

export function clusterLogs(
  which: string | undefined,
  lines: number,
  print: (line: string) => void = console.log,
) {
  const chosen = which
    ? clusterMembers.filter((m) => m.id === which || m.kind === which)
    : clusterMembers;
  if (chosen.length === 0)
    throw new StackError(
      which ?? "cluster",
      `unknown member; one of ${clusterMembers.map((m) => m.id).join(", ")}`,
    );
  for (const m of chosen) {
    print(`==> ${logFile(processName(m))} <==`);
    print(lastLines(logFile(processName(m)), lines));
  }
}

// ---------------------------------------------------------------- acting on members

/** kill -9: no shutdown of any kind, as a crashed machine. Returns the pid it killed. */
export function killMember(id: string): number {
  const m = member(id);
  const pid = ourPid(processName(m));
  if (pid === undefined) throw new StackError(id, "is not running");
  process.kill(pid, "SIGKILL");
  return pid;
}

/** The member's pid while it runs. */
export function memberPid(id: string): number | undefined {
  return ourPid(processName(member(id)));
}

export function isRunning(id: string): boolean {
  return ourPid(processName(member(id))) !== undefined;
}

/**
 * Brings a member back. A PostgreSQL server that was the primary before a promotion comes back
 * as the new primary's replica (a fresh base backup), never as a second primary.
 */
export async function restartMember(id: string): Promise<void> {
  const m = member(id);
  const pid = ourPid(processName(m));
  if (pid !== undefined) await stopProcess(pid, m.stopSignal, m.stopGraceMs);
  if (m.kind === "postgres") {
    const roles = postgresRoles();
    const standby = fs.existsSync(`${postgresDir(id)}/standby.signal`);
    if (roles.replica === id && !standby) {
      await dropSlot(roles.primary, id);
      cloneReplica(id, roles.primary);
    }
  }
  await startMember(m);
  if (m.kind === "postgres") {
    const roles = postgresRoles();
    if (roles.replica === id) await setSynchronousReplica(roles.primary, id);
  }
}

async function dropSlot(primaryId: string, replicaId: string) {
  const client = new pg.Client({
    connectionString: postgresAdminUrl("postgres", postgresPort(primaryId)),
  });
  await client.connect();
  try {
    await client.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
      [`replica_${replicaId.replace("-", "_")}`],
    );
  } finally {
    await client.end();
  }
}

/**
 * Promotes the replica to primary (what an operator, or Patroni, does once the primary is
 * gone): it stops replaying, becomes writable, and commits alone (no synchronous replica) until
 * the old primary is brought back as its replica. The PostgreSQL endpoint follows within a check.
 */
export async function promotePostgresReplica(): Promise<string> {
  const roles = postgresRoles();
  const client = new pg.Client({
    connectionString: postgresAdminUrl("postgres", postgresPort(roles.replica)),
  });
  await client.connect();
  try {
    await client.query("SELECT pg_promote(true, 60)");
  } finally {
    await client.end();
  }
  writePostgresRoles({ primary: roles.replica, replica: roles.primary });
  await setSynchronousReplica(roles.replica, null);
  return roles.replica;
}

/** The Kafka broker leading a partition now (`kafka-N`). */
export async function kafkaPartitionLeader(topic: string, partition: number): Promise<string> {
  const kafka = createKafka(clusterEnv().KAFKA_BROKERS.split(","), "spotx-cluster-tool");
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const found = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition);
    if (found === undefined || found.leader < 0)
      throw new StackError("cluster", `${topic}/${partition} has no leader`);
    return `kafka-${found.leader}`;
  } finally {
    await admin.disconnect();
  }
}

/** The etcd member that leads the Raft group now. */
export async function etcdLeader(): Promise<string> {
  for (const [i, port] of CLUSTER_PORTS.etcd.entries()) {
    if (!isRunning(`etcd-${i + 1}`)) continue;
    const client = createEtcd([`http://127.0.0.1:${port}`]);
    try {
      const status = await client.maintenance.status();
      if (status.header.member_id === status.leader) return `etcd-${i + 1}`;
    } catch {
      // this member does not answer; ask the next
    } finally {
      client.close();
    }
  }
  throw new StackError("cluster", "no etcd member reports itself the leader");
}

/** The Redis node the Sentinels name as primary now. */
export async function redisPrimary(): Promise<string> {
  for (const port of CLUSTER_PORTS.sentinel) {
    const sentinel = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    sentinel.on("error", () => undefined);
    try {
      await sentinel.connect();
      const answer = (await sentinel.call(
        "SENTINEL",
        "get-master-addr-by-name",
        REDIS_PRIMARY_NAME,
      )) as [string, string] | null;
      const index = CLUSTER_PORTS.redis.indexOf(Number(answer?.[1]) as 26389);
      if (index >= 0) return `redis-${index + 1}`;
    } catch {
      // ask the next Sentinel
    } finally {
      sentinel.disconnect();
    }
  }
  throw new StackError("cluster", "no Sentinel names a Redis primary");
}

/** Each member's role now, for `status`: leader/primary/replica where it has one. */
async function clusterRoles(): Promise<Map<string, string>> {
  const roles = new Map<string, string>();
  const pgRoles = postgresRoles();
  roles.set(pgRoles.primary, "primary");
  roles.set(pgRoles.replica, "replica");
  const [etcd, redis] = await Promise.allSettled([etcdLeader(), redisPrimary()]);
  if (etcd.status === "fulfilled") roles.set(etcd.value, "leader");
  if (redis.status === "fulfilled") {
    for (const m of clusterMembers.filter((x) => x.kind === "redis"))
      roles.set(m.id, m.id === redis.value ? "primary" : "replica");
  }
  return roles;
}
