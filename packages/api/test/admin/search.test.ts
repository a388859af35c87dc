// admin.orders.search and admin.audit.search: filters and server-side pages over real rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let alice: TestUser;
let bob: TestUser;
const placed: bigint[] = [];

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  alice = await f.createUser();
  bob = await f.createUser();
  for (const user of [alice, bob]) {
    await f.fund(user.id, "USDT", 100_000_000_000n);
    await f.fund(user.id, "ETH", 1_000_000_000n);
  }
  // Five orders from alice in BTC_USDT (buys), two from bob in ETH_USDT (sells), in this order.
  for (let i = 0; i < 5; i++) {
    const { order } = await f.trading.placeOrder(alice.id, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      price: `${30_000 + i}.5`,
      amount: "0.0125",
      text: `t-alice-${i}`,
    });
    placed.push(order.id);
  }
  for (let i = 0; i < 2; i++) {
    const { order } = await f.trading.placeOrder(bob.id, {
      market: "ETH_USDT",
      side: "sell",
      type: "limit",
      price: "2000",
      amount: "0.5",
    });
    placed.push(order.id);
  }
});
afterAll(async () => {
  await f?.stop();
});

describe("admin.orders.search", () => {
  it("filters by user, market, side and client text, newest first, in decimal strings", async () => {
    const caller = await f.callerAs(operator);
    const alices = await caller.admin.orders.search({ userId: alice.id });
    expect(alices.items.map((o) => o.id)).toEqual(placed.slice(0, 5).reverse());
    expect(alices.items[0]).toMatchObject({
      market: "BTC_USDT",
      side: "buy",
      price: "30004.5",
      amount: "0.0125",
      hold: "375.05625",
      holdAsset: "USDT",
      status: "pending",
      text: "t-alice-4",
    });
    const sells = await caller.admin.orders.search({ market: "ETH_USDT", side: "sell" });
    expect(sells.items.map((o) => [o.userId, o.amount, o.hold, o.holdAsset])).toEqual([
      [bob.id, "0.5", "0.5", "ETH"],
      [bob.id, "0.5", "0.5", "ETH"],
    ]);
    const byText = await caller.admin.orders.search({ text: "t-alice-2" });
    expect(byText.items.map((o) => o.id)).toEqual([placed[2]]);
    const none = await caller.admin.orders.search({ status: ["closed", "cancelled"] });
    expect(none.items).toEqual([]);
  });

  it("pages through every order exactly once, even while new orders arrive", async () => {
    const caller = await f.callerAs(operator);
    const seen: bigint[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await caller.admin.orders.search({ limit: 3, cursor });
      seen.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
      if (pages === 1) {
        // Arrives between pages: newer than the first page, so it is not in this walk.
        await f.trading.placeOrder(bob.id, {
          market: "ETH_USDT",
          side: "sell",
          type: "limit",
          price: "2100",
          amount: "0.1",
        });
      }
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...placed].reverse());
    expect(await refusal(caller.admin.orders.search({ limit: 500 }))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
  });
});

describe("admin.trades.search", () => {
  it("refuses a cursor whose time or id PostgreSQL would not read, with a label", async () => {
    const caller = await f.callerAs(operator);
    const forged = (key: string[]) => Buffer.from(JSON.stringify(key)).toString("base64url");
    for (const key of [
      ["2026-13-01 00:00:00+00", "BTC_USDT", "1"],
      ["2026-02-30 00:00:00+00", "BTC_USDT", "1"],
      ["2026-11-24 07:00:00+00", "BTC_USDT", "9999999999999999999"],
    ]) {
      expect(await refusal(caller.admin.trades.search({ cursor: forged(key) }))).toEqual({
        label: "INVALID_PARAM_VALUE",
        status: 400,
      });
    }
    const page = await caller.admin.trades.search({
      cursor: forged(["2026-11-24 07:00:00.123456+00", "BTC_USDT", "1"]),
    });
    expect(page.items).toEqual(expect.any(Array));
  });
});

describe("admin.audit.search", () => {
  it("filters the audit log by action, area, actor and subject, newest first", async () => {
    const caller = await f.callerAs(operator);
    await caller.admin.users.freeze({ userId: bob.id, reason: "review" });
    await caller.admin.users.unfreeze({ userId: bob.id, reason: "reviewed" });
    await caller.admin.markets.changeRules({
      symbol: "ETH_USDT",
      tickSize: "0.01",
      lotSize: "0.0001",
      minBaseAmount: "0.001",
      minQuoteAmount: "1",
      priceBandPercent: "10",
      makerFeePercent: "0.1",
      takerFeePercent: "0.3",
      reason: "new schedule",
    });
    const userActions = await caller.admin.audit.search({ action: "user." });
    expect(userActions.items.map((a) => a.action)).toEqual(["user.unfreeze", "user.freeze"]);
    expect(userActions.items[0]).toMatchObject({
      actorId: operator.id,
      actorEmail: operator.email,
      subject: `user:${bob.id}`,
      details: { reason: "reviewed", before: { status: "frozen" }, after: { status: "active" } },
    });
    expect(userActions.items[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    const rules = await caller.admin.audit.search({ action: "market.rules", actorId: operator.id });
    expect(rules.items.map((a) => a.subject)).toEqual(["market:ETH_USDT"]);
    const aboutBob = await caller.admin.audit.search({ subject: `user:${bob.id}`, limit: 1 });
    expect(aboutBob.items.map((a) => a.action)).toEqual(["user.unfreeze"]);
    const older = await caller.admin.audit.search({
      subject: `user:${bob.id}`,
      limit: 1,
      cursor: aboutBob.nextCursor ?? "missing",
    });
    expect(older.items.map((a) => a.action)).toEqual(["user.freeze"]);
    const future = await caller.admin.audit.search({ from: new Date(Date.now() + 60_000) });
    expect(future.items).toEqual([]);
  });
});
