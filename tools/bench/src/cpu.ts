// Where the machine's CPU went during a phase, per process group: this benchmark process
// (the placement service and the load), the socket clients, the worker, the web server, and
// the four servers (PostgreSQL counted with all its backends). On a 2-core machine that is
// the first answer to "where does the time go". Linux /proc only; elsewhere it reports nothing.
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

/** A server of the stack and every process it forked (PostgreSQL's backends). */
export function stackServer(name: string): CpuGroup {
  return {
    name,
    pids: () => {
      const root = ourPid(name);
      if (root === undefined) return [];
      const pids = [root];
      for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = pidStat(Number(entry));
        if (stat?.ppid === root) pids.push(Number(entry));
      }
      return pids;
    },
  };
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
      ours += cores;
    }
    const totalTicks = b.machineTotal - a.machineTotal;
    const cores = totalTicks > 0 ? ((b.machineBusy - a.machineBusy) / totalTicks) * cpuCount() : 0;
    return {
      seconds: round(seconds, 1),
      machine_busy_cores: round(cores, 2),
      cores_available: cpuCount(),
      by_process: groups,
      other_cores: round(Math.max(0, cores - ours), 2),
    };
  }
}

export type CpuReport = {
  seconds: number;
  machine_busy_cores: number;
  cores_available: number;
  by_process: Record<string, number>;
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
