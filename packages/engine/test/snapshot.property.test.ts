// Snapshot + restore at a random point, then continuing, must give byte-for-byte the events
// the uninterrupted engine gives; and the same commands always give the same bytes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EngineSnapshot, MatchingEngine } from "../src/engine";
import type { Command } from "../src/types";
import { commandSequence, PROPERTY_MARKET } from "./arbitraries";

function runAll(engine: MatchingEngine, commands: readonly Command[]): string {
  return JSON.stringify(commands.map((command) => engine.process(command)));
}

describe("snapshot and restore", () => {
  it("continues after a restore exactly as the original engine does", () => {
    fc.assert(
      fc.property(commandSequence(120), fc.nat(), (commands, cut) => {
        const at = cut % (commands.length + 1);
        const original = new MatchingEngine(PROPERTY_MARKET, { checkInvariants: true });
        runAll(original, commands.slice(0, at));
        const bytes = JSON.stringify(original.snapshot());
        const restored = MatchingEngine.fromSnapshot(JSON.parse(bytes) as EngineSnapshot, {
          checkInvariants: true,
        });
        expect(JSON.stringify(restored.snapshot())).toBe(bytes);
        const rest = commands.slice(at);
        expect(runAll(restored, rest)).toBe(runAll(original, rest));
        expect(restored.snapshot()).toEqual(original.snapshot());
      }),
      { numRuns: 2000 },
    );
  });

  it("is deterministic: the same commands from the same state give the same bytes", () => {
    fc.assert(
      fc.property(commandSequence(120), (commands) => {
        const a = runAll(new MatchingEngine(PROPERTY_MARKET), commands);
        const b = runAll(new MatchingEngine(PROPERTY_MARKET), commands);
        expect(a).toBe(b);
      }),
      { numRuns: 500 },
    );
  });

  it("rejects a corrupted snapshot instead of restoring a broken book", () => {
    const engine = new MatchingEngine(PROPERTY_MARKET);
    engine.process({
      type: "place",
      time: 1,
      orderId: 1,
      userId: 1,
      side: "buy",
      orderType: "limit",
      price: 99,
      quantity: 5,
    });
    engine.process({
      type: "place",
      time: 2,
      orderId: 2,
      userId: 2,
      side: "sell",
      orderType: "limit",
      price: 101,
      quantity: 5,
    });
    const good = engine.snapshot();
    const crossed: EngineSnapshot = {
      ...good,
      asks: [{ ...(good.asks[0] as EngineSnapshot["asks"][0]), price: 98 }],
    };
    expect(() => MatchingEngine.fromSnapshot(crossed)).toThrow(/crossed/);
    const duplicate: EngineSnapshot = {
      ...good,
      asks: [{ ...(good.asks[0] as EngineSnapshot["asks"][0]), orderId: 1 }],
    };
    expect(() => MatchingEngine.fromSnapshot(duplicate)).toThrow(/duplicate/);
    expect(() =>
      MatchingEngine.fromSnapshot({ ...good, version: 2 } as unknown as EngineSnapshot),
    ).toThrow();
  });
});
