// The account book (gate.io's /spot/account_book) from the ledger: one trader deposits, places,
// fills as taker and as maker, cancels, is rejected, withdraws (refused and paid), is adjusted
// and has a bare hold released — every change of their available balance is a row with the
// exact change and the balance after it, whatever the filters and the page.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccountBookEntry, type AccountBookQuery, accountBook } from "../src/account-book";
import { adjustWithLock, deposit, holdFunds, releaseFunds } from "../src/ledger";
import { applySettlementBatch, type SettlementEvent } from "../src/settlement";
import { decideWithdrawal, requestWithdrawal } from "../src/withdrawals";
import { BTC, balanceOf, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";
import { lastSeq, placeLimit, tradeEvent } from "./trading";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:account-book:${randomUUID()}:` });
let alice: bigint;
let bob: bigint;
const ids: Record<string, string> = {};

/** Settles events on BTC_USDT, numbered after the market's last sequence. */
async function settle(...events: Array<(seq: bigint) => SettlementEvent>) {
  let seq = await lastSeq(f.db, "BTC_USDT");
  const numbered = events.map((event) => {
    seq += 1n;
    return event(seq);
  });
  const result = await applySettlementBatch(f.db, "BTC_USDT", numbered);
  expect(result.ok).toBe(true);
}

beforeAll(async () => {
  f = await createFixture();
  alice = await createUser(f.db);
  bob = await createUser(f.db);
  await deposit(f.db, { userId: alice, asset: "USDT", amount: USDT("1000"), ref: "alice-usdt-1" });
  await fund(f.db, bob, "BTC", BTC("1"));
  await fund(f.db, bob, "USDT", USDT("1000"));

  // Alice buys 0.01 BTC at 30,000 from Bob's resting ask: she is the taker (0.2 % of the BTC).
  const ask = await placeLimit(f.db, f.btcUsdt, bob, "sell", "0.01", "30000");
  const bid1 = await placeLimit(f.db, f.btcUsdt, alice, "buy", "0.01", "30000");
  await settle(
    (seq) => tradeEvent(f.btcUsdt, seq, ask, bid1, "0.01", "30000"),
    (seq) => ({ kind: "order_finished", seq, orderId: bid1.id, finishAs: "filled" }),
    (seq) => ({ kind: "order_finished", seq, orderId: ask.id, finishAs: "filled" }),
  );
  // A bid she cancels, and one the engine rejects.
  const bid2 = await placeLimit(f.db, f.btcUsdt, alice, "buy", "0.01", "29000");
  await settle((seq) => ({ kind: "order_finished", seq, orderId: bid2.id, finishAs: "cancelled" }));
  const bid3 = await placeLimit(f.db, f.btcUsdt, alice, "buy", "0.01", "29500");
  await settle((seq) => ({ kind: "order_rejected", seq, orderId: bid3.id, reason: "price band" }));
  // She sells 0.005 BTC at 31,000 as the maker (0.1 % of the 155 USDT).
  const ask2 = await placeLimit(f.db, f.btcUsdt, alice, "sell", "0.005", "31000");
  const bid4 = await placeLimit(f.db, f.btcUsdt, bob, "buy", "0.005", "31000");
  await settle(
    (seq) => tradeEvent(f.btcUsdt, seq, ask2, bid4, "0.005", "31000"),
    (seq) => ({ kind: "order_finished", seq, orderId: ask2.id, finishAs: "filled" }),
  );
  // A withdrawal refused (the money comes back), one paid out (nothing more moves in available).
  const request = (amount: bigint) =>
    requestWithdrawal(f.db, {
      userId: alice,
      asset: "USDT",
      amount,
      address: "0xabc",
      ref: randomUUID(),
    });
  const w1 = (await request(USDT("100"))).withdrawal;
  await decideWithdrawal(f.db, locks, {
    withdrawalId: w1.id,
    operatorId: f.operatorId,
    decision: "reject",
    reason: "address on a blocklist",
  });
  const w2 = (await request(USDT("50"))).withdrawal;
  await decideWithdrawal(f.db, locks, {
    withdrawalId: w2.id,
    operatorId: f.operatorId,
    decision: "approve",
  });
  await adjustWithLock(f.db, locks, {
    userId: alice,
    asset: "USDT",
    amount: USDT("5"),
    reason: "goodwill",
    operatorId: f.operatorId,
    ref: "fix-1",
  });
  // A bare hold and its release (the ledger's building blocks with their default kinds).
  const move = { userId: alice, asset: "USDT", amount: USDT("1") };
  await f.db.transaction((tx) => holdFunds(tx, { ...move, ref: "h-1" }));
  await f.db.transaction((tx) => releaseFunds(tx, { ...move, ref: "r-1" }));

  Object.assign(ids, {
    bid1: String(bid1.id),
    bid2: String(bid2.id),
    bid3: String(bid3.id),
    ask2: String(ask2.id),
    w1: String(w1.id),
    w2: String(w2.id),
  });
}, 60_000);
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

const LONG_AGO = new Date("2000-01-01T00:00:00Z");
const book = (query: Partial<AccountBookQuery> = {}) =>
  accountBook(f.db, { userId: alice, from: LONG_AGO, offset: 0, limit: 1000, ...query });
/** What a row says, without its ids and time. */
const shown = (rows: AccountBookEntry[]) =>
  rows.map((r) => [r.asset, r.source, r.change, r.balance, r.text] as const);

describe("the account book of a trader's available balances", () => {
  it("has every change, newest first, with the exact change and the balance after it", async () => {
    expect(shown(await book())).toEqual([
      ["USDT", "release", USDT("1"), USDT("809.845"), "r-1"],
      ["USDT", "hold", -USDT("1"), USDT("808.845"), "h-1"],
      ["USDT", "adjustment", USDT("5"), USDT("809.845"), "fix-1"],
      ["USDT", "withdrawal_hold", -USDT("50"), USDT("804.845"), ids.w2],
      ["USDT", "withdrawal_return", USDT("100"), USDT("854.845"), ids.w1],
      ["USDT", "withdrawal_hold", -USDT("100"), USDT("754.845"), ids.w1],
      // The maker's fill: 155 USDT for the BTC, then its fee of 0.1 %.
      ["USDT", "trade_fee", -USDT("0.155"), USDT("854.845"), ids.ask2],
      ["USDT", "trade", USDT("155"), USDT("855"), ids.ask2],
      ["BTC", "order_hold", -BTC("0.005"), BTC("0.00498"), ids.ask2],
      ["USDT", "order_rejected", USDT("295"), USDT("700"), ids.bid3],
      ["USDT", "order_hold", -USDT("295"), USDT("405"), ids.bid3],
      ["USDT", "order_release", USDT("290"), USDT("700"), ids.bid2],
      ["USDT", "order_hold", -USDT("290"), USDT("410"), ids.bid2],
      // The taker's fill: 0.01 BTC, then its fee of 0.2 %; the 300 USDT came out of the hold.
      ["BTC", "trade_fee", -BTC("0.00002"), BTC("0.00998"), ids.bid1],
      ["BTC", "trade", BTC("0.01"), BTC("0.01"), ids.bid1],
      ["USDT", "order_hold", -USDT("300"), USDT("700"), ids.bid1],
      ["USDT", "deposit", USDT("1000"), USDT("1000"), "alice-usdt-1"],
    ]);
    // The newest balance of each asset is the balance now.
    expect(await balanceOf(f.db, alice, "USDT")).toEqual({
      available: USDT("809.845"),
      locked: 0n,
    });
    expect(await balanceOf(f.db, alice, "BTC")).toEqual({ available: BTC("0.00498"), locked: 0n });
  });

  it("chains: each balance is the next older one plus the change, from zero", async () => {
    const rows = await book();
    for (const asset of ["USDT", "BTC"]) {
      const mine = rows.filter((r) => r.asset === asset);
      mine.forEach((row, i) => {
        const older = mine[i + 1]?.balance ?? 0n;
        expect(row.balance, `${asset} row ${i}`).toBe(older + row.change);
      });
    }
    // Rows are told apart by their entry, a fill's fee by its part.
    const keys = rows.map((r) => `${r.transferId}:${r.idx}:${r.part}`);
    expect(new Set(keys).size).toBe(rows.length);
    expect(rows.filter((r) => r.part === 1).map((r) => r.source)).toEqual([
      "trade_fee",
      "trade_fee",
    ]);
  });

  it("stamps each row with its transfer's time in milliseconds", async () => {
    const [newest] = await book({ limit: 1 });
    const stamped = await f.db.execute<{ ms: string }>(sql`
      SELECT floor(EXTRACT(EPOCH FROM created_at) * 1000)::int8::text AS ms
        FROM transfers WHERE id = ${newest?.transferId ?? 0n}`);
    expect(newest?.timeMs).toBe(Number(stamped.rows[0]?.ms));
  });

  it("filters by asset and by source, keeping the balances of the whole book", async () => {
    const all = await book();
    expect(shown(await book({ asset: "BTC" }))).toEqual(
      shown(all.filter((r) => r.asset === "BTC")),
    );
    expect(shown(await book({ sources: ["trade_fee"] }))).toEqual([
      ["USDT", "trade_fee", -USDT("0.155"), USDT("854.845"), ids.ask2],
      ["BTC", "trade_fee", -BTC("0.00002"), BTC("0.00998"), ids.bid1],
    ]);
    expect(
      shown(await book({ asset: "USDT", sources: ["withdrawal_hold", "withdrawal_return"] })),
    ).toEqual([
      ["USDT", "withdrawal_hold", -USDT("50"), USDT("804.845"), ids.w2],
      ["USDT", "withdrawal_return", USDT("100"), USDT("854.845"), ids.w1],
      ["USDT", "withdrawal_hold", -USDT("100"), USDT("754.845"), ids.w1],
    ]);
    expect(await book({ sources: [] })).toEqual([]);
    expect(await book({ asset: "ETH" })).toEqual([]);
    // Another trader's book holds none of Alice's rows.
    const bobs = await accountBook(f.db, { userId: bob, from: LONG_AGO, offset: 0, limit: 1000 });
    expect(bobs.map((r) => r.text)).not.toContain(ids.bid1);
    expect(bobs.length).toBeGreaterThan(0);
  });

  it("pages through the same rows, and a filtered page keeps its rows' balances", async () => {
    const all = await book();
    const pages: AccountBookEntry[] = [];
    for (let offset = 0; offset < all.length + 4; offset += 4) {
      const page = await book({ offset, limit: 4 });
      expect(page.length).toBe(Math.max(0, Math.min(4, all.length - offset)));
      pages.push(...page);
    }
    expect(pages).toEqual(all);
    const orders = all.filter((r) => r.source === "order_hold");
    expect(await book({ sources: ["order_hold"], offset: 1, limit: 2 })).toEqual(
      orders.slice(1, 3),
    );
  });

  it("bounds the time: from inclusive, to exclusive, to the millisecond", async () => {
    const all = await book();
    const middle = all.find((r) => r.source === "order_rejected");
    const at = new Date(middle?.timeMs ?? 0);
    const since = await book({ from: at });
    const before = await book({ to: at });
    expect(since).toEqual(all.filter((r) => r.timeMs >= at.getTime()));
    expect(before).toEqual(all.filter((r) => r.timeMs < at.getTime()));
    expect(since.length).toBeGreaterThan(0);
    expect(before.length).toBeGreaterThan(0);
    expect([...since, ...before]).toEqual(all);
    const later = new Date((all[0]?.timeMs ?? 0) + 3_600_000);
    expect(await book({ from: later })).toEqual([]);
    expect(await book({ from: LONG_AGO, to: LONG_AGO })).toEqual([]);
  });

  it("refuses a malformed query with INVALID_PARAM_VALUE", async () => {
    const refused = async (query: Record<string, unknown>) =>
      expect(
        accountBook(f.db, {
          userId: alice,
          from: LONG_AGO,
          offset: 0,
          limit: 10,
          ...query,
        } as AccountBookQuery),
      ).rejects.toMatchObject({ label: "INVALID_PARAM_VALUE" });
    await refused({ limit: 0 });
    await refused({ limit: 1001 });
    await refused({ limit: 1.5 });
    await refused({ offset: -1 });
    await refused({ offset: 100_001 });
    await refused({ from: new Date(Number.NaN) });
    await refused({ to: new Date("1999-12-31T00:00:00Z") });
    await refused({ sources: ["new_order"] });
    await refused({ sources: "trade" });
    await refused({ asset: "usdt" });
    await refused({ userId: 0n });
  });
});
