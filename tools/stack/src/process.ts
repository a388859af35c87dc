// Starting, finding and stopping the stack's own server processes. A server is "ours" when
// its pid file names a live process with the start time recorded there; `down` never signals
// anything else.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { dataDir, logDir, logFile, pidFile, runDir } from "./paths";

type PidRecord = { pid: number; startTime: string };

function readPidRecord(server: string): PidRecord | undefined {
  try {
    const [pid, startTime] = fs.readFileSync(pidFile(server), "utf8").trim().split(/\s+/);
    const parsed = Number.parseInt(pid ?? "", 10);
    if (!Number.isInteger(parsed) || parsed <= 0 || !startTime) return undefined;
    return { pid: parsed, startTime };
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined; // exited, waiting to be reaped
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  return processStartTime(pid) !== undefined;
}

/**
 * The pid of our running server: the pid file names a live process that started at the
 * recorded time, so a recycled pid is never mistaken for ours.
 */
export function ourPid(server: string): number | undefined {
  const record = readPidRecord(server);
  if (record === undefined) return undefined;
  return processStartTime(record.pid) === record.startTime ? record.pid : undefined;
}

export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.once("listening", () => server.close(() => resolve(true)));
    server.listen(port, host);
  });
}

/** "postgres (pid 2184)" for whatever listens on the port, when `ss` can tell. */
export function portOwner(port: number): string | undefined {
  try {
    const out = execFileSync("ss", ["-Hltnp", `sport = :${port}`], { encoding: "utf8" });
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
    return match ? `${match[1]} (pid ${match[2]})` : undefined;
  } catch {
    return undefined;
  }
}

export type SpawnSpec = {
  server: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  cwd?: string;
};

/** Starts a server detached from this process (it outlives `npm start`), logging to its file. */
export function spawnDetached(spec: SpawnSpec): number {
  fs.mkdirSync(runDir, { recursive: true });
  fs.mkdirSync(logDir, { recursive: true });
  const log = fs.openSync(logFile(spec.server), "a");
  fs.writeSync(
    log,
    `\n--- ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(" ")}\n`,
  );
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ["ignore", log, log],
    env: spec.env ?? process.env,
    cwd: spec.cwd ?? dataDir,
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
  child.unref();
  fs.writeFileSync(pidFile(spec.server), `${child.pid} ${processStartTime(child.pid) ?? "?"}\n`);
  return child.pid;
}

/** Sends `signal`, then SIGKILL if the process is still there after the grace period. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs: number) {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export function lastLines(file: string, count: number): string {
  try {
    const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return lines.slice(-count).join("\n");
  } catch {
    return "(no log)";
  }
}
