// Distributed locks against the stack's Redis: one holder at a time, fencing tokens that only go
// up, compare-and-set extend/release that never touch another owner's lock, and metrics.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { platformEnv } from "../src/env";
import { LockLostError, LockService, LockUnavailableError, lockMetrics } from "../src/locks";
import { createRedis } from "../src/redis";

const redisA = createRedis(platformEnv().REDIS_URL);
const redisB = createRedis(platformEnv().REDIS_URL);
const prefix = `test:lock:${randomUUID()}:`;
// Two services on two connections stand for two processes.
const processA = new LockService(redisA, { prefix, ownerPrefix: "process-a" });
const processB = new LockService(redisB, { prefix, ownerPrefix: "process-b" });

afterAll(async () => {
  const keys = await redisA.keys(`${prefix}*`);
  if (keys.length > 0) await redisA.del(...keys);
  redisA.disconnect();
  redisB.disconnect();
});

/** Waits until Redis itself has expired the lock key (no fixed sleep). */
async function untilExpired(resource: string) {
  while ((await redisA.pttl(`${prefix}{${resource}}`)) !== -2) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function counterValue(
  name: "contention" | "expiries",
  resourceKind: string,
): Promise<number> {
  const metric = await lockMetrics[name].get();
  return metric.values.find((v) => v.labels.resource_kind === resourceKind)?.value ?? 0;
}

describe("LockService", () => {
  it("gives a resource to one owner at a time and a greater token to the next one", async () => {
    const first = await processA.acquire("account:1", 5_000);
    expect(first).not.toBeNull();
    expect(await processB.acquire("account:1", 5_000)).toBeNull();
    expect(await first?.release()).toBe(true);

    const second = await processB.acquire("account:1", 5_000);
    expect(second?.owner).toMatch(/^process-b:/);
    expect(second?.token).toBe((first?.token ?? 0n) + 1n);
    await second?.release();
  });

  it("fences with the token and the acquisition's own owner id, unique per acquisition", async () => {
    const first = await processA.acquire("account:fence", 5_000);
    await first?.release();
    const second = await processA.acquire("account:fence", 5_000);
    await second?.release();
    expect(first?.fence).toEqual({
      resource: "account:fence",
      token: first?.token,
      owner: first?.owner,
    });
    // Same process, two acquisitions: two owners, so an equal token could never pass as the other's.
    expect(second?.fence.owner).toMatch(/^process-a:[0-9a-f]{16}$/);
    expect(second?.fence.owner).not.toBe(first?.fence.owner);
  });

  it("draws strictly increasing fencing tokens across many acquisitions", async () => {
    const tokens: bigint[] = [];
    for (let i = 0; i < 20; i++) {
      const service = i % 2 === 0 ? processA : processB;
      const lock = await service.acquire("account:2", 5_000);
      if (!lock) throw new Error("lock not acquired");
      tokens.push(lock.token);
      await lock.release();
    }
    for (let i = 1; i < tokens.length; i++) {
      expect(tokens[i]).toBe((tokens[i - 1] ?? 0n) + 1n);
    }
  });

  it("lets a waiter take the lock as soon as the holder releases it", async () => {
    const holder = await processA.acquire("job:wait", 10_000);
    const waiting = processB.acquire("job:wait", 10_000, { waitMs: 5_000 });
    await holder?.release();
    const next = await waiting;
    expect(next?.owner).toMatch(/^process-b:/);
    expect(next?.token).toBeGreaterThan(holder?.token ?? 0n);
    await next?.release();
  });

  it("gives up after waitMs when the holder keeps the lock, counting the contention", async () => {
    const before = await counterValue("contention", "busy");
    const holder = await processA.acquire("busy:1", 10_000);
    const started = performance.now();
    expect(await processB.acquire("busy:1", 10_000, { waitMs: 100 })).toBeNull();
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(await counterValue("contention", "busy")).toBe(before + 1);
    await holder?.release();
  });

  it("never releases or extends a lock that expired and passed to another owner", async () => {
    const before = await counterValue("expiries", "account");
    const stale = await processA.acquire("account:3", 50);
    await untilExpired("account:3");
    const current = await processB.acquire("account:3", 10_000);
    expect(current).not.toBeNull();

    expect(await stale?.release()).toBe(false);
    await expect(stale?.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(await redisA.get(`${prefix}{account:3}`)).toBe(current?.owner);
    expect(await counterValue("expiries", "account")).toBe(before + 1);
    await current?.release();
  });

  it("extends a held lock past its first TTL", async () => {
    const lock = await processA.acquire("account:4", 200);
    await lock?.extend(10_000);
    expect(await redisA.pttl(`${prefix}{account:4}`)).toBeGreaterThan(5_000);
    expect(await processB.acquire("account:4", 1_000)).toBeNull();
    await lock?.release();
  });

  it("lists the current holders with owner, token and time left", async () => {
    const a = await processA.acquire("job:reconciliation", 30_000);
    const b = await processB.acquire("account:42", 30_000);
    const holders = await processA.holders();
    expect(holders.map((h) => h.resource)).toEqual(["account:42", "job:reconciliation"]);
    const recon = holders.find((h) => h.resource === "job:reconciliation");
    expect(recon?.owner).toBe(a?.owner);
    expect(recon?.token).toBe(a?.token);
    expect(recon?.ttlMs).toBeGreaterThan(25_000);
    await a?.release();
    await b?.release();
    expect(await processA.holders()).toEqual([]);
  });

  it("withLock extends the lock while work outlasts its TTL, then releases it", async () => {
    const result = await processA.withLock(
      "job:slow",
      { ttlMs: 200, renewEveryMs: 50 },
      async (lock, signal) => {
        const started = performance.now();
        // Work three TTLs long; meanwhile nobody else may take the lock.
        while (performance.now() - started < 600) {
          expect(await processB.acquire("job:slow", 1_000)).toBeNull();
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(signal.aborted).toBe(false);
        return lock.token;
      },
    );
    expect(typeof result).toBe("bigint");
    expect(await redisA.exists(`${prefix}{job:slow}`)).toBe(0);
  });

  it("withLock excludes concurrent runs of the same work", async () => {
    const counterKey = `${prefix}counter`;
    await redisA.set(counterKey, "0");
    let inside = 0;
    let maxInside = 0;
    const worker = (service: LockService) =>
      service.withLock("job:counter", { ttlMs: 5_000, waitMs: 10_000 }, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        // A non-atomic read-modify-write: only mutual exclusion keeps the count right.
        const value = Number(await redisA.get(counterKey));
        await new Promise((resolve) => setTimeout(resolve, 10));
        await redisA.set(counterKey, String(value + 1));
        inside--;
      });
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(i % 2 ? processA : processB)));
    expect(maxInside).toBe(1);
    expect(await redisA.get(counterKey)).toBe("8");
  });

  it("withLock fails with LockUnavailableError when the lock stays busy", async () => {
    const holder = await processA.acquire("job:busy", 10_000);
    await expect(
      processB.withLock("job:busy", { ttlMs: 1_000, waitMs: 0 }, async () => "ran"),
    ).rejects.toBeInstanceOf(LockUnavailableError);
    await holder?.release();
  });

  it("records acquire latency in a histogram", async () => {
    const lock = await processA.acquire("latency:1", 1_000);
    await lock?.release();
    const histogram = await lockMetrics.acquireSeconds.get();
    const count = histogram.values.find(
      (v) =>
        v.metricName === "spotx_lock_acquire_seconds_count" &&
        v.labels.resource_kind === "latency" &&
        v.labels.outcome === "acquired",
    );
    expect(count?.value).toBe(1);
  });
});
