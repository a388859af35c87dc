// Redis from Debian's `redis-server` package, on port 56379 with its append-only file in .data/redis.
// The AOF is fsynced on every write (`appendfsync always`): the lock service's fencing-token
// counters live here, and with the default `everysec` a crash could lose the last second of
// INCRs and hand an already-issued token to a second lock holder. Lock traffic is small, so
// the cost of an fsync per write is too.
import fs from "node:fs";
import path from "node:path";
import { createRedis, pingRedis } from "@spotx/platform/redis";
import { dataDir } from "../paths";
import { spawnDetached } from "../process";
import { StackError, which } from "../system";
import type { StackServer } from "./types";

export const REDIS_PORT = 56379;
export const redisUrl = () => `redis://127.0.0.1:${REDIS_PORT}`;
const redisData = path.join(dataDir, "redis");

export const redisServer: StackServer = {
  name: "redis",
  envVar: "REDIS_URL",
  ports: [REDIS_PORT],
  readyTimeoutMs: 15_000,
  stopSignal: "SIGTERM",
  stopGraceMs: 10_000,

  missingPackages: () => (which("redis-server") ? [] : ["redis-server"]),

  async prepare() {
    fs.mkdirSync(redisData, { recursive: true });
  },

  start() {
    const binary = which("redis-server");
    if (!binary) throw new StackError("redis", "redis-server not found on PATH");
    return spawnDetached({
      server: "redis",
      command: binary,
      args: [
        "--port",
        String(REDIS_PORT),
        "--bind",
        "127.0.0.1",
        "--dir",
        redisData,
        "--daemonize",
        "no",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--logfile",
        "",
      ],
    });
  },

  probe: () => pingRedis(redisUrl()),
  probeExternal: (url) => pingRedis(url),

  // A Redis started before this setting (an old .data) gets it without a restart.
  async afterReady() {
    const client = createRedis(redisUrl());
    try {
      await client.config("SET", "appendfsync", "always");
    } finally {
      client.disconnect();
    }
  },
};
