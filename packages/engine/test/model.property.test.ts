// The engine against the reference model, over thousands of random command sequences:
// identical events, continuous sequence numbers, an L2 book rebuilt from events alone,
// and conservation of base and quote on every trade.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MatchingEngine } from "../src/engine";
import type { EngineEvent } from "../src/types";
import { commandSequence, modelLimits, PROPERTY_MARKET } from "./arbitraries";
import { ReferenceBook } from "./reference-model";

const limits = modelLimits(PROPERTY_MARKET);

describe("engine vs reference model", () => {
  it("gives identical events for random command sequences", () => {
    fc.assert(
      fc.property(commandSequence(120), (commands) => {
        const engine = new MatchingEngine(PROPERTY_MARKET, { checkInvariants: true });
        const model = new ReferenceBook(PROPERTY_MARKET, limits);
        for (const command of commands) {
          const expected = model.process(command);
          const actual = engine.process(command);
          expect(actual).toEqual(expected);
          expect(engine.depth()).toEqual(model.depth());
        }
      }),
      { numRuns: 4000 },
    );
  });

  it("numbers events 1, 2, 3, … with no gap or repeat, and L2 follows from level events", () => {
    fc.assert(
      fc.property(commandSequence(150), (commands) => {
        const engine = new MatchingEngine(PROPERTY_MARKET);
        const bids = new Map<number, number>();
        const asks = new Map<number, number>();
        let expectedSeq = 1;
        for (const command of commands) {
          for (const event of engine.process(command)) {
            expect(event.seq).toBe(expectedSeq);
            expectedSeq += 1;
            if (event.type === "level") {
              const side = event.side === "buy" ? bids : asks;
              if (event.quantity === 0) side.delete(event.price);
              else side.set(event.price, event.quantity);
            }
          }
          const rebuilt = {
            bids: [...bids].sort((a, b) => b[0] - a[0]),
            asks: [...asks].sort((a, b) => a[0] - b[0]),
          };
          expect(rebuilt).toEqual(engine.depth());
        }
        expect(engine.seq).toBe(expectedSeq - 1);
      }),
      { numRuns: 1000 },
    );
  });

  it("conserves base and quote on every trade and accounts for every order's quantity", () => {
    const qptl = BigInt(limits.quotePerTickLot);
    fc.assert(
      fc.property(commandSequence(150), (commands) => {
        const engine = new MatchingEngine(PROPERTY_MARKET);
        // What each open order has left, rebuilt from events: lots, or quote for market buys.
        const left = new Map<number, number>();
        const byQuote = new Set<number>();
        const baseDelta = new Map<number, bigint>();
        const quoteDelta = new Map<number, bigint>();
        const add = (m: Map<number, bigint>, user: number, v: bigint) =>
          m.set(user, (m.get(user) ?? 0n) + v);
        const events: EngineEvent[] = [];
        for (const command of commands) events.push(...engine.process(command));
        for (const event of events) {
          switch (event.type) {
            case "accepted":
              left.set(event.orderId, event.quoteAmount > 0 ? event.quoteAmount : event.quantity);
              if (event.quoteAmount > 0) byQuote.add(event.orderId);
              else byQuote.delete(event.orderId);
              break;
            case "trade": {
              // The fill's quote is exactly price × quantity × quotePerTickLot.
              expect(BigInt(event.quoteAmount)).toBe(
                BigInt(event.price) * BigInt(event.quantity) * qptl,
              );
              expect(event.quantity).toBeGreaterThan(0);
              const maker = left.get(event.makerOrderId);
              const taker = left.get(event.takerOrderId);
              expect(maker).toBeDefined();
              expect(taker).toBeDefined();
              expect(event.makerLeft).toBe((maker ?? 0) - event.quantity);
              const takerSpent = byQuote.has(event.takerOrderId)
                ? event.quoteAmount
                : event.quantity;
              expect(event.takerLeft).toBe((taker ?? 0) - takerSpent);
              expect(event.takerLeft).toBeGreaterThanOrEqual(0);
              if (event.makerLeft === 0) left.delete(event.makerOrderId);
              else left.set(event.makerOrderId, event.makerLeft);
              if (event.takerLeft === 0) left.delete(event.takerOrderId);
              else left.set(event.takerOrderId, event.takerLeft);
              const buyer = event.takerSide === "buy" ? event.takerUserId : event.makerUserId;
              const seller = event.takerSide === "buy" ? event.makerUserId : event.takerUserId;
              add(baseDelta, buyer, BigInt(event.quantity));
              add(baseDelta, seller, -BigInt(event.quantity));
              add(quoteDelta, buyer, -BigInt(event.quoteAmount));
              add(quoteDelta, seller, BigInt(event.quoteAmount));
              break;
            }
            case "amended":
              expect(left.get(event.orderId)).toBe(event.oldQuantity);
              left.set(event.orderId, event.quantity);
              break;
            case "cancelled":
              expect(left.get(event.orderId)).toBe(event.left);
              left.delete(event.orderId);
              break;
            default:
              break;
          }
        }
        // Every asset sums to zero over users: nothing created or destroyed.
        expect([...baseDelta.values()].reduce((a, b) => a + b, 0n)).toBe(0n);
        expect([...quoteDelta.values()].reduce((a, b) => a + b, 0n)).toBe(0n);
        // What events say is still open is exactly what the engine holds.
        for (const [orderId, remaining] of left) {
          expect(engine.getOrder(orderId)?.left).toBe(remaining);
        }
        expect(left.size).toBe(engine.orderCount);
      }),
      { numRuns: 1000 },
    );
  });
});
