// `npm start`: the stack, migrations, demo data, a production build, then the web and worker
// processes in the foreground — and the demo market maker (apps/market-maker) trading through
// the gate.io API, unless MARKET_MAKER=off. Ctrl-C stops the apps; the stack keeps running.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createDatabase, migrateDatabase, seedDemo } from "@spotx/db";
import { parseEnv, platformEnvSchema } from "@spotx/platform";
import { createPostgresPool } from "@spotx/platform/postgres";
import { z } from "zod";
import { clusterEnv, clusterUp } from "../cluster/cluster";
import { type Balancer, startBalancer } from "../cluster/tcp-proxy";
import { dataDir, logDir, repoRoot } from "../paths";
import { isPortFree, lastLines, portOwner } from "../process";
import { migrationDatabaseUrl, stackEnv, up } from "../stack";
import { StackError } from "../system";
import { failureTail, quietToolsEnv, runCommand } from "./run";

const step = (text: string) => console.log(`• ${text}`);
const since = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)}s`;

async function prepare(env: ReturnType<typeof stackEnv>, ownerUrl: string) {
  let started = Date.now();
  step("applying database migrations");
  // As the owner role; the app role (DATABASE_URL, what web and worker use) gets its grants.
  await migrateDatabase(ownerUrl, { appUrl: env.DATABASE_URL });
  console.log(`  migrations applied in ${since(started)}`);

  started = Date.now();
  step("seeding demo data");
  const pool = createPostgresPool(env.DATABASE_URL, { max: 2, applicationName: "spotx-seed" });
  try {
    const result = await seedDemo(createDatabase(pool));
    console.log(
      `  ${result.created ? "demo data created" : "demo data already present"} (${since(started)})`,
    );
    for (const user of result.users) {
      console.log(`  ${user.role.padEnd(8)} ${user.email.padEnd(22)} password: ${user.password}`);
    }
    console.log(
      "  the operator turns on two-factor sign-in (an authenticator app) on first opening /admin",
    );
  } finally {
    await pool.end();
  }
}

async function build(withMarketMaker: boolean) {
  const started = Date.now();
  step(
    `building web, worker${withMarketMaker ? " and market maker" : ""} (turbo, cached between runs)`,
  );
  const result = await runCommand(
    "build",
    "npx",
    [
      "turbo",
      "run",
      "build",
      "--filter=@spotx/web",
      "--filter=@spotx/worker",
      ...(withMarketMaker ? ["--filter=@spotx/market-maker"] : []),
      "--output-logs=errors-only",
    ],
    { env: { NODE_ENV: "production" } },
  );
  if (result.code !== 0) {
    throw new StackError(
      "build",
      `failed; last lines of ${result.logFile}:\n${failureTail(result)}`,
    );
  }
  console.log(`  built in ${since(started)}`);
}

/**
 * The server's secret key for web and worker: SPOTX_SECRET_KEY when the user set it, else the
 * one in .data/secret-key, generated (random, mode 600) on the first start. A reset deletes
 * it with the rest of the data, and the tokens signed with it stop being valid.
 */
function serverSecretKey(given: string | undefined): string {
  if (given) return given;
  const file = path.join(dataDir, "secret-key");
  if (fs.existsSync(file)) {
    const stored = fs.readFileSync(file, "utf8").trim();
    if (!/^[0-9a-f]{64}$/i.test(stored)) {
      throw new StackError(
        "secret key",
        `${path.relative(process.cwd(), file)} is not 64 hex characters; delete it to have a new one generated`,
      );
    }
    return stored;
  }
  const key = randomBytes(32).toString("hex");
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  console.log(
    `  generated the server secret key into ${path.relative(process.cwd(), file)} (mode 600); set SPOTX_SECRET_KEY to use your own`,
  );
  return key;
}

function startApp(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const log = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, ["--enable-source-maps", script], {
    cwd: path.dirname(path.dirname(script)),
    env: { ...process.env, ...quietToolsEnv, ...env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", log],
  });
  child.stdout?.on("data", (chunk: Buffer) => fs.appendFileSync(logFile, chunk));
  return child;
}

function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${pattern.source}" within ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = pattern.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  });
}

/** `npm start`'s own variables (besides the platform's): which apps it runs, on which ports. */
export const startEnvSchema = z.object({
  WEB_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  WORKER_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  /** The demo market maker: on by default, so the markets move; off for a quiet exchange. */
  MARKET_MAKER: z.enum(["on", "off"]).default("on"),
  DEMO_DEPOSITS: z.enum(["on", "off"]).optional(),
});

/** `npm start -- [--cluster] [--web N] [--workers N]`. */
export function parseStartArgs(args: readonly string[]) {
  const count = (flag: string) => {
    const at = args.indexOf(flag);
    if (at < 0) return 1;
    const value = Number(args[at + 1]);
    if (!Number.isInteger(value) || value < 1 || value > 8)
      throw new StackError("start", `${flag} takes a number from 1 to 8`);
    return value;
  };
  const known = new Set(["--cluster", "--web", "--workers"]);
  const unknown = args.find((arg, i) => !known.has(arg) && !known.has(args[i - 1] ?? ""));
  if (unknown !== undefined)
    throw new StackError(
      "start",
      `unknown argument ${unknown}; usage: npm start -- [--cluster] [--web N] [--workers N]`,
    );
  return { cluster: args.includes("--cluster"), webs: count("--web"), workers: count("--workers") };
}

type App = { name: string; child: ChildProcess; log: string };

export async function start(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  const startedAll = Date.now();
  const options = parseStartArgs(args);
  // Fail at once, naming the variable, on a malformed setting.
  const platform = parseEnv(platformEnvSchema);
  const { WEB_PORT, WORKER_PORT, MARKET_MAKER, DEMO_DEPOSITS } = parseEnv(startEnvSchema);
  const withMarketMaker = MARKET_MAKER === "on";

  let env: ReturnType<typeof stackEnv>;
  if (options.cluster) {
    step(
      "starting the clustered stack (3 Kafka brokers, 3 etcd members, Redis with Sentinel, PostgreSQL primary + replica)",
    );
    await clusterUp((line) => console.log(line));
    const cluster = clusterEnv();
    env = cluster;
    await prepare(env, cluster.DATABASE_OWNER_URL);
  } else {
    step("starting the stack (PostgreSQL, Redis, etcd, Kafka)");
    await up((line) => console.log(line));
    env = stackEnv();
    await prepare(env, migrationDatabaseUrl());
  }
  await build(withMarketMaker);

  // One web instance listens on WEB_PORT itself; several listen on ports of their own behind a
  // balancer on WEB_PORT. Workers take WORKER_PORT, WORKER_PORT + 1, …
  const balanced = options.webs > 1;
  const webPorts = Array.from({ length: options.webs }, (_, i) =>
    balanced ? WEB_PORT + 10 + i : WEB_PORT,
  );
  const workerPorts = Array.from({ length: options.workers }, (_, i) => WORKER_PORT + i);
  for (const [name, port, variable] of [
    ...webPorts.map((port) => ["web", port, "WEB_PORT"] as const),
    ...(balanced ? [["balancer", WEB_PORT, "WEB_PORT"] as const] : []),
    ...workerPorts.map((port) => ["worker", port, "WORKER_PORT"] as const),
  ]) {
    if (!(await isPortFree(port, "0.0.0.0"))) {
      const owner = portOwner(port);
      throw new StackError(
        name,
        `port ${port} is in use${owner ? ` by ${owner}` : ""}; stop it or set ${variable}`,
      );
    }
  }

  const label = (kind: string, i: number, n: number) => (n > 1 ? `${kind}-${i + 1}` : kind);
  step(
    `starting ${options.workers > 1 ? `${options.workers} workers` : "worker"} and ${balanced ? `${options.webs} web instances behind a balancer` : "web"}`,
  );
  const appEnv = {
    ...env,
    SPOTX_SECRET_KEY: serverSecretKey(platform.SPOTX_SECRET_KEY),
    // The demo lets traders credit themselves test funds; production's default is off.
    DEMO_DEPOSITS: DEMO_DEPOSITS ?? "on",
  };
  console.log(
    appEnv.DEMO_DEPOSITS === "on"
      ? "  demo deposits are on: any signed-up trader may credit itself test funds (DEMO_DEPOSITS=off for an exchange that holds real money)"
      : "  demo deposits are off (DEMO_DEPOSITS=off)",
  );
  const launch = (name: string, script: string, extra: Record<string, string>): App => ({
    name,
    log: path.join(logDir, `${name}.log`),
    child: startApp(name, path.join(repoRoot, script), { ...appEnv, ...extra }),
  });
  const workers = workerPorts.map((port, i) =>
    launch(label("worker", i, options.workers), "apps/worker/dist/main.js", {
      WORKER_PORT: String(port),
    }),
  );
  const webs = webPorts.map((port, i) =>
    launch(label("web", i, options.webs), "apps/web/dist/server.js", { WEB_PORT: String(port) }),
  );
  const apps = [...workers, ...webs];
  // Stopped first, while the web server still answers, so it can cancel its quotes.
  let marketMaker: ChildProcess | null = null;
  let balancer: Balancer | null = null;

  let stopping = false;
  const stop = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (marketMaker) await stop(marketMaker);
    await Promise.all(apps.map((app) => stop(app.child)));
    await balancer?.close();
    console.log(
      `• ${marketMaker ? "market maker, " : ""}web and worker stopped; the stack keeps running (npm run stack -- down${options.cluster ? " --cluster" : ""} stops it)`,
    );
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    const [match] = await Promise.all([
      ...webs.map((web) => waitForLine(web.child, /listening on (http:\/\/\S+)/, 60_000)),
      ...workers.map((worker) => waitForLine(worker.child, /"worker started"/, 60_000)),
    ]);
    let url = (match as RegExpExecArray)[1] as string;
    if (balanced) {
      balancer = await startBalancer({
        listen: WEB_PORT,
        host: "0.0.0.0",
        backends: webPorts.map((port) => ({ host: "127.0.0.1", port })),
        mode: { kind: "http-ready" },
      });
      url = `http://localhost:${WEB_PORT}`;
      console.log(
        `  balancer on :${WEB_PORT} → web instances on ${webPorts.map((p) => `:${p}`).join(", ")} (connections to those answering /ready)`,
      );
    }
    if (withMarketMaker) {
      // A trading program like any other: it needs the web server's API, so it starts last.
      // Its failure is reported, not fatal: the exchange runs without it.
      const maker = startApp(
        "market-maker",
        path.join(repoRoot, "apps/market-maker/dist/main.js"),
        { ...appEnv, MARKET_MAKER_API_URL: `http://127.0.0.1:${WEB_PORT}/api/v4` },
      );
      marketMaker = maker;
      maker.once("exit", (code, signal) => {
        if (stopping) return;
        console.error(
          `✗ market maker exited (${signal ?? code}); the exchange runs on without it. Last log lines:\n${lastLines(path.join(logDir, "market-maker.log"), 10)}`,
        );
      });
      try {
        const [quoting] = await waitForLine(maker, /market maker quoting (.*) through/, 60_000);
        console.log(
          `  ${quoting.replace(/ through.*/, "")} (MARKET_MAKER=off to leave the markets quiet)`,
        );
      } catch (error) {
        console.error(
          `✗ market maker: ${error instanceof Error ? error.message : String(error)} — the exchange runs without it; see ${path.relative(process.cwd(), logDir)}/market-maker.log`,
        );
      }
    }
    console.log(`\nspotx is running at ${url}  (ready in ${since(startedAll)})`);
    console.log(
      `  worker${workers.length > 1 ? "s" : ""}: ${workerPorts.map((p) => `http://localhost:${p}/health`).join("  ")}   logs: ${path.relative(process.cwd(), logDir)}/{${apps.map((a) => a.name).join(",")}}.log`,
    );
    console.log("  Ctrl-C stops web and worker (and the market maker).");
  } catch (error) {
    const failed = apps.find((app) => app.child.exitCode !== null) ?? apps[0];
    console.error(
      `✗ ${failed?.name}: ${error instanceof Error ? error.message : String(error)}\n${failed ? lastLines(failed.log, 15) : ""}`,
    );
    await stopAll(1);
    return;
  }

  for (const app of apps) {
    app.child.once("exit", (code, signal) => {
      if (stopping) return;
      console.error(
        `✗ ${app.name} exited (${signal ?? code}); last log lines:\n${lastLines(app.log, 15)}`,
      );
      void stopAll(1);
    });
  }
}
