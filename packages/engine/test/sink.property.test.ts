// The allocation-free sink path and the plain-object API must carry the same events: every
// sink call, rebuilt by field name independently of EventCollector, equals process()'s event.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MatchingEngine } from "../src/engine";
import type { EventSink } from "../src/events";
import type { EngineEvent } from "../src/types";
import { commandSequence, PROPERTY_MARKET } from "./arbitraries";

/** Rebuilds plain events from raw sink arguments, independently of EventCollector. */
class RawSink implements EventSink {
  readonly rows: unknown[][] = [];
  accepted(...args: unknown[]) {
    this.rows.push(["accepted", ...args]);
  }
  rejected(...args: unknown[]) {
    this.rows.push(["rejected", ...args]);
  }
  trade(...args: unknown[]) {
    this.rows.push(["trade", ...args]);
  }
  cancelled(...args: unknown[]) {
    this.rows.push(["cancelled", ...args]);
  }
  amended(...args: unknown[]) {
    this.rows.push(["amended", ...args]);
  }
  triggered(...args: unknown[]) {
    this.rows.push(["triggered", ...args]);
  }
  fired(...args: unknown[]) {
    this.rows.push(["fired", ...args]);
  }
  level(...args: unknown[]) {
    this.rows.push(["level", ...args]);
  }
  halted(...args: unknown[]) {
    this.rows.push(["halted", ...args]);
  }
  resumed(...args: unknown[]) {
    this.rows.push(["resumed", ...args]);
  }
  delisted(...args: unknown[]) {
    this.rows.push(["delisted", ...args]);
  }
  rulesChanged(...args: unknown[]) {
    this.rows.push(["rulesChanged", ...args]);
  }
}

const FIELDS: Record<string, string[]> = {
  accepted: [
    "seq",
    "time",
    "orderId",
    "userId",
    "side",
    "orderType",
    "price",
    "quantity",
    "quoteAmount",
    "timeInForce",
    "stopPrice",
    "trigger",
    "stpAct",
    "stpGroup",
    "text",
  ],
  rejected: ["seq", "time", "command", "orderId", "userId", "reason"],
  trade: [
    "seq",
    "time",
    "makerOrderId",
    "takerOrderId",
    "makerUserId",
    "takerUserId",
    "price",
    "quantity",
    "quoteAmount",
    "takerSide",
    "makerLeft",
    "takerLeft",
  ],
  cancelled: ["seq", "time", "orderId", "userId", "side", "price", "left", "reason"],
  amended: [
    "seq",
    "time",
    "orderId",
    "userId",
    "side",
    "price",
    "quantity",
    "oldPrice",
    "oldQuantity",
    "keptPriority",
  ],
  triggered: ["seq", "time", "orderId", "userId", "side", "stopPrice", "lastPrice"],
  level: ["seq", "time", "side", "price", "quantity"],
  halted: ["seq", "time"],
  resumed: ["seq", "time"],
  delisted: ["seq", "time", "cancelled", "disarmed"],
  rulesChanged: [
    "seq",
    "time",
    "priceStep",
    "quantityStep",
    "minQuantity",
    "minNotional",
    "priceBandBps",
    "makerFeePpm",
    "takerFeePpm",
  ],
};

describe("the low-allocation sink path", () => {
  it("carries exactly the fields of the plain-object events, in the same order", () => {
    fc.assert(
      fc.property(commandSequence(120), (commands) => {
        const plain = new MatchingEngine(PROPERTY_MARKET);
        const raw = new MatchingEngine(PROPERTY_MARKET);
        const sink = new RawSink();
        const events: EngineEvent[] = [];
        for (const command of commands) {
          events.push(...plain.process(command));
          raw.apply(command, sink);
        }
        const rebuilt = sink.rows.map(([type, ...args]) => {
          const names = FIELDS[type as string] ?? [];
          expect(args.length).toBe(names.length);
          const event: Record<string, unknown> = { type };
          names.forEach((name, i) => {
            event[name] = args[i];
          });
          return event;
        });
        const withoutMessages = events.map((event) => {
          if (event.type !== "rejected") return event;
          const { message: _message, ...rest } = event;
          return rest;
        });
        expect(rebuilt).toEqual(withoutMessages);
      }),
      { numRuns: 500 },
    );
  });
});
