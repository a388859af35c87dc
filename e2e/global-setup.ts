// Gives the suite its own seeded database and a production web server on a free port, and
// tears both down afterwards. Tests read the server's address from E2E_BASE_URL.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { seedDemo } from "@spotx/db";
import { createTestDatabase } from "@spotx/db/testing";

const webDir = path.resolve(import.meta.dirname, "../apps/web");

function waitForListening(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    server.stdout?.on("data", onData);
    server.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.once("exit", (code) =>
      reject(new Error(`web server exited (${code}) before listening:\n${output.slice(-2000)}`)),
    );
  });
}

export default async function globalSetup() {
  const serverBundle = path.join(webDir, "dist/server.js");
  if (!fs.existsSync(serverBundle) || !fs.existsSync(path.join(webDir, ".next/BUILD_ID"))) {
    throw new Error("apps/web is not built; run `npm run build` (npm test does this first)");
  }
  const database = await createTestDatabase();
  await seedDemo(database.db);

  const server = spawn(process.execPath, [serverBundle], {
    cwd: webDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      WEB_PORT: "0",
      WEB_HOST: "127.0.0.1",
      WEB_INSTANCE_ID: `e2e-${process.pid}`,
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await waitForListening(server);
  process.env.E2E_BASE_URL = url.replace("localhost", "127.0.0.1");

  return async () => {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
    await database.drop();
  };
}
