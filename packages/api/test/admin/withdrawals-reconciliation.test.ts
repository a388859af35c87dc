// admin.withdrawals (the approval queue; approving pays the held amount out, rejecting returns
// it) and admin.reconciliation (run now is clean; a balance corrupted in SQL is a finding) —
// against the real PostgreSQL and Redis.
import { randomUUID } from "node:crypto";
import { requestWithdrawal, schema } from "@spotx/db";
import { and, desc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let trader: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  trader = await f.createUser();
  await f.fund(trader.id, "USDT", 1_000_000_000n); // 1,000 USDT
});
afterAll(async () => {
  await f?.stop();
});

const admin = () => f.callerAs(operator);

async function usdt(userId: bigint) {
  const [row] = await f.db
    .select({ available: schema.balances.available, locked: schema.balances.locked })
    .from(schema.balances)
    .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, "USDT")));
  return row ?? { available: 0n, locked: 0n };
}

const withdraw = async (amount: bigint) =>
  (
    await requestWithdrawal(f.db, {
      userId: trader.id,
      asset: "USDT",
      amount,
      address: "TXYZ-test-address",
      ref: randomUUID(),
    })
  ).withdrawal;

describe("admin.withdrawals", () => {
  it("approving pays the held amount out; rejecting returns it; each decision is audited", async () => {
    const first = await withdraw(250_000_000n); // 250 USDT
    const second = await withdraw(100_500_000n); // 100.5 USDT
    expect(await usdt(trader.id)).toEqual({ available: 649_500_000n, locked: 350_500_000n });

    const caller = await admin();
    const queue = await caller.admin.withdrawals.queue({});
    expect(queue.items.map((w) => [w.id, w.amount, w.status])).toEqual([
      [first.id, "250", "pending"],
      [second.id, "100.5", "pending"],
    ]);
    expect(queue.items[0]?.balance).toEqual({ available: "649.5", locked: "350.5" });

    const approved = await caller.admin.withdrawals.approve({ withdrawalId: first.id });
    expect(approved).toMatchObject({
      duplicate: false,
      withdrawal: { id: first.id, status: "completed", decidedBy: operator.id },
    });
    expect(await usdt(trader.id)).toEqual({ available: 649_500_000n, locked: 100_500_000n });

    const rejected = await caller.admin.withdrawals.reject({
      withdrawalId: second.id,
      reason: "address on a sanctions list",
    });
    expect(rejected.withdrawal).toMatchObject({
      status: "rejected",
      reason: "address on a sanctions list",
    });
    expect(await usdt(trader.id)).toEqual({ available: 750_000_000n, locked: 0n });

    const audit = await f.db
      .select()
      .from(schema.auditLog)
      .where(
        sql`${schema.auditLog.subject} IN (${`withdrawal:${first.id}`}, ${`withdrawal:${second.id}`})`,
      )
      .orderBy(schema.auditLog.id);
    expect(audit.map((a) => [a.action, a.actorId])).toEqual([
      ["withdrawal.approve", operator.id],
      ["withdrawal.reject", operator.id],
    ]);
    expect(audit[0]?.details).toMatchObject({
      amount: "250000000",
      before: { available: "649500000", locked: "350500000" },
      after: { available: "649500000", locked: "100500000" },
      origin: { ip: "192.0.2.10", userAgent: "vitest" },
    });
    expect(audit[1]?.details).toMatchObject({
      reason: "address on a sanctions list",
      before: { available: "649500000", locked: "100500000" },
      after: { available: "750000000", locked: "0" },
    });

    expect((await caller.admin.withdrawals.queue({})).items).toEqual([]);
    const decided = await caller.admin.withdrawals.queue({ status: "completed" });
    expect(decided.items.map((w) => w.id)).toEqual([first.id]);
  });

  it("answers a repeated decision as a duplicate and the opposite one with WITHDRAWAL_DECIDED", async () => {
    const w = await withdraw(10_000_000n);
    const caller = await admin();
    await caller.admin.withdrawals.approve({ withdrawalId: w.id });
    const before = await usdt(trader.id);
    expect(await caller.admin.withdrawals.approve({ withdrawalId: w.id })).toMatchObject({
      duplicate: true,
    });
    expect(
      await refusal(
        caller.admin.withdrawals.reject({ withdrawalId: w.id, reason: "too late now" }),
      ),
    ).toEqual({ label: "WITHDRAWAL_DECIDED", status: 409 });
    expect(await refusal(caller.admin.withdrawals.approve({ withdrawalId: 123_456_789n }))).toEqual(
      {
        label: "NOT_FOUND",
        status: 404,
      },
    );
    expect(await usdt(trader.id)).toEqual(before);
  });
});

describe("admin.reconciliation", () => {
  it("runs clean, then finds a balance corrupted directly in SQL", async () => {
    const caller = await admin();
    const clean = await caller.admin.reconciliation.run();
    expect(clean.run).toMatchObject({ status: "clean", findingsCount: 0 });
    expect(clean.findings).toEqual([]);

    // Bypassing the ledger: the balance row no longer equals the sum of its entries.
    await f.db.execute(
      sql`UPDATE balances SET available = available + 1234567 WHERE user_id = ${trader.id} AND asset = 'USDT'`,
    );
    const dirty = await caller.admin.reconciliation.run();
    expect(dirty.run).toMatchObject({ status: "mismatch", findingsCount: 1 });
    expect(dirty.findings).toEqual([
      expect.objectContaining({
        kind: "available_mismatch",
        userId: trader.id,
        asset: "USDT",
        expected: "740000000",
        actual: "741234567",
        expectedAmount: "740",
        actualAmount: "741.234567",
      }),
    ]);

    const runs = await caller.admin.reconciliation.runs({});
    expect(runs.items.map((r) => [r.id, r.status])).toEqual([
      [dirty.run.id, "mismatch"],
      [clean.run.id, "clean"],
    ]);
    const findings = await caller.admin.reconciliation.findings({ runId: dirty.run.id });
    expect(findings.items.map((x) => x.kind)).toEqual(["available_mismatch"]);
    const audited = await f.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.action, "reconciliation.run"))
      .orderBy(desc(schema.auditLog.id));
    expect(audited.map((a) => a.subject)).toEqual([
      `reconciliation:${dirty.run.id}`,
      `reconciliation:${clean.run.id}`,
    ]);
    // Put it back so the database stays consistent for whatever runs after.
    await f.db.execute(
      sql`UPDATE balances SET available = available - 1234567 WHERE user_id = ${trader.id} AND asset = 'USDT'`,
    );
  });
});
