// A Redis failover can lose a lock: replication to the replica is asynchronous, so the writes
// the primary acknowledged last — a lock's SET and its fencing counter's INCR — may never reach
// the replica the Sentinels promote. A second process then takes the "free" lock and can even
// draw the very token the first holder still writes with. Redis alone cannot prevent that; the
// fencing check in PostgreSQL must: equal tokens from two owners, or an older token after a
// newer one, are refused, so the ledger never takes writes from two holders at once.
import { randomUUID } from "node:crypto";
import { adjust, DEMO_ASSETS, isLedgerError, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis, type Redis } from "@spotx/platform/redis";
import {
  CLUSTER_PORTS,
  isRunning,
  killMember,
  redisPrimary,
  restartMember,
} from "@spotx/stack/cluster";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordRecovery, waitUntil } from "./support";

let test: TestDatabase;
let operator: bigint;
let trader: bigint;
const clients: Redis[] = [];
const prefix = `cluster:fencing:${randomUUID()}:`;

function lockService(owner: string) {
  const client = createRedis(platformEnv().REDIS_URL);
  clients.push(client);
  return new LockService(client, { prefix, ownerPrefix: owner });
}

beforeAll(async () => {
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  const users = await test.db.execute<{ id: bigint }>(sql`
    INSERT INTO users (email, password_hash, role)
    VALUES ('operator@fencing.test', 'x', 'operator'), ('trader@fencing.test', 'x', 'trader')
    RETURNING id`);
  [operator, trader] = users.rows.map((r) => r.id) as [bigint, bigint];
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await test?.drop();
  // Whatever happened, leave every Redis node running for the scenarios after this one.
  for (const id of ["redis-1", "redis-2"]) if (!isRunning(id)) await restartMember(id);
});

async function available(): Promise<bigint> {
  const found = await test.db.execute<{ available: bigint }>(sql`
    SELECT coalesce(sum(available), 0)::int8 AS available
      FROM balances WHERE user_id = ${trader} AND asset = 'USDT'`);
  return found.rows[0]?.available ?? 0n;
}

const credit = (ref: string, fence: Parameters<typeof adjust>[1]["fence"]) =>
  adjust(test.db, {
    userId: trader,
    asset: "USDT",
    amount: 1_000_000n,
    reason: "fencing across a Redis failover",
    operatorId: operator,
    ref,
    fence,
  });

async function refusedAsStale(write: Promise<unknown>) {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLedgerError(error) && error.label).toBe("STALE_FENCING_TOKEN");
}

describe("the Redis primary dies while a lock is held", () => {
  it("loses the lock, but the fencing tokens keep the ledger to one writer at a time", {
    timeout: 120_000,
  }, async () => {
    const resource = `account:${trader}`;
    const a = lockService("a");
    const b = lockService("b");

    const lockA = await a.acquire(resource, 120_000);
    if (!lockA) throw new Error("A could not take a free lock");
    await credit("a-1", lockA.fence);

    const primary = await redisPrimary();
    const killedAt = Date.now();
    killMember(primary);
    const promoted = await waitUntil(
      async () => {
        const now = await redisPrimary().catch(() => primary);
        return now !== primary ? now : undefined;
      },
      { timeoutMs: 60_000, what: "the Sentinels to promote the replica" },
    );
    const promotedMs = Date.now() - killedAt;

    // What asynchronous replication can lose, made certain: the promoted node forgets A's lock
    // and the increment that drew A's token.
    const port = CLUSTER_PORTS.redis[Number(promoted.split("-")[1]) - 1] as number;
    const direct = createRedis(`redis://127.0.0.1:${port}`);
    clients.push(direct);
    const lockKey = `${prefix}{${resource}}`;
    await direct.del(lockKey);
    await direct.set(`${lockKey}:token`, String(lockA.fence.token - 1n));

    // B, through the Sentinels, finds the lock free and draws A's token a second time.
    const lockB = await waitUntil(() => b.acquire(resource, 120_000).catch(() => undefined), {
      timeoutMs: 30_000,
      what: "the lock service to reach the new primary",
    });
    const writableMs = Date.now() - killedAt;
    expect(lockB.fence.token).toBe(lockA.fence.token);
    expect(lockB.fence.owner).not.toBe(lockA.fence.owner);

    // Two processes now believe they hold the lock. The ledger lets only one of them write:
    // A, who wrote with this token first, goes on; B's equal token is refused.
    await refusedAsStale(credit("b-1", lockB.fence));
    await credit("a-2", lockA.fence);

    // B takes the lock again and draws a newer token; from its first write on, A is refused.
    await lockB.release();
    const lockB2 = await b.acquire(resource, 120_000);
    if (!lockB2) throw new Error("B could not take the lock it had released");
    expect(lockB2.fence.token).toBeGreaterThan(lockA.fence.token);
    await credit("b-2", lockB2.fence);
    await refusedAsStale(credit("a-3", lockA.fence));

    // Three writes, each by the one holder the ledger accepted at the time.
    expect(await available()).toBe(3_000_000n);

    // The old primary comes back as the new primary's replica.
    await restartMember(primary);
    const old = createRedis(
      `redis://127.0.0.1:${CLUSTER_PORTS.redis[Number(primary.split("-")[1]) - 1]}`,
    );
    clients.push(old);
    await waitUntil(
      async () => ((await old.info("replication")).includes("role:slave") ? true : undefined),
      { timeoutMs: 60_000, what: `${primary} to rejoin as a replica` },
    );
    recordRecovery({
      fault: `kill -9 Redis primary (${primary}) holding a lock`,
      promotedMs,
      recoveredMs: writableMs,
      note: "fencing refused the duplicate token and the stale holder",
    });
  });
});
