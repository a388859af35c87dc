// Where the machine's CPU went during a phase, per process group: this benchmark process
// (the placement service and the load), the load generators, the socket clients, the worker,
// the web server, and the four servers (PostgreSQL counted with all its backends). On a
// 2-core machine that is the first answer to "where does the time go"; divided by the phase's
// order operations it is the cost of one (cpuPerOperation). Linux /proc only; elsewhere it
// reports nothing.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { ourPid } from "@spotx/stack/process";
import { round } from "./stats";

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export type CpuGroup = { name: string; pids: () => number[] };

export type CpuSample = {
  at: number;
  machineBusy: number;
  machineTotal: number;
  /** Group → pid → CPU ticks so far. */
  groups: Map<string, Map<number, number>>;
};

export { TICKS_PER_SECOND };

export function pidStat(pid: number): { ticks: number; ppid: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function machine(): { busy: number; total: number } {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** A process and its children (PostgreSQL's backends, anything an app forked). */
export function withChildren(root: number): number[] {
  const pids = [root];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = pidStat(Number(entry));
    if (stat?.ppid === root) pids.push(Number(entry));
  }
  return pids;
}

/**
 * A server of the stack and every process it forked. Found by the stack's pid file; when the
 * stack was started from another checkout (or is external), by the process listening on its
 * port on this machine — found once, kept while it lives.
 */
export function stackServer(name: string, port: number | undefined): CpuGroup {
  let found: number | undefined;
  return {
    name,
    pids: () => {
      let root = ourPid(name);
      if (root === undefined && port !== undefined) {
        if (found === undefined || pidStat(found) === null) found = listeningPid(port);
        root = found;
      }
      return root === undefined ? [] : withChildren(root);
    },
  };
}

/** The rows of /proc/net/tcp and /proc/net/tcp6 (IPv4 and IPv6 sockets), split into fields. */
export function tcpSockets(): string[][] {
  const rows: string[][] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) rows.push(line.trim().split(/\s+/));
  }
  return rows;
}

/** The process listening on a TCP port of this machine (from /proc/net/tcp{,6}), if any. */
export function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const f of tcpSockets()) {
    // local_address is HEXADDR:HEXPORT, st 0A is LISTEN, the inode is field 10.
    if (f[3] === "0A" && f[1]?.endsWith(`:${hexPort}`) && f[9]) inodes.add(f[9]);
  }
  if (inodes.size === 0) return undefined;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode && inodes.has(inode)) return Number(entry);
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return undefined;
}

export class CpuMeter {
  constructor(private readonly groups: CpuGroup[]) {}

  sample(): CpuSample {
    const groups = new Map<string, Map<number, number>>();
    for (const group of this.groups) {
      const perPid = new Map<number, number>();
      for (const pid of group.pids()) {
        const stat = pidStat(pid);
        if (stat) perPid.set(pid, stat.ticks);
      }
      groups.set(group.name, perPid);
    }
    const m = machine();
    return { at: Date.now(), machineBusy: m.busy, machineTotal: m.total, groups };
  }

  /** CPU used between two samples, in cores (1.0 = one core busy the whole time), by group. */
  between(a: CpuSample, b: CpuSample): CpuReport {
    const seconds = Math.max(0.001, (b.at - a.at) / 1_000);
    const groups: Record<string, number> = {};
    const cpuSeconds: Record<string, number> = {};
    let ours = 0;
    for (const group of this.groups) {
      // A pid born during the interval counts whole; one that died in it loses its last slice.
      let ticks = 0;
      const before = a.groups.get(group.name);
      for (const [pid, end] of b.groups.get(group.name) ?? []) {
        ticks += end - (before?.get(pid) ?? 0);
      }
      const cores = ticks / TICKS_PER_SECOND / seconds;
      groups[group.name] = round(cores, 2);
      cpuSeconds[group.name] = round(ticks / TICKS_PER_SECOND, 3);
      ours += cores;
    }
    const totalTicks = b.machineTotal - a.machineTotal;
    const cores = totalTicks > 0 ? ((b.machineBusy - a.machineBusy) / totalTicks) * cpuCount() : 0;
    return {
      seconds: round(seconds, 1),
      interval_s: round(seconds, 3),
      cpu_seconds: cpuSeconds,
      machine_busy_cores: round(cores, 2),
      cores_available: cpuCount(),
      by_process: groups,
      unmeasured: this.groups
        .map((g) => g.name)
        .filter((name) => (a.groups.get(name)?.size ?? 0) + (b.groups.get(name)?.size ?? 0) === 0),
      other_cores: round(Math.max(0, cores - ours), 2),
    };
  }
}

/** The processes that are the exchange; the rest (bench, generators, socket clients) are load. */
export const EXCHANGE_PROCESSES = ["worker", "web", "postgres", "kafka", "redis", "etcd"] as const;

export type CpuPerOperation = {
  /** Order operations (placements and cancels, every command answered) over the interval. */
  operations: number;
  /** CPU µs each process used per order operation. */
  us_per_op: Record<string, number>;
  /** The exchange's processes together (EXCHANGE_PROCESSES). */
  exchange_us_per_op: number;
  /** Cores the exchange's processes kept busy. */
  exchange_cores: number;
  /** Processes whose CPU could not be read (not on this machine): not in the sum. */
  unmeasured: string[];
};

/** A phase's CPU divided by its order operations. */
export function cpuPerOperation(cpu: CpuReport, operations: number): CpuPerOperation {
  const perOp = (seconds: number) => (operations > 0 ? round((seconds * 1e6) / operations, 1) : 0);
  const us: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpu.cpu_seconds)) us[name] = perOp(seconds);
  const exchangeSeconds = EXCHANGE_PROCESSES.reduce((sum, p) => sum + (cpu.cpu_seconds[p] ?? 0), 0);
  return {
    operations,
    us_per_op: us,
    exchange_us_per_op: perOp(exchangeSeconds),
    exchange_cores: round(exchangeSeconds / Math.max(0.001, cpu.interval_s), 2),
    unmeasured: cpu.unmeasured,
  };
}

export type CpuReport = {
  seconds: number;
  machine_busy_cores: number;
  cores_available: number;
  by_process: Record<string, number>;
  /** The interval exactly, and the CPU seconds each group used in it (what per-op figures use). */
  interval_s: number;
  cpu_seconds: Record<string, number>;
  /** Groups with no process found (e.g. a server on another machine): reported as 0. */
  unmeasured: string[];
  /** Busy time of processes outside this run (other work on the machine, the kernel). */
  other_cores: number;
};

function cpuCount(): number {
  try {
    const text = fs.readFileSync("/proc/stat", "utf8");
    return text.split("\n").filter((l) => /^cpu\d+ /.test(l)).length || 1;
  } catch {
    return 1;
  }
}
