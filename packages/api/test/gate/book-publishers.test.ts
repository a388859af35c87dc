// The shared book publishers without a server: a book held in memory (what BookKeeper keeps),
// timers driven by the fake clock. One timer per key however many subscribe, the same text to
// each, and spot.obu's late joiner starts from a full view that the next shared delta continues.
import type { BookLevel } from "@spotx/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BookPublishers } from "../../src/gate/book-publishers";
import type { GateMarket } from "../../src/gate/market-directory";
import { MemoryBook, sink } from "./memory-book";

// Only the symbol is read by the publishers.
const BTC = { symbol: "BTC_USDT" } as GateMarket;

let book: MemoryBook;
let publishers: BookPublishers;

beforeEach(() => {
  vi.useFakeTimers();
  book = new MemoryBook();
  publishers = new BookPublishers(book);
});
afterEach(() => {
  publishers.close();
  vi.useRealTimers();
});

describe("book publishers", () => {
  it("serve every subscriber of a key from one timer with the same text, and stop with the last", () => {
    const subscribers = [sink(), sink(), sink()];
    const leave = subscribers.map((s) => publishers.fullBook(s.send, BTC, 5, 100));
    // Another depth is another key; the same market's deltas another channel.
    const other = sink();
    const leaveOther = publishers.fullBook(other.send, BTC, 10, 100);
    const updates = [sink(), sink()];
    const leaveUpdates = updates.map((s) => publishers.bookUpdates(s.send, BTC, 100));
    expect(publishers.timers()).toBe(3);
    expect(publishers.list()).toEqual([
      { channel: "spot.order_book", market: "BTC_USDT", depth: 5, everyMs: 100, subscribers: 3 },
      { channel: "spot.order_book", market: "BTC_USDT", depth: 10, everyMs: 100, subscribers: 1 },
      {
        channel: "spot.order_book_update",
        market: "BTC_USDT",
        depth: null,
        everyMs: 100,
        subscribers: 2,
      },
    ]);

    vi.advanceTimersByTime(20); // the welcome: the current book
    book.bid("99", "2");
    book.bid("98", "3");
    vi.advanceTimersByTime(100);
    for (const s of subscribers) {
      expect(s.texts).toHaveLength(2);
      expect(s.texts).toEqual(subscribers[0]?.texts);
    }
    expect(subscribers[0]?.frames()[1]?.result).toMatchObject({
      lastUpdateId: 3,
      bids: [
        ["100", "1"],
        ["99", "2"],
        ["98", "3"],
      ],
    });
    // Both deltas merged into one frame, the same text for both subscribers.
    expect(updates[0]?.texts).toEqual(updates[1]?.texts);
    expect(updates[0]?.frames().map((f) => f.result)).toEqual([
      expect.objectContaining({
        U: 2,
        u: 3,
        b: [
          ["99", "2"],
          ["98", "3"],
        ],
        a: [],
      }),
    ]);

    for (const l of [...leave, leaveOther, ...leaveUpdates]) l();
    expect(publishers.timers()).toBe(0);
    expect(publishers.list()).toEqual([]);
    expect(book.followers.size).toBe(0);
  });

  it("merge spot.order_book_update's 20ms stream per 20 ms window, continuous, beside the 100ms one", () => {
    const fast = sink();
    const slow = sink();
    const leaveFast = publishers.bookUpdates(fast.send, BTC, 20);
    const leaveSlow = publishers.bookUpdates(slow.send, BTC, 100);
    expect(publishers.list().map((p) => [p.channel, p.everyMs])).toEqual([
      ["spot.order_book_update", 20],
      ["spot.order_book_update", 100],
    ]);
    vi.advanceTimersByTime(5);
    book.bid("99", "2"); // seq 2
    vi.advanceTimersByTime(10);
    book.bid("98", "3"); // seq 3, the same 20 ms window
    vi.advanceTimersByTime(10);
    book.bid("99", "0"); // seq 4, the next window
    vi.advanceTimersByTime(10);
    book.bid("97", "1"); // seq 5
    vi.advanceTimersByTime(65); // to 100 ms: windows at 60 and 80 had nothing, so no frames

    const results = (s: ReturnType<typeof sink>) =>
      s.frames().map((f) => f.result as { U: number; u: number; b: BookLevel[] });
    expect(results(fast)).toEqual([
      expect.objectContaining({
        U: 2,
        u: 3,
        b: [
          ["99", "2"],
          ["98", "3"],
        ],
      }),
      expect.objectContaining({
        U: 4,
        u: 5,
        b: [
          ["99", "0"],
          ["97", "1"],
        ],
      }),
    ]);
    // The 100ms stream: the same steps in one frame, each level at its last amount.
    expect(results(slow)).toEqual([
      expect.objectContaining({
        U: 2,
        u: 5,
        b: [
          ["99", "0"],
          ["98", "3"],
          ["97", "1"],
        ],
      }),
    ]);
    leaveFast();
    leaveSlow();
    expect(publishers.timers()).toBe(0);
  });

  it("give a spot.order_book subscriber who joined while the book was resyncing its first frame", () => {
    const first = sink();
    publishers.fullBook(first.send, BTC, 5, 100);
    vi.advanceTimersByTime(20);
    book.live = false;
    const second = sink();
    publishers.fullBook(second.send, BTC, 5, 100);
    vi.advanceTimersByTime(100); // welcome and tick while not live: nothing to send
    expect(second.texts).toEqual([]);
    book.live = true; // the same sequence as before: nothing changed for the first
    vi.advanceTimersByTime(100);
    expect(first.frames().map((f) => f.result.lastUpdateId)).toEqual([1]);
    expect(second.frames().map((f) => f.result.lastUpdateId)).toEqual([1]);
  });

  it("start a late spot.obu subscriber from a full view that the next shared delta continues", () => {
    const early = sink();
    publishers.limitedBook(early.send, BTC, "ob.BTC_USDT.50", 50);
    vi.advanceTimersByTime(20);
    expect(early.frames().map((f) => f.result)).toEqual([
      expect.objectContaining({ full: true, u: 1, b: [["100", "1"]], a: [["101", "1"]] }),
    ]);
    book.bid("99", "2");
    vi.advanceTimersByTime(80); // the tick at 100 ms: a delta
    vi.advanceTimersByTime(85);
    // A late subscriber joins at 185 ms; the book moves and the tick at 200 ms runs before
    // the welcome would (205 ms).
    const late = sink();
    publishers.limitedBook(late.send, BTC, "ob.BTC_USDT.50", 50);
    book.bid("100", "0");
    vi.advanceTimersByTime(15);
    book.bid("97", "5");
    vi.advanceTimersByTime(100);
    expect(publishers.timers()).toBe(1);

    const results = (s: ReturnType<typeof sink>) =>
      s.frames().map((f) => f.result as { full?: boolean; U?: number; u: number; b: BookLevel[] });
    const earlyFrames = results(early);
    const lateFrames = results(late);
    // The early one: full at 1, then deltas 2, 3, 4 with no gap.
    expect(earlyFrames.map((r) => [r.full ?? false, r.U ?? null, r.u])).toEqual([
      [true, null, 1],
      [false, 2, 2],
      [false, 3, 3],
      [false, 4, 4],
    ]);
    // The late one: not the delta of its first tick but the view after it, then the same
    // delta as everyone.
    expect(lateFrames.map((r) => [r.full ?? false, r.U ?? null, r.u])).toEqual([
      [true, null, 3],
      [false, 4, 4],
    ]);
    expect(lateFrames[0]?.b).toEqual([["99", "2"]]);
    expect(late.texts.at(-1)).toBe(early.texts.at(-1));
  });
});
