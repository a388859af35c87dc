// Cancels are group-committed: concurrent cancel requests are answered each on its own — the
// order as it stands, ORDER_NOT_FOUND (unknown, another user's, another market's) or
// CLIENT_ID_NOT_FOUND (a client text that names none of the user's orders there), ORDER_CLOSED
// (already ended) — from one statement that finds the batch's orders and queues the commands of
// the live ones; cancel-alls ride in it, and the relay is woken after the commit.
import { randomUUID } from "node:crypto";
import {
  applySettlementBatch,
  type Database,
  DEMO_ASSETS,
  DEMO_MARKETS,
  isLedgerError,
  schema,
} from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { type Topology, topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TradingService } from "../src/trading/trading-service";
import { fundedTrader } from "./funded-trader";

let test: TestDatabase;
let names: Topology;
const statements: string[] = [];
let counted: Database;

beforeAll(async () => {
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
  counted = drizzle(test.pool, {
    schema,
    logger: { logQuery: (query) => statements.push(query) },
  });
});
afterAll(async () => {
  await test?.drop();
});

const trading = () =>
  new TradingService({
    db: counted,
    names,
    halts: { get: () => ({ halted: false, reason: null }) },
    cacheMs: 600_000,
  });

const trader = () => fundedTrader(test.db);

const labelOf = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === "fulfilled"
    ? "cancelled"
    : isLedgerError(outcome.reason)
      ? outcome.reason.label
      : String(outcome.reason);

describe("cancels, group-committed", () => {
  it("answers 45 concurrent cancels each on its own, from one statement for the batch", async () => {
    const service = trading();
    const alice = await trader();
    const bob = await trader();
    const bid = (price: string, text?: string) => ({
      market: "BTC_USDT",
      side: "buy" as const,
      amount: "0.001",
      price,
      ...(text ? { text } : {}),
    });
    const placed = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        service.placeOrder(alice, bid(`${20_000 + i}`, i === 0 ? "t-by-text" : undefined)),
      ),
    );
    const ids = placed.map((p) => p.order.id);
    const bobs = (await service.placeOrder(bob, bid("19000"))).order.id;
    // Five of Alice's orders have ended already (the engine cancelled them, settlement applied it).
    const ended = ids.slice(35);
    const last = await test.db.execute<{ last_seq: bigint }>(
      sql`SELECT last_seq FROM market_sequences WHERE market = 'BTC_USDT'`,
    );
    let seq = last.rows[0]?.last_seq ?? 0n;
    const events = ended.flatMap((orderId) => [
      { kind: "order_accepted" as const, seq: ++seq, orderId },
      { kind: "order_finished" as const, seq: ++seq, orderId, finishAs: "cancelled" as const },
    ]);
    expect(await applySettlementBatch(test.db, "BTC_USDT", events)).toMatchObject({ ok: true });

    const listener = await test.pool.connect();
    const woken = new Promise<void>((resolve) => listener.once("notification", () => resolve()));
    await listener.query(`LISTEN ${names.postgres.outboxChannel}`);
    const before = await test.db.execute<{ id: bigint }>(
      sql`SELECT coalesce(max(id), 0) AS id FROM outbox`,
    );
    statements.length = 0;

    const cancel = (user: bigint, orderId: string, market = "BTC_USDT") =>
      service.cancelOrder(user, { market, orderId });
    const live = ids.slice(1, 35);
    const outcomes = await Promise.allSettled([
      ...live.map((id) => cancel(alice, String(id))),
      cancel(alice, "t-by-text"),
      ...ended.map((id) => cancel(alice, String(id))),
      cancel(alice, "999999998"),
      cancel(alice, "t-never-used"),
      cancel(alice, String(bobs)), // Bob's order
      cancel(alice, String(ids[1]), "ETH_USDT"), // Alice's, but not in that market
      service.cancelAll(bob, { market: "BTC_USDT" }),
    ]);
    await woken;
    listener.release();

    expect(outcomes.map(labelOf)).toEqual([
      ...live.map(() => "cancelled"),
      "cancelled",
      ...ended.map(() => "ORDER_CLOSED"),
      "ORDER_NOT_FOUND",
      "CLIENT_ID_NOT_FOUND",
      "ORDER_NOT_FOUND",
      "ORDER_NOT_FOUND",
      "cancelled",
    ]);
    // Each answer is the order as it stood: live ones still pending (the engine ends them).
    const answered = outcomes.slice(0, 35).map((o) => (o.status === "fulfilled" ? o.value : null));
    expect(answered.map((o) => o && !Array.isArray(o) && o.id)).toEqual([...live, ids[0]]);
    expect(answered.every((o) => o && !Array.isArray(o) && o.status === "pending")).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({ status: "fulfilled", value: [{ id: bobs }] });

    // One cancel command per live order, and Bob's cancel-all; nothing for the refusals.
    const queued = await test.db.execute<{ payload: { command: Record<string, unknown> } }>(
      sql`SELECT payload FROM outbox WHERE id > ${before.rows[0]?.id ?? 0n} ORDER BY id`,
    );
    const commands = queued.rows.map((r) => r.payload.command);
    expect(
      commands
        .filter((c) => c.type === "cancel")
        .map((c) => BigInt(Number(c.orderId)))
        .sort((a, b) => (a < b ? -1 : 1)),
    ).toEqual(ids.slice(0, 35).sort((a, b) => (a < b ? -1 : 1)));
    expect(commands.filter((c) => c.type === "cancelAll")).toEqual([
      expect.objectContaining({ userId: Number(bob) }),
    ]);
    expect(commands).toHaveLength(36);

    // The 44 cancels took one statement (finding the orders and queueing the commands of the
    // live ones) and one lookup of the two named by client text; the cancel-all's command came
    // in that statement or, after it read Bob's live orders, in the next batch's.
    const kinds = statements.map((s) => s.replace(/\s+/g, " ").trim());
    expect(
      kinds.filter((s) => /^SELECT DISTINCT ON \(o\.user_id, o\.market, o\.text\)/.test(s)),
    ).toHaveLength(1);
    const writes = kinds.filter((s) => /^WITH r AS MATERIALIZED/i.test(s)).length;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(2);
  });
});
