// admin.users: search, detail, freeze/unfreeze (the frozen user's next order is FORBIDDEN) and
// balance adjustments (the balance moves by exactly the amount; the audit row shows before and
// after) — against the real PostgreSQL, Redis and etcd.
import { randomUUID } from "node:crypto";
import { schema } from "@spotx/db";
import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let trader: TestUser;
let other: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  trader = await f.createUser();
  other = await f.createUser();
  await f.fund(trader.id, "USDT", 2_500_000_000n); // 2,500 USDT
  await f.fund(trader.id, "BTC", 50_000_000n); // 0.5 BTC
});
afterAll(async () => {
  await f?.stop();
});

const admin = () => f.callerAs(operator);

async function balance(userId: bigint, asset: string) {
  const [row] = await f.db
    .select({ available: schema.balances.available, locked: schema.balances.locked })
    .from(schema.balances)
    .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, asset)));
  return row ?? { available: 0n, locked: 0n };
}

async function lastAudit(subject: string) {
  const [row] = await f.db
    .select()
    .from(schema.auditLog)
    .where(eq(schema.auditLog.subject, subject))
    .orderBy(desc(schema.auditLog.id))
    .limit(1);
  return row;
}

const placeBuy = (userId: bigint) =>
  f.trading.placeOrder(userId, {
    market: "BTC_USDT",
    side: "buy",
    type: "limit",
    price: "30000",
    amount: "0.01",
  });

describe("admin.users", () => {
  it("finds users by a piece of their email or by id, a page at a time", async () => {
    const caller = await admin();
    const piece = trader.email.slice(0, 8).toUpperCase();
    const found = await caller.admin.users.search({ query: piece });
    expect(found.items.map((u) => u.id)).toEqual([trader.id]);
    const byId = await caller.admin.users.search({ query: String(other.id) });
    expect(byId.items.map((u) => u.email)).toContain(other.email);

    const first = await caller.admin.users.search({ limit: 2 });
    expect(first.items.map((u) => u.id)).toEqual([other.id, trader.id]);
    expect(first.nextCursor).not.toBeNull();
    const second = await caller.admin.users.search({ limit: 2, cursor: first.nextCursor ?? "" });
    expect(second.items.map((u) => u.id)).toEqual([operator.id]);
    expect(second.nextCursor).toBeNull();
    const operators = await caller.admin.users.search({ role: "operator" });
    expect(operators.items.map((u) => u.id)).toEqual([operator.id]);
    expect(await refusal(caller.admin.users.search({ cursor: "not-a-cursor" }))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
  });

  it("shows a user's balances, live orders and ledger in decimal strings", async () => {
    const placed = await placeBuy(trader.id); // holds 300 USDT
    const detail = await (await admin()).admin.users.detail({ userId: trader.id });
    expect(detail.user).toMatchObject({ id: trader.id, email: trader.email, status: "active" });
    expect(detail.balances).toEqual([
      expect.objectContaining({ asset: "BTC", available: "0.5", locked: "0" }),
      expect.objectContaining({ asset: "USDT", available: "2200", locked: "300" }),
    ]);
    expect(detail.liveOrders).toEqual([
      expect.objectContaining({
        id: placed.order.id,
        price: "30000",
        amount: "0.01",
        amountAsset: "BTC",
        hold: "300",
        holdRemaining: "300",
        status: "pending",
      }),
    ]);
    // Newest first: the order's hold (two entries), then the deposits.
    expect(detail.ledger.items.slice(0, 2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "order_hold",
          asset: "USDT",
          bucket: "locked",
          amount: "300",
        }),
        expect.objectContaining({
          kind: "order_hold",
          asset: "USDT",
          bucket: "available",
          amount: "-300",
        }),
      ]),
    );
    expect(
      detail.ledger.items
        .filter((e) => e.kind === "deposit")
        .map((e) => e.amount)
        .sort(),
    ).toEqual(["0.5", "2500"]);
    expect(await refusal((await admin()).admin.users.detail({ userId: 999_999n }))).toEqual({
      label: "NOT_FOUND",
      status: 404,
    });
  });

  it("freezes a user: their next order is FORBIDDEN; unfreezing lets them trade again", async () => {
    const caller = await admin();
    const frozen = await caller.admin.users.freeze({ userId: trader.id, reason: "KYC review" });
    expect(frozen).toMatchObject({ user: { status: "frozen" }, changed: true });
    const refused = await placeBuy(trader.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ label: "FORBIDDEN" });
    const audit = await lastAudit(`user:${trader.id}`);
    expect(audit).toMatchObject({
      id: frozen.auditId,
      action: "user.freeze",
      actorId: operator.id,
    });
    expect(audit?.details).toMatchObject({
      reason: "KYC review",
      before: { status: "active" },
      after: { status: "frozen" },
      origin: { ip: "192.0.2.10", userAgent: "vitest" },
    });

    const again = await caller.admin.users.freeze({ userId: trader.id, reason: "KYC review" });
    expect(again.changed).toBe(false);
    const unfrozen = await caller.admin.users.unfreeze({ userId: trader.id, reason: "KYC passed" });
    expect(unfrozen).toMatchObject({ user: { status: "active" }, changed: true });
    await expect(placeBuy(trader.id)).resolves.toMatchObject({ order: { status: "pending" } });
  });

  it("refuses an operator freezing themselves, and an unknown user", async () => {
    const caller = await admin();
    expect(
      await refusal(caller.admin.users.freeze({ userId: operator.id, reason: "oops" })),
    ).toEqual({
      label: "SELF_ACTION_FORBIDDEN",
      status: 403,
    });
    expect(
      await refusal(caller.admin.users.freeze({ userId: 987_654n, reason: "nobody" })),
    ).toEqual({
      label: "NOT_FOUND",
      status: 404,
    });
  });

  it("adjusts a balance by exactly the amount, once per idempotency key, with before and after audited", async () => {
    const caller = await admin();
    const before = await balance(other.id, "ETH");
    const key = randomUUID();
    const credited = await caller.admin.users.adjustBalance({
      userId: other.id,
      asset: "ETH",
      direction: "credit",
      amount: "1.23456789",
      reason: "missed deposit, ticket 7",
      idempotencyKey: key,
    });
    expect(credited).toMatchObject({
      duplicate: false,
      balance: { asset: "ETH", available: "1.23456789", locked: "0" },
    });
    expect((await balance(other.id, "ETH")).available - before.available).toBe(123_456_789n);
    const audit = await lastAudit(`user:${other.id}`);
    expect(audit).toMatchObject({ action: "ledger.adjust", actorId: operator.id });
    expect(audit?.details).toMatchObject({
      asset: "ETH",
      amount: "123456789",
      reason: "missed deposit, ticket 7",
      before: { available: "0", locked: "0" },
      after: { available: "123456789", locked: "0" },
      origin: { ip: "192.0.2.10", userAgent: "vitest" },
    });

    const repeated = await caller.admin.users.adjustBalance({
      userId: other.id,
      asset: "ETH",
      direction: "credit",
      amount: "1.23456789",
      reason: "missed deposit, ticket 7",
      idempotencyKey: key,
    });
    expect(repeated).toMatchObject({ duplicate: true, transferId: credited.transferId });
    expect((await balance(other.id, "ETH")).available).toBe(123_456_789n);

    const debited = await caller.admin.users.adjustBalance({
      userId: other.id,
      asset: "ETH",
      direction: "debit",
      amount: "0.23456789",
      reason: "over-credited",
      idempotencyKey: randomUUID(),
    });
    expect(debited.balance.available).toBe("1");
  });

  it("refuses a debit past the available balance, and too many decimals, changing nothing", async () => {
    const caller = await admin();
    const before = await balance(other.id, "ETH");
    const adjust = (amount: string, direction: "credit" | "debit" = "debit") =>
      caller.admin.users.adjustBalance({
        userId: other.id,
        asset: "ETH",
        direction,
        amount,
        reason: "test refusal",
        idempotencyKey: randomUUID(),
      });
    expect(await refusal(adjust("1.00000001"))).toEqual({
      label: "BALANCE_NOT_ENOUGH",
      status: 400,
    });
    expect(await refusal(adjust("0.000000001", "credit"))).toEqual({
      label: "INVALID_PRECISION",
      status: 400,
    });
    expect(await refusal(adjust("-1", "credit"))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
    expect(await balance(other.id, "ETH")).toEqual(before);
  });

  it("pages through a user's ledger newest first", async () => {
    const caller = await admin();
    const all = await caller.admin.users.ledger({ userId: other.id });
    expect(all.items.map((e) => [e.kind, e.amount])).toEqual([
      ["adjustment", "-0.23456789"],
      ["adjustment", "1.23456789"],
    ]);
    expect(all.nextCursor).toBeNull();
    const first = await caller.admin.users.ledger({ userId: other.id, limit: 1 });
    expect(first.items.map((e) => e.amount)).toEqual(["-0.23456789"]);
    const second = await caller.admin.users.ledger({
      userId: other.id,
      limit: 1,
      cursor: first.nextCursor ?? "missing",
    });
    expect(second.items.map((e) => e.amount)).toEqual(["1.23456789"]);
    expect(second.nextCursor).toBeNull();
  });
});
