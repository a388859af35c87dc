// Answers are counted by kind and label; an ack is timed from the due time (so a command that
// started late carries its delay), the service time from the call; tallies from several
// processes merge into one.
import { describe, expect, it } from "vitest";
import { OutcomeTally } from "../src/tally";
import type { OpOutcome } from "../src/traders";

const outcome = (o: Partial<OpOutcome>): OpOutcome => ({
  kind: "rest",
  market: "BTC_USDT",
  calledMs: 100,
  doneMs: 112,
  error: null,
  orderId: 1n,
  probe: null,
  ...o,
});

describe("a phase's tally", () => {
  it("times a placement's ack from its due time and its service time from the call", () => {
    const tally = new OutcomeTally();
    tally.record(outcome({ calledMs: 100, doneMs: 112 }), 90);
    expect(tally.placed).toBe(1);
    expect(tally.ack.summary().max_ms).toBe(22);
    expect(tally.ackService.summary().max_ms).toBe(12);
  });

  it("counts a cancel of a filled order apart from refusals, and refusals by label", () => {
    const tally = new OutcomeTally();
    tally.record(outcome({ kind: "cancel", orderId: null }), 100);
    tally.record(outcome({ kind: "cancel", orderId: null, error: "ORDER_CLOSED" }), 100);
    tally.record(outcome({ kind: "cross", orderId: null, error: "BALANCE_NOT_ENOUGH" }), 100);
    tally.record(outcome({ kind: "rest", orderId: null, error: "NETWORK_ECONNRESET" }), 100);
    expect(tally.cancels).toBe(1);
    expect(tally.alreadyClosed).toBe(1);
    expect(tally.refused).toEqual({ BALANCE_NOT_ENOUGH: 1, NETWORK_ECONNRESET: 1 });
    expect(tally.refusedTotal).toBe(2);
    expect(tally.placed).toBe(0);
  });

  it("merges another process' tally, samples included", () => {
    const here = new OutcomeTally();
    here.record(outcome({ doneMs: 105 }), 100);
    const there = new OutcomeTally();
    there.record(outcome({ doneMs: 300 }), 100);
    there.record(outcome({ kind: "cancel", orderId: null, error: "ORDER_NOT_FOUND" }), 100);
    here.merge(structuredClone(there.toWire()));
    expect(here.placed).toBe(2);
    expect(here.ack.summary()).toMatchObject({ count: 2, max_ms: 200 });
    expect(here.refused).toEqual({ ORDER_NOT_FOUND: 1 });
  });
});
