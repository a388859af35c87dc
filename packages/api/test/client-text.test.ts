// gate.io's `text` is a label, not a key (GATE_API_MORE.md): every order that carries it is an
// order of its own, and a lookup or a cancel by text acts on the user's newest order with it in
// the pair — while that order is live, and for an hour after it finished; past that the text
// names nothing (CLIENT_ID_NOT_FOUND), though the order is still found by its id.
import { randomUUID } from "node:crypto";
import { DEMO_ASSETS, DEMO_MARKETS, isLedgerError, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { type Topology, topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TradingService } from "../src/trading/trading-service";
import { fundedTrader } from "./funded-trader";

let test: TestDatabase;
let names: Topology;

beforeAll(async () => {
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
});
afterAll(async () => {
  await test?.drop();
});

const trader = () => fundedTrader(test.db);

/** Stands for settlement ending the order (cancelled) at `at`. */
async function finish(orderId: bigint, at: Date) {
  await test.db.execute(sql`
    UPDATE orders SET status = 'cancelled', finish_as = 'cancelled', hold_remaining = 0, updated_at = ${at.toISOString()}::timestamptz
     WHERE id = ${orderId}`);
}

const labelOf = (error: unknown) => (isLedgerError(error) ? error.label : String(error));
const MINUTE = 60_000;

describe("a client text", () => {
  it("names the newest live order, then a finished one for an hour, then nothing", async () => {
    const start = Date.now();
    let now = start;
    const trading = new TradingService({
      db: test.db,
      names,
      halts: { get: () => ({ halted: false, reason: null }) },
      now: () => now,
    });
    const userId = await trader();
    const bid = (price: string) =>
      trading.placeOrder(userId, {
        market: "BTC_USDT",
        side: "buy",
        price,
        amount: "0.001",
        text: "t-strategy",
      });
    const older = (await bid("20000")).order;
    const newer = (await bid("20001")).order;
    expect(newer.id).not.toBe(older.id);
    // Another pair's order with the same text is not the one the pair's lookups find.
    await trading.placeOrder(userId, {
      market: "ETH_USDT",
      side: "buy",
      price: "1000",
      amount: "0.01",
      text: "t-strategy",
    });

    expect((await trading.findOrder(userId, "BTC_USDT", "t-strategy")).id).toBe(newer.id);
    const cancelled = await trading.cancelOrder(userId, {
      market: "BTC_USDT",
      orderId: "t-strategy",
    });
    expect(cancelled.id).toBe(newer.id);
    const queued = await test.db.execute<{ payload: { command: { orderId: number } } }>(
      sql`SELECT payload FROM outbox WHERE payload->'command'->>'type' = 'cancel' ORDER BY id DESC LIMIT 1`,
    );
    expect(queued.rows[0]?.payload.command.orderId).toBe(Number(newer.id));

    await finish(newer.id, new Date(start));
    now = start + 59 * MINUTE;
    expect((await trading.findOrder(userId, "BTC_USDT", "t-strategy")).id).toBe(newer.id);

    // An hour after the newer finished, the text names the older, still live.
    now = start + 61 * MINUTE;
    expect((await trading.findOrder(userId, "BTC_USDT", "t-strategy")).id).toBe(older.id);

    await finish(older.id, new Date(start + 5 * MINUTE));
    now = start + 66 * MINUTE;
    const gone = await Promise.allSettled([
      trading.findOrder(userId, "BTC_USDT", "t-strategy"),
      trading.cancelOrder(userId, { market: "BTC_USDT", orderId: "t-strategy" }),
    ]);
    expect(gone.map((g) => (g.status === "rejected" ? labelOf(g.reason) : "found"))).toEqual([
      "CLIENT_ID_NOT_FOUND",
      "CLIENT_ID_NOT_FOUND",
    ]);
    // By id, both are still there.
    expect((await trading.findOrder(userId, "BTC_USDT", String(older.id))).status).toBe(
      "cancelled",
    );
  });
});
