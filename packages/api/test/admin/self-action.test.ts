// Four eyes: no operator acts on their own account. Approving or rejecting their own withdrawal,
// adjusting their own balance, freezing or unfreezing themselves are refused with
// SELF_ACTION_FORBIDDEN, change nothing, and the refusal is itself in the audit log. Another
// operator may do each. A freeze is announced on Redis so web instances end the user's
// WebSocket subscriptions.
import { randomUUID } from "node:crypto";
import { requestWithdrawal, schema } from "@spotx/db";
import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCredentialChange } from "../../src/auth/credential-events";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let colleague: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  colleague = await f.createUser("operator");
  await f.fund(operator.id, "USDT", 1_000_000_000n); // 1,000 USDT
});
afterAll(async () => {
  await f?.stop();
});

async function usdt(userId: bigint) {
  const [row] = await f.db
    .select({ available: schema.balances.available, locked: schema.balances.locked })
    .from(schema.balances)
    .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, "USDT")));
  return row ?? { available: 0n, locked: 0n };
}

async function auditRows(subject: string) {
  return f.db
    .select({
      action: schema.auditLog.action,
      actorId: schema.auditLog.actorId,
      details: schema.auditLog.details,
    })
    .from(schema.auditLog)
    .where(eq(schema.auditLog.subject, subject))
    .orderBy(desc(schema.auditLog.id));
}

const forbidden = { label: "SELF_ACTION_FORBIDDEN", status: 403 };

describe("an operator's own account", () => {
  it("cannot have its withdrawal approved or rejected by that operator; the refusals are audited", async () => {
    const { withdrawal } = await requestWithdrawal(f.db, {
      userId: operator.id,
      asset: "USDT",
      amount: 100_000_000n,
      address: "my-own-wallet",
      ref: randomUUID(),
    });
    const self = await f.callerAs(operator);
    expect(await refusal(self.admin.withdrawals.approve({ withdrawalId: withdrawal.id }))).toEqual(
      forbidden,
    );
    expect(
      await refusal(self.admin.withdrawals.reject({ withdrawalId: withdrawal.id, reason: "mine" })),
    ).toEqual(forbidden);
    expect(await usdt(operator.id)).toEqual({ available: 900_000_000n, locked: 100_000_000n });
    const audit = await auditRows(`withdrawal:${withdrawal.id}`);
    expect(audit).toEqual([
      expect.objectContaining({
        action: "withdrawal.reject.refused",
        actorId: operator.id,
        details: expect.objectContaining({ label: "SELF_ACTION_FORBIDDEN" }),
      }),
      expect.objectContaining({ action: "withdrawal.approve.refused", actorId: operator.id }),
    ]);

    const other = await f.callerAs(colleague);
    const approved = await other.admin.withdrawals.approve({ withdrawalId: withdrawal.id });
    expect(approved.withdrawal).toMatchObject({ status: "completed", decidedBy: colleague.id });
  });

  it("cannot have its balance adjusted by that operator; the refusal is audited", async () => {
    const self = await f.callerAs(operator);
    const before = await usdt(operator.id);
    const adjust = {
      userId: operator.id,
      asset: "USDT",
      direction: "credit" as const,
      amount: "5000",
      reason: "bonus",
    };
    expect(
      await refusal(self.admin.users.adjustBalance({ ...adjust, idempotencyKey: randomUUID() })),
    ).toEqual(forbidden);
    expect(await usdt(operator.id)).toEqual(before);
    const [refused] = await auditRows(`user:${operator.id}`);
    expect(refused).toMatchObject({
      action: "ledger.adjust.refused",
      actorId: operator.id,
      details: { reason: null, label: "SELF_ACTION_FORBIDDEN", asset: "USDT" },
    });

    const other = await f.callerAs(colleague);
    await other.admin.users.adjustBalance({ ...adjust, idempotencyKey: randomUUID() });
    expect((await usdt(operator.id)).available).toBe(before.available + 5_000_000_000n);
  });

  it("cannot have its status changed by that operator; the refusal is audited", async () => {
    const self = await f.callerAs(operator);
    expect(
      await refusal(self.admin.users.freeze({ userId: operator.id, reason: "testing" })),
    ).toEqual(forbidden);
    expect(
      await refusal(self.admin.users.unfreeze({ userId: operator.id, reason: "testing" })),
    ).toEqual(forbidden);
    const [user] = await f.db
      .select({ status: schema.users.status })
      .from(schema.users)
      .where(eq(schema.users.id, operator.id));
    expect(user?.status).toBe("active");
    const audit = await auditRows(`user:${operator.id}`);
    expect(audit.slice(0, 2).map((row) => row.action)).toEqual([
      "user.unfreeze.refused",
      "user.freeze.refused",
    ]);
  });
});

describe("a freeze", () => {
  it("is announced after commit, so web instances end the user's subscriptions", async () => {
    const trader = await f.createUser();
    const listener = f.redis.duplicate();
    await listener.subscribe(f.names.redis.credentialsChannel);
    const heard = new Promise<string>((resolve) => listener.once("message", (_c, m) => resolve(m)));
    try {
      const caller = await f.callerAs(operator);
      await caller.admin.users.freeze({ userId: trader.id, reason: "KYC review" });
      expect(decodeCredentialChange(await heard)).toEqual({
        userId: trader.id,
        reason: "user_frozen",
      });
    } finally {
      listener.disconnect();
    }
  });
});
