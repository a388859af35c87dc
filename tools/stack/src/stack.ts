// The local stack: bring the four servers up (or use the ones the environment names), report
// their state, and stop only what we started.
import fs from "node:fs";
import type { ProbeResult } from "@spotx/platform";
import { dataDir, logFile } from "./paths";
import { isPortFree, lastLines, ourPid, portOwner, stopProcess } from "./process";
import { etcdEndpoint, etcdServer } from "./servers/etcd";
import { kafkaBroker, kafkaServer } from "./servers/kafka";
import { postgresOwnerUrl, postgresServer, postgresUrl } from "./servers/postgres";
import { redisServer, redisUrl } from "./servers/redis";
import type { StackServer } from "./servers/types";
import { aptInstall, assertDiskSpace, StackError } from "./system";

export const servers: readonly StackServer[] = [
  postgresServer,
  redisServer,
  etcdServer,
  kafkaServer,
];

/** The addresses the apps should use: the environment's where set, else our own servers'. */
export function stackEnv(env: NodeJS.ProcessEnv = process.env) {
  return {
    // The app role: the apps never get the owner's credentials.
    DATABASE_URL: env.DATABASE_URL || postgresUrl(),
    REDIS_URL: env.REDIS_URL || redisUrl(),
    ETCD_ENDPOINTS: env.ETCD_ENDPOINTS || etcdEndpoint(),
    KAFKA_BROKERS: env.KAFKA_BROKERS || kafkaBroker(),
  };
}

/**
 * What migrations run as: DATABASE_OWNER_URL, else DATABASE_URL when the user named a database
 * (one role does both), else our own server's owner role.
 */
export function migrationDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_OWNER_URL || env.DATABASE_URL || postgresOwnerUrl();
}

const external = (server: StackServer) => process.env[server.envVar] || undefined;

/** A URL with its password replaced, for messages. */
export function redact(value: string): string {
  return value.replace(/\/\/([^:/@]+):([^@/]+)@/, "//$1:***@");
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const pad = (text: string, width: number) => text.padEnd(width);

async function waitReady(server: StackServer, deadline: number): Promise<ProbeResult> {
  let last: ProbeResult = { ok: false, latencyMs: 0, error: "not probed" };
  while (Date.now() < deadline) {
    last = await server.probe();
    if (last.ok) return last;
    if (ourPid(server.name) === undefined) {
      throw new StackError(
        server.name,
        `exited during start-up; last log lines:\n${lastLines(logFile(server.name), 15)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError(
    server.name,
    `health check timed out after ${seconds(server.readyTimeoutMs)} (${last.ok ? "" : last.error}); last log lines:\n${lastLines(logFile(server.name), 15)}`,
  );
}

async function upOne(server: StackServer): Promise<string> {
  const started = Date.now();
  const port = server.ports[0];
  const value = external(server);
  if (value !== undefined) {
    const result = await server.probeExternal(value);
    if (!result.ok)
      throw new StackError(
        server.name,
        `${server.envVar}=${redact(value)} is not reachable: ${result.error}`,
      );
    return `${pad(server.name, 9)} external  ${server.envVar}=${redact(value)}  ${result.detail ?? ""}`;
  }

  const running = ourPid(server.name);
  if (running !== undefined) {
    const result = await waitReady(server, Date.now() + server.readyTimeoutMs);
    await server.afterReady?.();
    return `${pad(server.name, 9)} already running  127.0.0.1:${port}  pid ${running}  ${result.ok ? (result.detail ?? "") : ""}`;
  }

  assertDiskSpace(server.name, dataDir, 512);
  await server.prepare();
  for (const p of server.ports) {
    if (!(await portFreesSoon(p))) {
      const owner = portOwner(p);
      throw new StackError(
        server.name,
        `port ${p} is in use${owner ? ` by ${owner}` : ""}; stop it or set ${server.envVar} to use an existing server`,
      );
    }
  }
  const pid = server.start();
  const result = await waitReady(server, Date.now() + server.readyTimeoutMs);
  await server.afterReady?.();
  return `${pad(server.name, 9)} ready  127.0.0.1:${port}  pid ${pid}  in ${seconds(Date.now() - started)}  ${result.ok ? (result.detail ?? "") : ""}`;
}

/**
 * Whether a port is free, allowing a server that was just killed a moment to finish dying: its
 * pid is gone from /proc a little before the kernel has closed its listening socket.
 */
async function portFreesSoon(port: number, graceMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    if (await isPortFree(port)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let upInProgress: Promise<void> = Promise.resolve();

/**
 * Installs what is missing, then starts every server that is not up, in parallel. Calls in one
 * process run one after another: two at once would both find a dead server and start it twice,
 * and the loser of the port would overwrite the winner's pid file.
 */
export function up(print: (line: string) => void = console.log): Promise<void> {
  const run = upInProgress.then(() => upNow(print));
  upInProgress = run.catch(() => undefined);
  return run;
}

async function upNow(print: (line: string) => void): Promise<void> {
  const missing = servers
    .filter((s) => external(s) === undefined)
    .flatMap((s) => s.missingPackages());
  if (missing.length > 0)
    aptInstall(servers.find((s) => s.missingPackages().length > 0)?.name ?? "stack", [
      ...new Set(missing),
    ]);

  const results = await Promise.allSettled(
    servers.map(async (server) => {
      const line = await upOne(server);
      print(`  ${line.trimEnd()}`);
    }),
  );
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  if (failures.length > 0) {
    const [first, ...rest] = failures;
    if (rest.length > 0)
      for (const failure of rest)
        print(`  ${failure instanceof Error ? failure.message : String(failure)}`);
    throw first;
  }
}

export async function down(print: (line: string) => void = console.log): Promise<void> {
  for (const server of [...servers].reverse()) {
    const pid = ourPid(server.name);
    if (pid === undefined) {
      print(`  ${pad(server.name, 9)} not running`);
      continue;
    }
    await stopProcess(pid, server.stopSignal, server.stopGraceMs);
    print(`  ${pad(server.name, 9)} stopped (pid ${pid})`);
  }
}

export async function status(print: (line: string) => void = console.log): Promise<boolean> {
  let healthy = true;
  await Promise.all(
    servers.map(async (server) => {
      const value = external(server);
      const pid = ourPid(server.name);
      const result = value !== undefined ? await server.probeExternal(value) : await server.probe();
      healthy &&= result.ok;
      const where =
        value !== undefined
          ? `external ${server.envVar}=${redact(value)}`
          : `127.0.0.1:${server.ports[0]}`;
      const state = value !== undefined ? "" : pid !== undefined ? `pid ${pid}` : "not running";
      const health = result.ok
        ? `healthy (${result.latencyMs} ms) ${result.detail ?? ""}`
        : `unhealthy: ${result.error}`;
      print(`  ${pad(server.name, 9)} ${pad(where, 18)} ${pad(state, 12)} ${health}`.trimEnd());
    }),
  );
  return healthy;
}

export async function reset(print: (line: string) => void = console.log): Promise<void> {
  await down(print);
  fs.rmSync(dataDir, { recursive: true, force: true });
  print(`  removed ${dataDir}`);
}

export function logs(
  which: string | undefined,
  lines: number,
  print: (line: string) => void = console.log,
) {
  const chosen = which ? servers.filter((s) => s.name === which) : servers;
  if (chosen.length === 0)
    throw new StackError(
      which ?? "stack",
      `unknown server; choose one of ${servers.map((s) => s.name).join(", ")}`,
    );
  for (const server of chosen) {
    print(`==> ${logFile(server.name)} <==`);
    print(lastLines(logFile(server.name), lines));
  }
}
