// Four eyes in the ledger itself: an operator cannot adjust their own balance or decide their own
// withdrawal, whoever calls the ledger (the console refuses first; this is the second line), and
// the refusal changes nothing — no transfer, no decision, no audit row of an adjustment.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLedgerError } from "../src/errors";
import { adjust, adjustWithLock } from "../src/ledger";
import { decideWithdrawal, decideWithdrawalFenced, requestWithdrawal } from "../src/withdrawals";
import { balanceOf, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:self-action:${randomUUID()}:` });
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

const labelOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isLedgerError(error) ? error.label : String(error)),
  );

describe("an operator's own account", () => {
  it("cannot be adjusted by that operator, with or without the lock", async () => {
    const operator = await createUser(f.db, "operator");
    await fund(f.db, operator, "USDT", USDT("10"));
    const base = { userId: operator, asset: "USDT", reason: "to myself", operatorId: operator };
    expect(
      await labelOf(adjustWithLock(f.db, locks, { ...base, amount: USDT("5"), ref: randomUUID() })),
    ).toBe("SELF_ACTION_FORBIDDEN");
    const fence = { resource: `account:${operator}`, token: 1n, owner: "self-action-test" };
    expect(
      await labelOf(adjust(f.db, { ...base, amount: USDT("5"), ref: randomUUID(), fence })),
    ).toBe("SELF_ACTION_FORBIDDEN");
    expect(await balanceOf(f.db, operator, "USDT")).toEqual({ available: USDT("10"), locked: 0n });
    const audit = await f.db.execute(
      sql`SELECT 1 FROM audit_log WHERE subject = ${`user:${operator}`}`,
    );
    expect(audit.rows).toEqual([]);
    // Another operator may.
    await adjustWithLock(f.db, locks, {
      ...base,
      operatorId: f.operatorId,
      amount: USDT("5"),
      ref: randomUUID(),
    });
    expect(await balanceOf(f.db, operator, "USDT")).toEqual({ available: USDT("15"), locked: 0n });
  });

  it("cannot have its withdrawal decided by that operator; another operator decides it", async () => {
    const operator = await createUser(f.db, "operator");
    await fund(f.db, operator, "USDT", USDT("100"));
    const { withdrawal } = await requestWithdrawal(f.db, {
      userId: operator,
      asset: "USDT",
      amount: USDT("40"),
      address: "0xmine",
      ref: randomUUID(),
    });
    for (const decision of ["approve", "reject"] as const) {
      const decided = decideWithdrawal(f.db, locks, {
        withdrawalId: withdrawal.id,
        operatorId: operator,
        ...(decision === "approve" ? { decision } : { decision, reason: "mine" }),
      });
      expect(await labelOf(decided)).toBe("SELF_ACTION_FORBIDDEN");
    }
    const fence = { resource: `account:${operator}`, token: 1n, owner: "self-action-test" };
    const fenced = decideWithdrawalFenced(f.db, {
      withdrawalId: withdrawal.id,
      operatorId: operator,
      decision: "approve",
      fence,
    });
    expect(await labelOf(fenced)).toBe("SELF_ACTION_FORBIDDEN");
    const still = await f.db.execute<{ status: string }>(
      sql`SELECT status FROM withdrawals WHERE id = ${withdrawal.id}`,
    );
    expect(still.rows).toEqual([{ status: "pending" }]);
    expect(await balanceOf(f.db, operator, "USDT")).toEqual({
      available: USDT("60"),
      locked: USDT("40"),
    });
    const approved = await decideWithdrawal(f.db, locks, {
      withdrawalId: withdrawal.id,
      operatorId: f.operatorId,
      decision: "approve",
    });
    expect(approved.withdrawal.status).toBe("completed");
  });
});
