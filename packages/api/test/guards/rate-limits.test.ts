// Rate limits on the real Redis and etcd: the configured budget is served and then refused with
// the wait the caller must respect, scopes count apart, and a change in etcd applies at once.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { DependencyBreaker, ServiceUnavailableError } from "@spotx/platform/breakers";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { topology } from "@spotx/platform/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_RATE_LIMITS,
  putRateLimitSettings,
  RateLimits,
  rateLimitHeaders,
  rateLimitMetrics,
} from "../../src/guards/rate-limits";

const names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
let redis: Redis;
let etcd: Etcd3;
let limits: RateLimits;

beforeAll(async () => {
  redis = createRedis(platformEnv().REDIS_URL);
  etcd = createEtcd(platformEnv().ETCD_ENDPOINTS);
  await putRateLimitSettings(etcd, names, { orders: { user: { points: 3, duration: 60 } } });
  limits = new RateLimits({ redis, etcd, names, log: logger("test-rate-limits") });
  await limits.start();
});
afterAll(async () => {
  await limits?.stop();
  await etcd?.delete().prefix(`/${names.namespace}/`);
  etcd?.close();
  const keys = await redis.keys(`${names.namespace}:rl:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis?.disconnect();
});

async function rejections(scope: string): Promise<number> {
  const metric = await rateLimitMetrics.rejections.get();
  return (
    metric.values.find((v) => v.labels.class === "orders" && v.labels.scope === scope)?.value ?? 0
  );
}

describe("rate limits", () => {
  it("serves the configured budget, then refuses with the time to wait", async () => {
    expect(limits.settings().orders.user).toEqual({ points: 3, duration: 60 });
    // Left out of etcd: the default.
    expect(limits.settings().reads).toEqual(DEFAULT_RATE_LIMITS.reads);
    const before = await rejections("user");
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await limits.consume("orders", { user: 7n }));
    expect(verdicts.map((v) => [v.allowed, v.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    const refused = verdicts[3];
    if (!refused) throw new Error("no fourth verdict");
    expect(refused.scope).toBe("user");
    expect(refused.limit).toBe(3);
    expect(refused.retryAfterSeconds).toBeGreaterThan(55);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    const headers = rateLimitHeaders(refused);
    expect(headers["X-Gate-RateLimit-Limit"]).toBe("3");
    expect(headers["X-Gate-RateLimit-Requests-Remain"]).toBe("0");
    expect(headers["Retry-After"]).toBe(String(refused.retryAfterSeconds));
    expect(Number(headers["X-Gate-RateLimit-Reset-Timestamp"])).toBe(refused.resetAtMs);
    expect(await rejections("user")).toBe(before + 1);
    // Another user, and another class, have budgets of their own.
    expect((await limits.consume("orders", { user: 8n })).allowed).toBe(true);
    expect((await limits.consume("reads", { user: 7n })).allowed).toBe(true);
  });

  it("applies a change made in etcd without a restart", async () => {
    const ip = `10.9.${Math.floor(Math.random() * 250)}.1`;
    await putRateLimitSettings(etcd, names, {
      orders: { user: { points: 3, duration: 60 }, ip: { points: 1, duration: 60 } },
    });
    await expect
      .poll(() => limits.settings().orders.ip.points, { timeout: 5_000, interval: 20 })
      .toBe(1);
    expect((await limits.consume("orders", { ip })).allowed).toBe(true);
    const second = await limits.consume("orders", { ip });
    expect(second).toMatchObject({ allowed: false, scope: "ip", limit: 1 });
  });

  it("counts an IPv6 client by its /64 and an IPv4-mapped client as its IPv4 address", async () => {
    await putRateLimitSettings(etcd, names, { reads: { ip: { points: 2, duration: 60 } } });
    await expect
      .poll(() => limits.settings().reads.ip.points, { timeout: 5_000, interval: 20 })
      .toBe(2);
    const net = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    // Three addresses of one /64: the third is over the budget of two.
    expect((await limits.consume("reads", { ip: `${net}::1` })).allowed).toBe(true);
    expect((await limits.consume("reads", { ip: `${net}:abcd::2` })).allowed).toBe(true);
    expect(await limits.consume("reads", { ip: `${net}:ffff:1:2:3` })).toMatchObject({
      allowed: false,
      scope: "ip",
    });
    // The next /64 is another client.
    expect((await limits.consume("reads", { ip: `${net.slice(0, -1)}8::1` })).allowed).toBe(true);
    const v4 = `10.8.${Math.floor(Math.random() * 250)}.3`;
    expect((await limits.consume("reads", { ip: v4 })).allowed).toBe(true);
    expect((await limits.consume("reads", { ip: `::ffff:${v4}` })).allowed).toBe(true);
    expect((await limits.consume("reads", { ip: v4 })).allowed).toBe(false);
  });

  it("keeps the settings in force when etcd holds something malformed", async () => {
    await etcd.put(names.etcd.rateLimits).value('{"orders":{"ip":{"points":-1}}}');
    await etcd.put(names.etcd.rateLimits).value('{"reads":{"key":{"points":9,"duration":1}}}');
    await expect
      .poll(() => limits.settings().reads.key.points, { timeout: 5_000, interval: 20 })
      .toBe(9);
    // The last good value replaced everything before it; the malformed one changed nothing.
    expect(limits.settings().orders.ip).toEqual(DEFAULT_RATE_LIMITS.orders.ip);
  });

  it("answers SERVICE_UNAVAILABLE at once when Redis is unreachable, then fails fast", async () => {
    const dead = createRedis("redis://127.0.0.1:1", { lazyConnect: true });
    const breaker = new DependencyBreaker("redis", { volumeThreshold: 3 });
    const offline = new RateLimits({ redis: dead, names, log: logger("test"), breaker });
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const refusal = await offline.consume("reads", { ip: "10.0.0.1" }).catch((e) => e);
      expect(refusal).toBeInstanceOf(ServiceUnavailableError);
      expect(refusal).toMatchObject({ label: "SERVICE_UNAVAILABLE", status: 503 });
    }
    expect(Date.now() - started).toBeLessThan(200);
    // Enough failures opened the breaker: Redis is no longer even asked.
    expect(breaker.currentState).toBe("open");
    breaker.shutdown();
    dead.disconnect();
  });
});
