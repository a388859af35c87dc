// `npm start`: the stack, migrations, demo data, a production build, then the web and worker
// processes in the foreground. Ctrl-C stops the apps; the stack keeps running.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createDatabase, migrateDatabase, seedDemo } from "@spotx/db";
import { parseEnv, platformEnvSchema } from "@spotx/platform";
import { createPostgresPool } from "@spotx/platform/postgres";
import { z } from "zod";
import { logDir, repoRoot } from "../paths";
import { isPortFree, lastLines, portOwner } from "../process";
import { stackEnv, up } from "../stack";
import { StackError } from "../system";
import { failureTail, quietToolsEnv, runCommand } from "./run";

const step = (text: string) => console.log(`• ${text}`);
const since = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)}s`;

async function prepare(env: ReturnType<typeof stackEnv>) {
  let started = Date.now();
  step("applying database migrations");
  await migrateDatabase(env.DATABASE_URL);
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
  } finally {
    await pool.end();
  }
}

async function build() {
  const started = Date.now();
  step("building web and worker (turbo, cached between runs)");
  const result = await runCommand(
    "build",
    "npx",
    [
      "turbo",
      "run",
      "build",
      "--filter=@spotx/web",
      "--filter=@spotx/worker",
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

function startApp(name: "web" | "worker", script: string, env: NodeJS.ProcessEnv): ChildProcess {
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

export async function start(): Promise<void> {
  const startedAll = Date.now();
  // Fail at once, naming the variable, on a malformed setting.
  parseEnv(platformEnvSchema);
  const { WEB_PORT, WORKER_PORT } = parseEnv(
    z.object({
      WEB_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
      WORKER_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
    }),
  );

  step("starting the stack (PostgreSQL, Redis, etcd, Kafka)");
  await up((line) => console.log(line));
  const env = stackEnv();
  await prepare(env);
  await build();

  for (const [name, port, variable] of [
    ["web", WEB_PORT, "WEB_PORT"],
    ["worker", WORKER_PORT, "WORKER_PORT"],
  ] as const) {
    if (!(await isPortFree(port, "0.0.0.0"))) {
      const owner = portOwner(port);
      throw new StackError(
        name,
        `port ${port} is in use${owner ? ` by ${owner}` : ""}; stop it or set ${variable}`,
      );
    }
  }

  step("starting worker and web");
  const appEnv = { ...env, WEB_PORT: String(WEB_PORT), WORKER_PORT: String(WORKER_PORT) };
  const worker = startApp("worker", path.join(repoRoot, "apps/worker/dist/main.js"), appEnv);
  const web = startApp("web", path.join(repoRoot, "apps/web/dist/server.js"), appEnv);
  const children = [worker, web];

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
    console.log(
      "• web and worker stopped; the stack keeps running (npm run stack -- down stops it)",
    );
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    const [match] = await Promise.all([
      waitForLine(web, /listening on (http:\/\/\S+)/, 60_000),
      waitForLine(worker, /"worker started"/, 60_000),
    ]);
    console.log(`\nspotx is running at ${match[1]}  (ready in ${since(startedAll)})`);
    console.log(
      `  worker: http://localhost:${WORKER_PORT}/health   logs: ${path.relative(process.cwd(), logDir)}/{web,worker}.log`,
    );
    console.log("  Ctrl-C stops web and worker.");
  } catch (error) {
    const failed = web.exitCode !== null ? "web" : "worker";
    console.error(
      `✗ ${failed}: ${error instanceof Error ? error.message : String(error)}\n${lastLines(path.join(logDir, `${failed}.log`), 15)}`,
    );
    await stopAll(1);
    return;
  }

  for (const [name, child] of [
    ["web", web],
    ["worker", worker],
  ] as const) {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      console.error(
        `✗ ${name} exited (${signal ?? code}); last log lines:\n${lastLines(path.join(logDir, `${name}.log`), 15)}`,
      );
      void stopAll(1);
    });
  }
}
