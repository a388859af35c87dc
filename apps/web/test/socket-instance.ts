// One web instance's socket.io, without Next.js: the same startSocketServer the web server
// runs, on a plain HTTP server in a process of its own, configured by the environment like
// the web server (DATABASE_URL, REDIS_URL, ETCD_ENDPOINTS, SPOTX_NAMESPACE, SPOTX_SECRET_KEY).
// Prints "socket instance listening on <port>" once it accepts connections.
import http from "node:http";
import { createDatabase } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createPostgresPool } from "@spotx/platform/postgres";
import { createRedis } from "@spotx/platform/redis";
import { serverSecretKey } from "@spotx/platform/secrets";
import { topology } from "@spotx/platform/topology";
import { startSocketServer } from "../src/server/socket-server";

const env = platformEnv();
const names = topology();
const server = http.createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});
const etcd = createEtcd(env.ETCD_ENDPOINTS);
const marketConfig = new MarketConfigWatcher(etcd, logger("market-config"), names);
await marketConfig.start();
const pool = createPostgresPool(env.DATABASE_URL, { max: 2 });
const redis = createRedis(env.REDIS_URL);
const sockets = await startSocketServer({
  server,
  db: createDatabase(pool),
  redis,
  redisUrl: env.REDIS_URL,
  names,
  log: logger("socket.io"),
  secretKey: serverSecretKey(env),
  marketConfig,
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
console.log(
  `socket instance listening on ${typeof address === "object" && address ? address.port : 0}`,
);

process.on("SIGTERM", () => {
  void (async () => {
    await sockets.close();
    await marketConfig.stop();
    etcd.close();
    redis.disconnect();
    await pool.end();
    process.exit(0);
  })();
});
