// The replay cache on the real Redis: a signature is accepted once, for as long as asked,
// however its hex is cased.
import { randomBytes, randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { DependencyBreaker, ServiceUnavailableError } from "@spotx/platform/breakers";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { topology } from "@spotx/platform/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignatureReplayGuard } from "../../src/guards/replay";

const names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
let redis: Redis;
beforeAll(() => {
  redis = createRedis(platformEnv().REDIS_URL);
});
afterAll(async () => {
  const keys = await redis.keys(`${names.namespace}:api:sign:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe("the replay cache", () => {
  it("accepts a signature once and remembers it for as long as asked", async () => {
    const guard = new SignatureReplayGuard({ redis, names });
    const sign = randomBytes(64).toString("hex");
    expect(await guard.claim(sign, 121_000)).toBe(true);
    expect(await guard.claim(sign, 121_000)).toBe(false);
    expect(await guard.claim(randomBytes(64).toString("hex"), 121_000)).toBe(true);
    const [key] = await redis.keys(`${names.namespace}:api:sign:*`);
    if (!key) throw new Error("no key stored");
    // Only a digest is stored, never the signature itself.
    expect(key).not.toContain(sign);
    const ttls = await Promise.all(
      (await redis.keys(`${names.namespace}:api:sign:*`)).map((k) => redis.pttl(k)),
    );
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(115_000);
  });

  it("claims the signature's bytes: the same signature in another letter case is a replay", async () => {
    const guard = new SignatureReplayGuard({ redis, names });
    const sign = randomBytes(64).toString("hex");
    expect(await guard.claim(sign, 60_000)).toBe(true);
    expect(await guard.claim(sign.toUpperCase(), 60_000)).toBe(false);
    const mixed = [...sign].map((c, i) => (i % 3 === 0 ? c.toUpperCase() : c)).join("");
    expect(await guard.claim(mixed, 60_000)).toBe(false);
  });

  it("refuses at once when Redis is unreachable", async () => {
    const dead = createRedis("redis://127.0.0.1:1", { lazyConnect: true });
    const breaker = new DependencyBreaker("redis");
    const guard = new SignatureReplayGuard({ redis: dead, names, breaker });
    const started = Date.now();
    await expect(guard.claim("00", 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(Date.now() - started).toBeLessThan(100);
    breaker.shutdown();
    dead.disconnect();
  });
});
