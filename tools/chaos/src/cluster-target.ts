// The clustered stack as a fault target: each server component names the member whose loss
// hurts most — the Kafka broker leading a market's partition, the etcd leader, the Redis
// primary, the PostgreSQL primary — and comes back the way a cluster's operator would bring it:
// a restarted broker, etcd member or Redis node rejoins; a dead PostgreSQL primary is replaced
// by promoting its synchronous replica, and comes back later as the new primary's replica.
import fs from "node:fs";
import { partitionForKey } from "@spotx/platform/kafka";
import {
  etcdLeader,
  kafkaPartitionLeader,
  memberPid,
  postgresRoles,
  promotePostgresReplica,
  redisPrimary,
  restartMember,
} from "@spotx/stack/cluster";
import { isAlive } from "@spotx/stack/process";
import type { ChaosExchange } from "./exchange";
import {
  AppFaults,
  COMPONENTS,
  type Component,
  type FaultTarget,
  type KillRecord,
  type SingleNodeOptions,
} from "./target";
import { waitFor } from "./wait";

/** The market whose partition leader a Kafka fault kills. */
const MARKET = "BTC_USDT";

export class ClusterTarget implements FaultTarget {
  readonly name = "cluster";
  private readonly apps: AppFaults;
  private readonly killed = new Map<Component, string>();
  /** A former PostgreSQL primary being brought back as a replica, after its promotion. */
  private healing: Promise<void> = Promise.resolve();

  constructor(
    private readonly exchange: ChaosExchange,
    options: SingleNodeOptions = {},
  ) {
    this.apps = new AppFaults(exchange, options);
  }

  components(): readonly Component[] {
    return COMPONENTS;
  }

  /** The member that leads or is primary for the component now. */
  async victim(component: Component): Promise<string> {
    switch (component) {
      case "kafka": {
        const { topic, numPartitions } = this.exchange.names.kafka.orders;
        return kafkaPartitionLeader(topic, partitionForKey(topic, MARKET, numPartitions));
      }
      case "etcd":
        return etcdLeader();
      case "redis":
        return redisPrimary();
      case "postgres":
        return postgresRoles().primary;
      default:
        throw new Error(`${component} is not a server`);
    }
  }

  async kill(component: Component): Promise<KillRecord> {
    if (component === "worker" || component === "web") return this.apps.kill(component);
    // The cluster is whole again before the next fault: a replica still being rebuilt would
    // make a PostgreSQL fault a double one.
    await this.healing;
    const id = await this.victim(component);
    const pid = memberPid(id);
    if (pid === undefined) throw new Error(`${id} is not running`);
    // Its processes are found before the kill: once it dies, its children belong to init.
    const family = descendants(pid);
    const at = Date.now();
    for (const pid of family) signal(pid);
    await waitFor(async () => family.every((pid) => !isAlive(pid)), {
      what: `${id} to die`,
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    this.killed.set(component, id);
    return { component, victim: `${component} ${id} (pid ${family[0]})`, at };
  }

  async restore(component: Component): Promise<void> {
    if (component === "worker" || component === "web") return this.apps.restore(component);
    const id = this.killed.get(component);
    if (id === undefined) return;
    this.killed.delete(component);
    if (component === "postgres") {
      // Service comes back with the promotion; the old primary rejoins as a replica meanwhile.
      await promotePostgresReplica();
      this.healing = restartMember(id);
      return;
    }
    await restartMember(id);
  }

  /** Waits for any member still being brought back. */
  async settle(): Promise<void> {
    await this.healing;
  }
}

/** The pid and every process below it (a PostgreSQL server dies with its backends). */
function descendants(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const parent = all[i] as number;
    for (const entry of safeReaddir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue;
      }
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) all.push(Number(entry));
    }
  }
  return all;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function signal(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}
