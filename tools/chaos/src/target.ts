// What a fault can kill, and how it comes back. A target knows where each component runs: the
// single-node target here kills the local stack's own servers (their pid files, SIGKILL) and the
// exchange's app processes; a cluster target kills one member of a cluster (the broker leading a
// partition, the etcd leader, the Redis or PostgreSQL primary) behind the same interface, so the
// scenarios run unchanged against either.
import fs from "node:fs";
import { isAlive, ourPid } from "@spotx/stack/process";
import { up } from "@spotx/stack/stack";
import type { AppInstance, ChaosExchange } from "./exchange";
import { waitFor } from "./wait";

export const COMPONENTS = ["worker", "web", "kafka", "etcd", "redis", "postgres"] as const;
export type Component = (typeof COMPONENTS)[number];

/** The servers (as opposed to the exchange's own processes). */
export const SERVER_COMPONENTS: readonly Component[] = ["kafka", "etcd", "redis", "postgres"];

export type KillRecord = {
  component: Component;
  /** What died: "worker chaos…-worker-0-1", "postgres pid 1234 (and 9 children)". */
  victim: string;
  /** When the signal was sent (ms since the epoch). */
  at: number;
};

export interface FaultTarget {
  readonly name: string;
  /** The components this target can kill. */
  components(): readonly Component[];
  /**
   * Kills one instance of the component abruptly (SIGKILL or its equivalent) and resolves once
   * it is gone: worker — one that owns markets; web — one instance, in the middle of a request;
   * kafka — the broker leading a market's partition; etcd — the leader; redis and postgres —
   * the primary.
   */
  kill(component: Component): Promise<KillRecord>;
  /** Brings the component back to full strength; resolves once it serves again. */
  restore(component: Component): Promise<void>;
}

export type SingleNodeOptions = {
  /**
   * Resolves when the next request to a web instance's URL has been sent (the traffic's
   * `nextRequestTo`): the instance is killed at that moment, in the middle of the request.
   */
  requestSent?: (url: string) => Promise<void>;
  /** Requests in flight to a web instance's URL: without `requestSent`, one with some is killed. */
  inFlight?: (url: string) => number;
};

/** The exchange's processes die and come back the same way whichever servers run below. */
export class AppFaults {
  private readonly killed: AppInstance[] = [];

  constructor(
    private readonly exchange: ChaosExchange,
    private readonly options: SingleNodeOptions = {},
  ) {}

  async kill(kind: "worker" | "web"): Promise<KillRecord> {
    const victim = kind === "worker" ? await this.owningWorker() : await this.busyWeb();
    const at = Date.now();
    await this.exchange.kill(victim);
    this.killed.push(victim);
    return { component: kind, victim: `${kind} ${victim.id} (pid ${victim.child.pid})`, at };
  }

  /** Starts every killed process of that kind again in its slot. */
  async restore(kind: "worker" | "web"): Promise<void> {
    const mine = this.killed.filter((app) => app.kind === kind);
    for (const app of mine) this.killed.splice(this.killed.indexOf(app), 1);
    await Promise.all(mine.map((app) => this.exchange.restart(app)));
  }

  private owningWorker(): Promise<AppInstance> {
    return waitFor(() => this.exchange.workerOwningMarkets(), {
      what: "a live worker owning markets",
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  }

  /**
   * A live web instance in the middle of a request: the first live one, the moment a request to
   * it has been sent (or one with requests in flight, or just the first live one).
   */
  private async busyWeb(): Promise<AppInstance> {
    const live = () => this.exchange.webs.filter((w) => w.alive);
    const requestSent = this.options.requestSent;
    if (requestSent) {
      const first = live()[0];
      if (!first) throw new Error("no live web instance to kill");
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no request was sent to ${first.url}`)), 10_000);
      });
      await Promise.race([requestSent(first.url), timeout]).finally(() => clearTimeout(timer));
      return first;
    }
    const inFlight = this.options.inFlight;
    if (!inFlight) {
      const first = live()[0];
      if (!first) throw new Error("no live web instance to kill");
      return first;
    }
    return waitFor(async () => live().find((w) => inFlight(w.url) > 0), {
      what: "a request in flight to a web instance",
      timeoutMs: 10_000,
      intervalMs: 1,
    });
  }
}

/** The local stack's four servers and the exchange's processes on this machine. */
export class SingleNodeTarget implements FaultTarget {
  readonly name = "single-node";
  private readonly apps: AppFaults;

  constructor(exchange: ChaosExchange, options: SingleNodeOptions = {}) {
    this.apps = new AppFaults(exchange, options);
  }

  components(): readonly Component[] {
    return COMPONENTS;
  }

  async kill(component: Component): Promise<KillRecord> {
    if (component === "worker" || component === "web") return this.apps.kill(component);
    const pid = ourPid(component);
    if (pid === undefined) {
      throw new Error(
        `${component} is not the stack's own server (or is not running): the single-node target kills only those`,
      );
    }
    // A server dies with its children, as its container or machine would: a PostgreSQL backend
    // left behind would keep the old shared memory and stop the new server from starting.
    const family = [pid, ...childrenOf(pid)];
    const at = Date.now();
    for (const member of family) signal(member, "SIGKILL");
    // A new PostgreSQL refuses to start while its lock file's pid still exists, even as a zombie
    // waiting for its parent to reap it: its postmaster must be gone, not only dead.
    const gone = (member: number) =>
      component === "postgres" && member === pid
        ? !fs.existsSync(`/proc/${member}`)
        : !isAlive(member);
    await waitFor(async () => family.every(gone), {
      what: `${component} (pid ${pid}) and its children to be gone`,
      timeoutMs: 15_000,
      intervalMs: 10,
    });
    const children = family.length - 1;
    return {
      component,
      victim: `${component} pid ${pid}${children > 0 ? ` (and ${children} children)` : ""}`,
      at,
    };
  }

  async restore(component: Component): Promise<void> {
    if (component === "worker" || component === "web") return this.apps.restore(component);
    // Starts whatever of the stack is not running and waits until each answers a real request.
    await up(() => undefined);
  }
}

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readText(`/proc/${entry}/stat`);
    if (stat === undefined) continue;
    // Field 4 (ppid), after the parenthesised command name, which may contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
