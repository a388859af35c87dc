// The web process: one HTTP server for the Next.js app (pages and tRPC), gate.io's API v4 (REST
// under /api/v4, answered before Next.js sees the request, and the WebSocket API on /ws/v4/),
// socket.io (market and user rooms, fanned out through Redis) and the operational endpoints,
// registered in etcd like every other instance.
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  ApiServices,
  CLIENT_HTTPS_HEADER,
  CLIENT_IP_HEADER,
  provideApiServices,
  TradingService,
} from "@spotx/api";
import { RateLimits } from "@spotx/api/guards/rate-limits";
import { database } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { breakerStates } from "@spotx/platform/breakers";
import { etcdClient } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { redisClient } from "@spotx/platform/redis";
import { serverSecretKey } from "@spotx/platform/secrets";
import {
  clientAddress,
  DATA_CONTENT_SECURITY_POLICY,
  isHttps,
  pagePolicyFor,
  startService,
} from "@spotx/platform/service-process";
import { createSocketEmitter } from "@spotx/platform/socket-emitter";
import { topology } from "@spotx/platform/topology";
import next from "next";
import { webEnv } from "../env";
import { startGateApi } from "./gate-server";
import { startSocketServer } from "./socket-server";

const VERSION = process.env.npm_package_version ?? "0.1.0";
// dist/server.js or src/server/main.ts: the app directory is the package root either way.
const here = path.dirname(fileURLToPath(import.meta.url));
const appDir =
  path.basename(here) === "dist" ? path.resolve(here, "..") : path.resolve(here, "../..");

async function main() {
  const env = platformEnv();
  const log = logger("web");
  const dev = env.NODE_ENV !== "production";
  // Before anything slow: production refuses to start without SPOTX_SECRET_KEY.
  const secretKey = serverSecretKey(env);
  const names = topology();
  // Breakers are made on first use; a web has all three request breakers from the start, so its
  // /metrics (and the console's guards page) list them before a call first needs one.
  breakerStates();

  // What tRPC procedures call, registered before anything can serve a request: the route
  // handler and server components (Next.js's own bundle) find them through the process registry.
  const marketConfig = new MarketConfigWatcher(etcdClient(), logger("market-config"), names);
  await marketConfig.start();
  const trading = new TradingService({ db: database(), names, halts: marketConfig });
  const rateLimits = new RateLimits({
    redis: redisClient(),
    etcd: etcdClient(),
    names,
    log: logger("rate-limits"),
  });
  await rateLimits.start();
  provideApiServices(
    new ApiServices({
      names,
      redis: redisClient(),
      etcd: etcdClient(),
      secretKey,
      halts: marketConfig,
      trading,
      emitter: createSocketEmitter(redisClient(), names),
      rateLimits,
    }),
  );

  const gate = await startGateApi({
    db: database(),
    redis: redisClient(),
    etcd: etcdClient(),
    names,
    marketConfig,
    serverKey: secretKey,
    log: logger("gate"),
    trading,
    rateLimits,
  });
  // socket.io's HTTP requests (the polling transport) are served by the handler below, after
  // the service's request guards like every other request; its upgrades once the server exists.
  const sockets = await startSocketServer({
    db: database(),
    redis: redisClient(),
    redisUrl: env.REDIS_URL,
    names,
    log: logger("socket.io"),
    secretKey,
    marketConfig,
    etcd: etcdClient(),
    instanceId: webEnv.WEB_INSTANCE_ID,
  });

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
    // Pages get the CSP Next.js needs, with a script nonce of their own that Next.js finds in
    // the request's CSP header; the API's JSON the strict one.
    contentSecurityPolicy: (req) =>
      gate.rest.handles(req) || sockets.handles(req)
        ? DATA_CONTENT_SECURITY_POLICY
        : pagePolicyFor(req, { dev }),
    handle: (req, res) => {
      if (gate.rest.handles(req)) return gate.rest.serve(req, res);
      if (sockets.handles(req)) return sockets.serve(req, res);
      // The client's address as the socket saw it, replacing whatever the client claimed: the
      // login throttle and the audit log trust this header and nothing else.
      // (Behind SPOTX_TRUSTED_PROXIES reverse proxies, the address the outermost one saw.)
      req.headers[CLIENT_IP_HEADER] = clientAddress(req) ?? "";
      // Likewise whether the browser reached us over HTTPS (Secure cookies): decided here with
      // the same trusted-proxy rule, never from a header the client may have set itself.
      req.headers[CLIENT_HTTPS_HEADER] = isHttps(req) ? "1" : "0";
      return handle(req, res);
    },
  });
  service.onStop(() => marketConfig.stop());
  service.onStop(() => rateLimits.stop());
  service.onStop(() => app.close());

  gate.attach(service.server);
  service.onStop(() => gate.close());
  sockets.attach(service.server);
  // Runs before the watcher stops (hooks run last-added first).
  service.onStop(() => sockets.close());
  log.info({ httpPort: service.httpPort, dev }, "web started");
  // The start script and the e2e setup wait for this line.
  console.log(`spotx web listening on http://localhost:${service.httpPort}`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ web: ${message}`);
  process.exit(1);
});
