// GET /spot/account_book's front door: gate.io's parameters (currency, from/to, page/limit, type,
// code — a code wins over a type), the rows as gate.io writes them (decimal strings at the
// currency's decimals, time in ms, a type and a code per row), and a 400 with gate.io's label
// for every malformed query — against the real PostgreSQL, with the ledger really moved.
import { randomUUID } from "node:crypto";
import { applySettlementBatch, deposit, placeOrderHold, type SettlementEvent } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT_BOOK_TYPES, listAccountBook } from "../../src/gate/account-book";
import type { GateServices } from "../../src/gate/call";
import { CountdownCancels } from "../../src/gate/countdown";
import { MarketDirectory } from "../../src/gate/market-directory";
import { SettledOrders } from "../../src/gate/settled-orders";
import { type ApiFixture, startApiFixture } from "../api-fixture";

let f: ApiFixture;
let services: GateServices;
let trader: bigint;
const orders: Record<string, string> = {};

type Row = {
  id: string;
  time: number;
  currency: string;
  change: string;
  balance: string;
  type: string;
  code: string;
  text: string;
};

async function settle(events: Array<(seq: bigint) => SettlementEvent>) {
  const last = await f.db.execute<{ last_seq: bigint }>(
    sql`SELECT last_seq FROM market_sequences WHERE market = 'BTC_USDT'`,
  );
  const first = (last.rows[0]?.last_seq ?? 0n) + 1n;
  const result = await applySettlementBatch(
    f.db,
    "BTC_USDT",
    events.map((event, i) => event(first + BigInt(i))),
  );
  expect(result.ok).toBe(true);
}

beforeAll(async () => {
  f = await startApiFixture();
  const log = logger("account-book-test");
  services = {
    db: f.db,
    redis: f.redis,
    names: f.names,
    trading: f.trading,
    markets: new MarketDirectory(f.db, f.halts),
    settled: new SettledOrders({ redis: f.redis, names: f.names, log }),
    countdowns: new CountdownCancels({
      redis: f.redis,
      names: f.names,
      db: f.db,
      trading: f.trading,
      log,
    }),
    log,
    cancelWaitMs: 100,
  };
  trader = (await f.createUser()).id;
  const maker = (await f.createUser()).id;
  await deposit(f.db, { userId: trader, asset: "USDT", amount: 1_000_000_000n, ref: "wire-7" });
  await f.fund(maker, "BTC", 100_000_000n);
  // A bid the engine rejects, then one that buys 0.01 BTC at 30,000 from a resting ask.
  const place = (userId: bigint, side: "buy" | "sell", priceTicks: bigint) =>
    placeOrderHold(f.db, {
      userId,
      market: "BTC_USDT",
      side,
      type: "limit",
      priceTicks,
      amount: 100n,
    }).then((placed) => placed.order);
  const refused = await place(trader, "buy", 2_900_000n);
  await settle([(seq) => ({ kind: "order_rejected", seq, orderId: refused.id, reason: "band" })]);
  const ask = await place(maker, "sell", 3_000_000n);
  const bid = await place(trader, "buy", 3_000_000n);
  await settle([
    (seq) => ({
      kind: "trade",
      seq,
      tradeId: 1n,
      makerOrderId: ask.id,
      takerOrderId: bid.id,
      makerUserId: maker,
      takerUserId: trader,
      takerSide: "buy",
      priceTicks: 3_000_000n,
      qtyLots: 100n,
      quoteAmount: 300_000_000n,
      time: new Date("2025-01-02T03:04:05Z"),
    }),
  ]);
  orders.refused = String(refused.id);
  orders.bid = String(bid.id);
}, 60_000);
afterAll(async () => {
  await f?.stop();
});

/** The endpoint's answer to a query string, as its signed caller. */
async function book(query = ""): Promise<Row[]> {
  const answer = await listAccountBook({
    services,
    params: {},
    query: Object.fromEntries(new URLSearchParams(query)),
    body: undefined,
    caller: {
      userId: trader,
      keyId: 1n,
      key: randomUUID(),
      permissions: ["read"],
      userStatus: "active",
    },
  });
  expect(answer.status).toBe(200);
  return answer.body as Row[];
}

const shown = (rows: Row[]) => rows.map((r) => [r.currency, r.type, r.code, r.change, r.balance]);

describe("GET /spot/account_book", () => {
  it("lists the available balance's changes newest first, as gate.io writes them", async () => {
    const rows = await book();
    expect(shown(rows)).toEqual([
      // The fill: 0.01 BTC bought, then the taker's fee of 0.2 % (0.00002 BTC) on its own row.
      ["BTC", "order_fee", "205", "-0.00002", "0.00998"],
      ["BTC", "order_fill", "204", "0.01", "0.01"],
      ["USDT", "new_order", "201", "-300", "700"],
      ["USDT", "order_rej", "203", "290", "1000"],
      ["USDT", "new_order", "201", "-290", "710"],
      ["USDT", "deposit", "101", "1000", "1000"],
    ]);
    expect(rows.map((r) => r.text)).toEqual([
      orders.bid,
      orders.bid,
      orders.bid,
      orders.refused,
      orders.refused,
      "wire-7",
    ]);
    for (const row of rows) {
      expect(row.id).toMatch(/^[1-9]\d*$/);
      expect(Number.isSafeInteger(row.time)).toBe(true);
    }
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    // The fee's row is its fill's entry, one up.
    expect(BigInt(rows[0]?.id ?? 0) - BigInt(rows[1]?.id ?? 0)).toBe(1n);
  });

  it("filters by currency, type and code — the code winning — and pages", async () => {
    const all = await book();
    expect(shown(await book("currency=BTC"))).toEqual(shown(all.slice(0, 2)));
    expect(shown(await book("type=new_order"))).toEqual([
      ["USDT", "new_order", "201", "-300", "700"],
      ["USDT", "new_order", "201", "-290", "710"],
    ]);
    expect(shown(await book("code=205"))).toEqual([
      ["BTC", "order_fee", "205", "-0.00002", "0.00998"],
    ]);
    expect(shown(await book("type=deposit&code=203"))).toEqual([
      ["USDT", "order_rej", "203", "290", "1000"],
    ]);
    // Types and codes spotx never writes are no rows, not an error.
    expect(await book("type=margin_in")).toEqual([]);
    expect(await book("code=999")).toEqual([]);
    expect(await book("currency=ETH")).toEqual([]);
    expect(await book("limit=2&page=2")).toEqual(all.slice(2, 4));
    expect(await book("limit=4&page=2")).toEqual(all.slice(4));
    expect(await book("limit=4&page=3")).toEqual([]);
  });

  it("reads the 7 days up to `to` without `from`, and at most 30 days", async () => {
    const all = await book();
    const newest = Math.floor((all[0]?.time ?? 0) / 1000);
    const oldest = Math.floor((all.at(-1)?.time ?? 0) / 1000);
    expect(await book(`from=${oldest}&to=${newest}`)).toEqual(all);
    expect(await book(`to=${newest}`)).toEqual(all);
    expect(await book(`to=${oldest - 1}`)).toEqual([]);
    expect(await book(`from=${newest + 1}&to=${newest + 1}`)).toEqual([]);
    // A `from` after now without a `to` is an empty range, not a refusal.
    expect(await book(`from=${newest + 3_600}`)).toEqual([]);
    // Exactly 30 days is allowed.
    expect(await book(`from=${newest - 30 * 86_400}&to=${newest}`)).toEqual(all);
  });

  it("refuses a malformed query with gate.io's label, naming what is wrong", async () => {
    const refused = (query: string, message: RegExp, label = "INVALID_PARAM_VALUE") =>
      expect(book(query), query).rejects.toMatchObject({
        label,
        message: expect.stringMatching(message),
      });
    await refused("from=1000&to=999", /from must not be after to/);
    await refused(`from=1000&to=${1000 + 30 * 86_400 + 1}`, /at most 30 days/);
    await refused(`from=${Math.floor(Date.now() / 1000) - 40 * 86_400}`, /at most 30 days/);
    await refused("page=102&limit=1000", /at most 100000/);
    await refused("limit=1001", /invalid limit/);
    await refused("limit=0", /invalid limit/);
    await refused("page=0", /invalid page/);
    await refused("from=-1", /invalid from/);
    await refused("to=1.5", /invalid to/);
    await refused("type=new-order", /invalid type/);
    await refused("type=", /invalid type/);
    await refused(`code=${"9".repeat(33)}`, /invalid code/);
    await refused("currency=DOGE", /unknown currency/);
    await refused("currency_pair=BTC_USDT", /unknown parameter/);
  });

  it("gives every ledger source a type and a code, and each code one type", () => {
    const byCode = new Map<string, Set<string>>();
    for (const { type, code } of Object.values(ACCOUNT_BOOK_TYPES)) {
      byCode.set(code, (byCode.get(code) ?? new Set()).add(type));
    }
    for (const [code, types] of byCode) expect([code, types.size]).toEqual([code, 1]);
  });
});
