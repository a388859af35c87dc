// The web process: one HTTP server for the Next.js app (pages and tRPC) and the operational
// endpoints — and, with later issues, socket.io and gate.io's REST API — registered in etcd
// like every other instance.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { platformEnv } from "@spotx/platform";
import { logger } from "@spotx/platform/logger";
import { startService } from "@spotx/platform/service-process";
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

  const app = next({ dev, dir: appDir, hostname: "localhost", port: webEnv.WEB_PORT });
  const handle = app.getRequestHandler();
  await app.prepare();

  const service = await startService({
    kind: "web",
    id: webEnv.WEB_INSTANCE_ID,
    host: webEnv.WEB_HOST,
    port: webEnv.WEB_PORT,
    version: VERSION,
    log,
    handle: (req, res) => handle(req, res),
  });
  service.onStop(() => app.close());
  log.info({ httpPort: service.httpPort, dev }, "web started");
  // The start script and the e2e setup wait for this line.
  console.log(`spotx web listening on http://localhost:${service.httpPort}`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ web: ${message}`);
  process.exit(1);
});
