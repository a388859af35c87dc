// The one module that talks to Redis: it owns the ioredis clients, their health check and
// metrics. Locks, rate limits, nonce caches, market-data snapshots and the socket.io adapter
// all take their client from here.
import { Redis, type RedisOptions } from "ioredis";
import { platformEnv } from "./env";
import { metrics } from "./metrics";
import { type ProbeResult, probe, processSingleton } from "./probe";

export type { Redis } from "ioredis";

/**
 * Where a Redis URL points. `redis://` and `rediss://` name one server; a Sentinel deployment is
 * named by its sentinels and the monitored primary's name,
 * `redis-sentinel://[:password@]host:port,host:port/<primary name>`: the client asks the
 * sentinels for the current primary, and after a failover reconnects to the new one.
 */
export function redisConnection(url: string): { url?: string; options: RedisOptions } {
  if (!url.startsWith("redis-sentinel://")) return { url, options: {} };
  const match = /^redis-sentinel:\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/]+)\/([A-Za-z0-9._-]+)$/.exec(
    url,
  );
  if (!match?.[2] || !match[3])
    throw new Error(
      "a redis-sentinel:// URL is redis-sentinel://host:port,host:port/<primary name>",
    );
  const sentinels = match[2].split(",").map((entry) => {
    const [host = "", port = ""] = entry.split(":");
    if (!host || !/^\d+$/.test(port)) throw new Error(`bad sentinel address ${entry}`);
    return { host, port: Number(port) };
  });
  const password = match[1] ? decodeURIComponent(match[1]) : undefined;
  return {
    options: {
      sentinels,
      name: match[3],
      role: "master",
      ...(password === undefined ? {} : { password, sentinelPassword: password }),
      // After a failover the old primary may answer for a moment as a replica: a write it
      // refuses (READONLY) makes the client ask the sentinels again.
      reconnectOnError: (error) => error.message.startsWith("READONLY"),
    },
  };
}

function newRedis(url: string, options: RedisOptions): Redis {
  const target = redisConnection(url);
  const merged = { ...target.options, ...options };
  return target.url === undefined ? new Redis(merged) : new Redis(target.url, merged);
}

export function createRedis(
  url: string,
  options: {
    lazyConnect?: boolean;
    /**
     * Commands issued in one event-loop turn leave in one write (ioredis auto-pipelining): for
     * a connection that publishes bursts, where a write per command is most of the CPU cost.
     */
    autoPipelining?: boolean;
  } = {},
): Redis {
  const client = newRedis(url, {
    lazyConnect: options.lazyConnect ?? false,
    enableAutoPipelining: options.autoPipelining ?? false,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 3,
    // ioredis 5.8.2+ sends CLIENT SETINFO while connecting and lets a (P)SUBSCRIBE issued
    // meanwhile go out before its ready check: the check's INFO is then refused ("Connection in
    // subscriber mode"), the client reconnects and comes back *without* the subscription —
    // silently, on a busy process (redis/ioredis#2037, fixed in 6.0). Without the SETINFO
    // handshake the ready check runs first. Every subscriber here (settled orders, credential
    // changes, the socket.io adapter's duplicates) depends on it.
    disableClientInfo: true,
  });
  client.on("error", () => {
    metrics.dependencyErrors.inc({ dependency: "redis" });
  });
  return client;
}

/**
 * The process-wide client for REDIS_URL. It auto-pipelines: the rate-limit counters, replay
 * claims and session reads that many concurrent requests issue in one event-loop turn leave in
 * one write — on a busy web server the syscalls, not Redis, were the cost.
 */
export function redisClient(): Redis {
  return processSingleton("redis.client", () =>
    createRedis(platformEnv().REDIS_URL, { autoPipelining: true }),
  );
}

/** Opens a fresh connection and sends PING. */
export function pingRedis(url: string, timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => {
    const client = newRedis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      const pong = await client.ping();
      if (pong !== "PONG") throw new Error(`unexpected PING reply ${pong}`);
      const info = await client.info("server");
      const version = /redis_version:(\S+)/.exec(info)?.[1];
      return version ? `Redis ${version}` : undefined;
    } finally {
      client.disconnect();
    }
  }, timeoutMs);
}

/** PING and the server's version over the process's own client (no connection per probe). */
export function checkRedis(client: Redis, timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => {
    const pong = await client.ping();
    if (pong !== "PONG") throw new Error(`unexpected PING reply ${pong}`);
    const info = await client.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    return version ? `Redis ${version}` : undefined;
  }, timeoutMs);
}

/**
 * Deletes every key of a namespace (`<ns>:*` and `<ns>.*`), for a test or benchmark exchange
 * leaving a shared Redis as it found it.
 */
export async function deleteRedisNamespace(url: string, namespace: string): Promise<void> {
  const redis = createRedis(url);
  try {
    for (const pattern of [`${namespace}:*`, `${namespace}.*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}
