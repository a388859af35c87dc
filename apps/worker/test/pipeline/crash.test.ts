// Crash, exactly once: 20,000 random orders and cancels from several users stream into two
// markets; the worker is killed with SIGKILL in the middle and a new one started. When the
// stream has drained, every order is in exactly one final or resting state, no trade settled
// twice, the ledger is whole, and each engine book equals the open orders in PostgreSQL.

import type { PlaceOrderRequest } from "@spotx/api";
import { formatMinor, isLedgerError } from "@spotx/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained, expectBookMatchesDatabase, expectExactlyOnce } from "./drain";
import { type Exchange, startExchange } from "./exchange";

const ACTIONS = 20_000;
const USERS = 12;
const MARKETS = [
  { symbol: "BTC_USDT", midTicks: 3_000_000, minLots: 1, maxLots: 100 },
  { symbol: "ETH_USDT", midTicks: 200_000, minLots: 10, maxLots: 300 },
] as const;

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

describe("a worker killed in the middle of 20,000 orders and cancels", () => {
  it("loses nothing and doubles nothing", { timeout: 240_000 }, async () => {
    const { trading, db } = exchange;
    const first = exchange.startWorker({ env: { ENGINE_SNAPSHOT_EVERY: "2000" } });
    const users: bigint[] = [];
    for (let i = 0; i < USERS; i++) {
      const user = await exchange.createUser();
      await exchange.fund(user, "USDT", 5_000_000_000_000n); // 5,000,000 USDT
      await exchange.fund(user, "BTC", 20_000_000_000n); // 200 BTC
      await exchange.fund(user, "ETH", 300_000_000_000n); // 3,000 ETH
      users.push(user);
    }
    await first.port();

    const next = random(20_251_124);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const placed = new Map<bigint, string[]>(); // user → "market:id" of their orders
    const outcomes = { placed: 0, cancelRequests: 0, refused: 0 };
    let second: ReturnType<Exchange["startWorker"]> | undefined;

    const action = async (i: number) => {
      const user = pick(users);
      const market = pick(MARKETS);
      const mine = placed.get(user) ?? [];
      if (mine.length > 0 && next() < 0.25) {
        const [symbol, id] = (pick(mine) ?? "").split(":");
        outcomes.cancelRequests += 1;
        await trading.cancelOrder(user, { market: symbol ?? "", orderId: id ?? "" }).catch((e) => {
          if (!isLedgerError(e)) throw e; // ORDER_CLOSED: it filled or was cancelled already
        });
        return;
      }
      const side = next() < 0.5 ? "buy" : "sell";
      const offset = Math.floor((next() - 0.5) * market.midTicks * 0.01);
      const price = market.midTicks + offset;
      const lots = market.minLots + Math.floor(next() * (market.maxLots - market.minLots));
      const roll = next();
      let request: PlaceOrderRequest;
      if (roll < 0.9) {
        const tif = roll < 0.7 ? "gtc" : roll < 0.8 ? "ioc" : roll < 0.85 ? "poc" : "fok";
        request = {
          market: market.symbol,
          side,
          type: "limit",
          amount: formatMinor(BigInt(lots), 4),
          price: formatMinor(BigInt(price), 2),
          timeInForce: tif,
          ...(i % 7 === 0 ? { stpAct: "cn" as const } : {}),
        };
      } else if (side === "sell") {
        request = {
          market: market.symbol,
          side,
          type: "market",
          amount: formatMinor(BigInt(lots), 4),
        };
      } else {
        request = { market: market.symbol, side, type: "market", amount: String(100 + (i % 900)) };
      }
      try {
        const result = await trading.placeOrder(user, request);
        outcomes.placed += 1;
        mine.push(`${market.symbol}:${result.order.id}`);
        placed.set(user, mine);
      } catch (error) {
        if (!isLedgerError(error)) throw error;
        outcomes.refused += 1; // e.g. outside the price band after the price moved
      }
    };

    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < ACTIONS; i++) {
      if (i === ACTIONS / 2) {
        first.child.kill("SIGKILL");
        await first.exited;
        second = exchange.startWorker({ env: { ENGINE_SNAPSHOT_EVERY: "2000" } });
      }
      const work = action(i).finally(() => inFlight.delete(work));
      inFlight.add(work);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    expect(outcomes.placed).toBeGreaterThan(ACTIONS / 2);
    if (!second) throw new Error("the second worker never started");

    const port = await second.port();
    await drained(
      db,
      port,
      MARKETS.map((m) => m.symbol),
      180_000,
    );
    await expectExactlyOnce(db);

    // A graceful stop snapshots each book at exactly its settled state.
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    for (const market of MARKETS) await expectBookMatchesDatabase(db, market.symbol);
  });
});
