// Fencing (Kleppmann's objection to plain Redis locks): a holder paused past its TTL must not
// be able to write once another holder has taken the lock and written. Real Redis, real PostgreSQL.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFence, type Fence } from "../src/fencing";
import { adjust } from "../src/ledger";
import { decideWithdrawalFenced, requestWithdrawal } from "../src/withdrawals";
import { balanceOf, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const prefix = `test:fencing:${randomUUID()}:`;
const processA = new LockService(createRedis(platformEnv().REDIS_URL), {
  prefix,
  ownerPrefix: "a",
});
const processB = new LockService(redis, { prefix, ownerPrefix: "b" });
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

/** A's "pause": we simply wait, without extending, until Redis has expired A's lock. */
async function pausePastTtl(resource: string) {
  while ((await redis.pttl(`${prefix}{${resource}}`)) !== -2) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("fenced writes", () => {
  it("rejects holder A's late write after A's lock expired and B took it and wrote", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("100"));
    const resource = `account:${user}`;
    const base = {
      userId: user,
      asset: "USDT",
      reason: "goodwill credit",
      operatorId: f.operatorId,
    };

    const a = await processA.acquire(resource, 100);
    if (!a) throw new Error("A did not get the lock");
    await pausePastTtl(resource);

    const b = await processB.acquire(resource, 10_000);
    if (!b) throw new Error("B did not get the lock after A's expired");
    expect(b.token).toBeGreaterThan(a.token);
    await adjust(f.db, { ...base, amount: USDT("1"), ref: `b:${randomUUID()}`, fence: b.fence });

    // A wakes up and writes, believing it still holds the lock.
    await expect(
      adjust(f.db, { ...base, amount: USDT("5"), ref: `a:${randomUUID()}`, fence: a.fence }),
    ).rejects.toMatchObject({ label: "STALE_FENCING_TOKEN" });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("101"), locked: 0n });
    expect(await a.release()).toBe(false); // and it cannot touch B's lock either
    await b.release();
  });

  it("rejects a stale approval of a withdrawal that the new holder already rejected", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("50"));
    const { withdrawal } = await requestWithdrawal(f.db, {
      userId: user,
      asset: "USDT",
      amount: USDT("50"),
      address: "0xdef",
      ref: randomUUID(),
    });
    const resource = `account:${user}`;
    const a = await processA.acquire(resource, 50);
    if (!a) throw new Error("A did not get the lock");
    await pausePastTtl(resource);
    const b = await processB.acquire(resource, 10_000);
    if (!b) throw new Error("B did not get the lock");
    await decideWithdrawalFenced(f.db, {
      withdrawalId: withdrawal.id,
      operatorId: f.operatorId,
      decision: "reject",
      reason: "user asked to cancel",
      fence: b.fence,
    });
    await expect(
      decideWithdrawalFenced(f.db, {
        withdrawalId: withdrawal.id,
        operatorId: f.operatorId,
        decision: "approve",
        fence: a.fence,
      }),
    ).rejects.toMatchObject({ label: "STALE_FENCING_TOKEN" });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("50"), locked: 0n });
    await b.release();
  });

  it("accepts several transactions under one acquisition and refuses every older token", async () => {
    const resource = `job:fence-${randomUUID()}`;
    const older = await processA.acquire(resource, 10_000);
    await older?.release();
    const current = await processB.acquire(resource, 10_000);
    if (!older || !current) throw new Error("locks not acquired");
    for (let i = 0; i < 2; i++) {
      await f.db.transaction((tx) => checkFence(tx, current.fence));
    }
    await expect(f.db.transaction((tx) => checkFence(tx, older.fence))).rejects.toMatchObject({
      label: "STALE_FENCING_TOKEN",
    });
    await current.release();
  });
});

describe("a fencing token handed out twice (a lost INCR)", () => {
  it("lets only the first owner write with the repeated token; the second must re-acquire", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("100"));
    const resource = `account:${user}`;
    const credit = (fence: Fence, amount: string) =>
      adjust(f.db, {
        userId: user,
        asset: "USDT",
        amount: USDT(amount),
        reason: "goodwill credit",
        operatorId: f.operatorId,
        ref: randomUUID(),
        fence,
      });

    const a = await processA.acquire(resource, 10_000);
    if (!a) throw new Error("A did not get the lock");
    for (let i = 0; i < 3; i++) await credit(a.fence, "1");

    // Redis crashes and restarts from an AOF that missed the last second: A's lock key and the
    // INCR that drew A's token are gone, so the next acquisition draws A's token again.
    await redis.del(`${prefix}{${resource}}`);
    await redis.decr(`${prefix}{${resource}}:token`);
    const b = await processB.acquire(resource, 10_000);
    if (!b) throw new Error("B did not get the lock");
    expect(b.token).toBe(a.token);
    expect(b.owner).not.toBe(a.owner);

    // Same token, other owner: refused. Before fences carried the owner, both wrote.
    await expect(credit(b.fence, "10")).rejects.toMatchObject({ label: "STALE_FENCING_TOKEN" });
    // B re-acquires, draws a fresh token, and from then on A is shut out.
    await b.release();
    const b2 = await processB.acquire(resource, 10_000);
    if (!b2) throw new Error("B did not get the lock again");
    expect(b2.token).toBe(a.token + 1n);
    await credit(b2.fence, "10");
    await expect(credit(a.fence, "1")).rejects.toMatchObject({ label: "STALE_FENCING_TOKEN" });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("113"), locked: 0n });
    await b2.release();
  });

  it("refuses a fence without an owner or with a non-bigint token, with a label", async () => {
    for (const fence of [
      { resource: "job:x", token: 1n },
      { resource: "job:x", token: 1, owner: "o" },
      { resource: "", token: 1n, owner: "o" },
    ]) {
      await expect(
        f.db.transaction((tx) => checkFence(tx, fence as unknown as Fence)),
      ).rejects.toMatchObject({ label: "INVALID_PARAM_VALUE" });
    }
  });
});
