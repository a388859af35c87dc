// The flat structures under the engine against obviously correct ones: the two hash indexes
// against a Map (through growth and backward-shift deletes), the price ladder against a
// sorted array, and the engine growing its buffers far beyond their initial size.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MatchingEngine } from "../src/engine";
import { IdTable } from "../src/id-table";
import { PRICE_STRIDE, PriceLadder } from "../src/price-ladder";
import { SlotIndex } from "../src/slot-index";
import type { MarketConfig } from "../src/types";

// Keys near 2^32 and 2^53 too, so that the low-32-bit halves collide.
const key = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 1, max: 64 }).map((k) => k + 2 ** 32),
  fc.integer({ min: 1, max: 64 }).map((k) => 2 ** 53 - k),
  fc.integer({ min: 1, max: 2 ** 31 }),
);
const op = fc.tuple(fc.constantFrom("set", "delete", "get"), key);

describe("IdTable", () => {
  it("behaves like a Map under random sets, deletes and gets", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400, size: "max" }), (ops) => {
        const table = new IdTable(4);
        const map = new Map<number, number>();
        ops.forEach(([kind, k], i) => {
          if (kind === "set" && !map.has(k)) {
            table.set(k, i);
            map.set(k, i);
          } else if (kind === "delete") {
            table.delete(k);
            map.delete(k);
          }
          expect(table.get(k)).toBe(map.get(k) ?? -1);
        });
        expect(table.size).toBe(map.size);
        for (const [k, v] of map) expect(table.get(k)).toBe(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe("SlotIndex", () => {
  it("behaves like a Map, confirming hits against the keys stored in the records", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400, size: "max" }), (ops) => {
        const index = new SlotIndex(4);
        const stride = 3;
        const records = new Float64Array(1024 * stride);
        const free: number[] = [];
        let high = 0;
        const map = new Map<number, number>();
        for (const [kind, k] of ops) {
          if (kind === "set" && !map.has(k)) {
            const slot = free.pop() ?? high++;
            records[slot * stride] = k;
            index.set(k, slot, records, stride);
            map.set(k, slot);
          } else if (kind === "delete" && map.has(k)) {
            const slot = map.get(k) ?? -1;
            index.delete(k, slot, records, stride);
            map.delete(k);
            records[slot * stride] = -1; // a freed record no longer holds the key
            free.push(slot);
          }
          expect(index.get(k, records, stride)).toBe(map.get(k) ?? -1);
        }
        expect(index.size).toBe(map.size);
        for (const [k, v] of map) expect(index.get(k, records, stride)).toBe(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe("PriceLadder", () => {
  it("keeps levels sorted best-last and finds each by price, for bids and asks", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 600 })), {
          maxLength: 500,
          size: "max",
        }),
        (isBid, ops) => {
          const ladder = new PriceLadder(isBid, 2);
          const prices = new Float64Array(4096 * PRICE_STRIDE);
          const held = new Map<number, number>();
          let next = 0;
          for (const [add, price] of ops) {
            if (add && !held.has(price)) {
              const level = next++;
              prices[level * PRICE_STRIDE] = price;
              ladder.add(price, level, prices);
              held.set(price, level);
            } else if (!add && held.has(price)) {
              ladder.remove(price, prices);
              held.delete(price);
            }
          }
          const sorted = [...held.keys()].sort((a, b) => (isBid ? a - b : b - a));
          expect(Array.from(ladder.levels.subarray(0, ladder.length))).toEqual(
            sorted.map((p) => held.get(p)),
          );
          for (const [price, level] of held) expect(ladder.find(price, prices)).toBe(level);
          expect(ladder.best()).toBe(sorted.length === 0 ? -1 : held.get(sorted.at(-1) ?? 0));
          if (ladder.length > 0) {
            const best = sorted.at(-1) ?? 0;
            ladder.removeBest(prices);
            expect(ladder.find(best, prices)).toBe(-1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("engine growth", () => {
  it("grows orders, levels, users and indexes far past their initial sizes and stays consistent", () => {
    const config: MarketConfig = {
      symbol: "GROW_USD",
      tickSize: "1",
      lotSize: "1",
      baseDecimals: 0,
      quoteDecimals: 0,
      minNotional: 0,
      maxPrice: 1_000_000,
      maxQuantity: 100_000,
      priceBandBps: 0,
      maxOpenOrdersPerUser: 100,
    };
    const engine = new MatchingEngine(config, { initialCapacity: 16 });
    let id = 1;
    // 6,000 bids over 3,000 levels from 600 users, placed in a scattered price order.
    for (let i = 0; i < 6_000; i++) {
      const price = 100_000 - ((i * 7919) % 3_000);
      engine.process({
        type: "place",
        time: i,
        orderId: id++,
        userId: 1 + (i % 600),
        side: "buy",
        orderType: "limit",
        price,
        quantity: 1 + (i % 5),
      });
    }
    engine.assertInvariants();
    expect(engine.orderCount).toBe(6_000);
    expect(engine.depth().bids).toHaveLength(3_000);
    expect(engine.bestBid()).toBe(100_000);
    // Cancel every third order, then sweep half the book with one sell.
    for (let orderId = 1; orderId < id; orderId += 3) {
      engine.process({ type: "cancel", time: 0, orderId, userId: 1 + ((orderId - 1) % 600) });
    }
    engine.assertInvariants();
    const before = engine.depth().bids;
    const half = before.slice(0, 1_500).reduce((sum, [, q]) => sum + q, 0);
    const events = engine.process({
      type: "place",
      time: 1,
      orderId: id++,
      userId: 9_999,
      side: "sell",
      orderType: "market",
      quantity: half,
    });
    expect(events.at(-1)?.type).toBe("level");
    expect(engine.depth().bids).toEqual(before.slice(1_500));
    engine.assertInvariants();
    const restored = MatchingEngine.fromSnapshot(engine.snapshot());
    expect(restored.depth()).toEqual(engine.depth());
  });
});
