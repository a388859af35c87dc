// The web process: one HTTP server for the Next.js app (pages and tRPC), the operational
// endpoints, and (with later issues) socket.io and gate.io's REST API. It registers itself in
// etcd like every other instance.
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { platformEnv } from "@spotx/platform";
import { etcdClient } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { serveServiceEndpoint } from "@spotx/platform/service-endpoints";
import { ServiceRegistration } from "@spotx/platform/service-registry";
import next from "next";
import { webEnv } from "../env";

const VERSION = process.env.npm_package_version ?? "0.1.0";
// dist/server.js or src/server/main.ts: the app directory is the package root either way.
const here = path.dirname(fileURLToPath(import.meta.url));
const appDir =
  path.basename(here) === "dist" ? path.resolve(here, "..") : path.resolve(here, "../..");

async function main() {
  const env = platformEnv();
  const log = logger("web");
  const dev = env.NODE_ENV !== "production";
  const startedAt = new Date().toISOString();
  const identity = { kind: "web", id: webEnv.WEB_INSTANCE_ID, startedAt };

  const app = next({ dev, dir: appDir, hostname: "localhost", port: webEnv.WEB_PORT });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = http.createServer((req, res) => {
    serveServiceEndpoint(req, res, identity)
      .then((handled) => (handled ? undefined : handle(req, res)))
      .catch((error: unknown) => {
        log.error({ err: error, url: req.url }, "request failed");
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ label: "SERVER_ERROR", message: "internal error" }));
        } else {
          res.end();
        }
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(webEnv.WEB_PORT, webEnv.WEB_HOST, resolve);
  });
  const address = server.address();
  const httpPort = typeof address === "object" && address ? address.port : webEnv.WEB_PORT;

  const etcd = etcdClient();
  const registration = new ServiceRegistration(
    etcd,
    {
      kind: "web",
      id: webEnv.WEB_INSTANCE_ID,
      host: os.hostname(),
      pid: process.pid,
      version: VERSION,
      startedAt,
      httpPort,
    },
    log,
  );
  await registration.start();
  log.info({ httpPort, dev }, "web started");
  // The start script waits for this line to print the URL.
  console.log(`spotx web listening on http://localhost:${httpPort}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "web stopping");
    await registration.stop();
    etcd.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ web: ${message}`);
  process.exit(1);
});
