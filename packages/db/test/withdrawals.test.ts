// Withdrawals: request → approve (money leaves to the external account) or reject (money back),
// each transition exactly once, under the account's fenced lock.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideWithdrawal, requestWithdrawal } from "../src/withdrawals";
import {
  balanceOf,
  createFixture,
  createUser,
  type Fixture,
  fund,
  systemBalance,
  USDT,
} from "./fixtures";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:withdrawals:${randomUUID()}:` });
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

async function userWith(amount: bigint) {
  const user = await createUser(f.db);
  await fund(f.db, user, "USDT", amount);
  return user;
}

const request = (userId: bigint, amount: bigint, ref = randomUUID()) =>
  requestWithdrawal(f.db, { userId, asset: "USDT", amount, address: "0xabc", ref });

describe("withdrawals", () => {
  it("locks the amount on request and pays it out to the external account on approval", async () => {
    const user = await userWith(USDT("100"));
    const external = await systemBalance(f.db, "external", "USDT");
    const { withdrawal } = await request(user, USDT("40"));
    expect(withdrawal.status).toBe("pending");
    expect(await balanceOf(f.db, user, "USDT")).toEqual({
      available: USDT("60"),
      locked: USDT("40"),
    });

    const approved = await decideWithdrawal(f.db, locks, {
      withdrawalId: withdrawal.id,
      operatorId: f.operatorId,
      decision: "approve",
    });
    expect(approved.withdrawal).toMatchObject({ status: "completed", decidedBy: f.operatorId });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("60"), locked: 0n });
    expect(await systemBalance(f.db, "external", "USDT")).toBe(external + USDT("40"));
    const audit = await f.db.execute(
      sql`SELECT action FROM audit_log WHERE subject = ${`withdrawal:${withdrawal.id}`}`,
    );
    expect(audit.rows).toEqual([{ action: "withdrawal.approve" }]);
  });

  it("returns the amount to available on rejection", async () => {
    const user = await userWith(USDT("100"));
    const { withdrawal } = await request(user, USDT("40"));
    const rejected = await decideWithdrawal(f.db, locks, {
      withdrawalId: withdrawal.id,
      operatorId: f.operatorId,
      decision: "reject",
      reason: "address on a sanctions list",
    });
    expect(rejected.withdrawal).toMatchObject({
      status: "rejected",
      reason: "address on a sanctions list",
    });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("100"), locked: 0n });
  });

  it("approves once however many times and however concurrently it is approved", async () => {
    const user = await userWith(USDT("100"));
    const { withdrawal } = await request(user, USDT("25"));
    const approve = () =>
      decideWithdrawal(f.db, locks, {
        withdrawalId: withdrawal.id,
        operatorId: f.operatorId,
        decision: "approve",
      });
    const outcomes = await Promise.all([approve(), approve(), approve()]);
    const again = await approve();
    expect(outcomes.map((o) => o.duplicate).sort()).toEqual([false, true, true]);
    expect(again.duplicate).toBe(true);
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("75"), locked: 0n });
    const payouts = await f.db.execute(
      sql`SELECT count(*)::int AS n FROM transfers WHERE ref = ${`withdrawal:${withdrawal.id}:payout`}`,
    );
    expect(payouts.rows[0]).toEqual({ n: 1 });
  });

  it("refuses to reject an approved withdrawal (WITHDRAWAL_DECIDED)", async () => {
    const user = await userWith(USDT("100"));
    const { withdrawal } = await request(user, USDT("25"));
    await decideWithdrawal(f.db, locks, {
      withdrawalId: withdrawal.id,
      operatorId: f.operatorId,
      decision: "approve",
    });
    await expect(
      decideWithdrawal(f.db, locks, {
        withdrawalId: withdrawal.id,
        operatorId: f.operatorId,
        decision: "reject",
        reason: "late",
      }),
    ).rejects.toMatchObject({ label: "WITHDRAWAL_DECIDED" });
  });

  it("treats the same request reference as one request, even concurrently", async () => {
    const user = await userWith(USDT("100"));
    const ref = randomUUID();
    const outcomes = await Promise.all([
      request(user, USDT("30"), ref),
      request(user, USDT("30"), ref),
    ]);
    expect(outcomes.map((o) => o.duplicate).sort()).toEqual([false, true]);
    expect(outcomes[0]?.withdrawal.id).toBe(outcomes[1]?.withdrawal.id);
    expect(await balanceOf(f.db, user, "USDT")).toEqual({
      available: USDT("70"),
      locked: USDT("30"),
    });
    await expect(request(user, USDT("31"), ref)).rejects.toMatchObject({
      label: "IDEMPOTENCY_CONFLICT",
    });
  });

  it("refuses more than available, and decisions by a non-operator", async () => {
    const user = await userWith(USDT("10"));
    await expect(request(user, USDT("10.000001"))).rejects.toMatchObject({
      label: "BALANCE_NOT_ENOUGH",
    });
    const { withdrawal } = await request(user, USDT("10"));
    await expect(
      decideWithdrawal(f.db, locks, {
        withdrawalId: withdrawal.id,
        operatorId: user,
        decision: "approve",
      }),
    ).rejects.toMatchObject({ label: "FORBIDDEN" });
    await expect(
      decideWithdrawal(f.db, locks, {
        withdrawalId: 424_242n,
        operatorId: f.operatorId,
        decision: "approve",
      }),
    ).rejects.toMatchObject({ label: "NOT_FOUND" });
  });
});
