// spot.book_ticker's publisher without a server: a book held in memory, the fake clock driving
// the 10 ms looks. The best bid and ask go out when a price or amount at the top changes —
// changes within one look as one frame, `u` the book's sequence number — the same text to every
// subscriber of the market, `""` for an empty side, nothing once the last subscriber leaves.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BookPublishers } from "../../src/gate/book-publishers";
import { type BookTicker, bookTicker, followBookTicker } from "../../src/gate/book-ticker";
import type { GateMarket } from "../../src/gate/market-directory";
import { MemoryBook, sink } from "./memory-book";

const BTC = { symbol: "BTC_USDT" } as GateMarket;

let book: MemoryBook;
let publishers: BookPublishers;

beforeEach(() => {
  vi.useFakeTimers();
  book = new MemoryBook("BTC_USDT", {
    bids: [
      ["30000", "0.5"],
      ["29990", "2"],
    ],
    asks: [["30010", "0.25"]],
  });
  publishers = new BookPublishers(book);
});
afterEach(() => {
  publishers.close();
  vi.useRealTimers();
});

const tickers = (s: ReturnType<typeof sink>) =>
  s.frames().map((f) => {
    expect(f.channel).toBe("spot.book_ticker");
    return f.result as BookTicker;
  });
/** What a ticker says, without its time. */
const top = ({ t: _t, ...rest }: BookTicker) => rest;

describe("spot.book_ticker", () => {
  it("sends the current top first, then each change of a best price or amount, with its u", () => {
    const s = sink();
    followBookTicker(publishers, s.send, BTC);
    vi.advanceTimersByTime(20); // the welcome
    expect(tickers(s).map(top)).toEqual([
      { u: 1, s: "BTC_USDT", b: "30000", B: "0.5", a: "30010", A: "0.25" },
    ]);

    book.time = 1_700_000_000_123;
    book.bid("29980", "1"); // seq 2: below the top — nothing to send
    vi.advanceTimersByTime(10);
    book.bid("30000", "0.75"); // seq 3: the best bid's amount
    vi.advanceTimersByTime(10);
    book.ask("30005", "0.1"); // seq 4: a better ask
    vi.advanceTimersByTime(10);
    book.ask("30005", "0"); // seq 5: it leaves…
    book.bid("30000", "0.7"); // seq 6: …and the bid shrinks, within the same look
    vi.advanceTimersByTime(10);

    const frames = tickers(s);
    expect(frames.slice(1)).toEqual([
      { t: 1_700_000_000_123, u: 3, s: "BTC_USDT", b: "30000", B: "0.75", a: "30010", A: "0.25" },
      { t: 1_700_000_000_123, u: 4, s: "BTC_USDT", b: "30000", B: "0.75", a: "30005", A: "0.1" },
      { t: 1_700_000_000_123, u: 6, s: "BTC_USDT", b: "30000", B: "0.7", a: "30010", A: "0.25" },
    ]);
    expect(typeof frames[0]?.t).toBe("number");
    // Frames carry gate.io's envelope.
    expect(JSON.parse(s.texts[1] ?? "{}")).toMatchObject({
      channel: "spot.book_ticker",
      event: "update",
      time: expect.any(Number),
      time_ms: expect.any(Number),
    });
  });

  it("coalesces the changes of one 10 ms look into one frame, and sends none when the top came back", () => {
    const s = sink();
    followBookTicker(publishers, s.send, BTC);
    vi.advanceTimersByTime(20);
    book.bid("30001", "1"); // seq 2
    book.bid("30002", "1"); // seq 3
    book.bid("30003", "4"); // seq 4
    vi.advanceTimersByTime(10);
    book.ask("30004", "1"); // seq 5
    book.ask("30004", "0"); // seq 6: the ask is back where it was
    vi.advanceTimersByTime(30);
    expect(tickers(s).map((r) => [r.u, r.b, r.B, r.a, r.A])).toEqual([
      [1, "30000", "0.5", "30010", "0.25"],
      [4, "30003", "4", "30010", "0.25"],
    ]);
  });

  it('shows an empty side as "" for its price and amount', () => {
    const s = sink();
    followBookTicker(publishers, s.send, BTC);
    vi.advanceTimersByTime(20);
    book.ask("30010", "0"); // seq 2: no asks left
    vi.advanceTimersByTime(10);
    book.bid("30000", "0");
    book.bid("29990", "0"); // seq 4: no bids either
    vi.advanceTimersByTime(10);
    expect(tickers(s).slice(1).map(top)).toEqual([
      { u: 2, s: "BTC_USDT", b: "30000", B: "0.5", a: "", A: "" },
      { u: 4, s: "BTC_USDT", b: "", B: "", a: "", A: "" },
    ]);
    expect(bookTicker("ETH_USDT", { seq: 9, bids: [], asks: [["2000", "1"]] }, 5)).toEqual({
      t: 5,
      u: 9,
      s: "ETH_USDT",
      b: "",
      B: "",
      a: "2000",
      A: "1",
    });
  });

  it("serves every subscriber of a market from one timer with the same text; a late one never sees u go back", () => {
    const first = sink();
    const second = sink();
    const leaveFirst = followBookTicker(publishers, first.send, BTC);
    const leaveSecond = followBookTicker(publishers, second.send, BTC);
    expect(publishers.timers()).toBe(1);
    expect(publishers.list()).toEqual([
      { channel: "spot.book_ticker", market: "BTC_USDT", depth: 1, everyMs: 10, subscribers: 2 },
    ]);
    vi.advanceTimersByTime(20);
    book.bid("30001", "1"); // seq 2
    vi.advanceTimersByTime(10);
    // A third joins; the book moves below the top (seq 3) before its first frame.
    const late = sink();
    const leaveLate = followBookTicker(publishers, late.send, BTC);
    book.bid("29000", "1");
    vi.advanceTimersByTime(20);
    book.bid("30002", "1"); // seq 4
    vi.advanceTimersByTime(10);
    expect(first.texts).toEqual(second.texts);
    expect(tickers(first).map((r) => r.u)).toEqual([1, 2, 4]);
    // The late one starts from the top as it stands (at seq 3), then shares the next frame.
    expect(tickers(late).map(top)).toEqual([
      { u: 3, s: "BTC_USDT", b: "30001", B: "1", a: "30010", A: "0.25" },
      { u: 4, s: "BTC_USDT", b: "30002", B: "1", a: "30010", A: "0.25" },
    ]);
    expect(late.texts[1]).toBe(first.texts[2]);
    expect(publishers.list()[0]?.subscribers).toBe(3);

    // Leaving: the one who left hears nothing more, and the timer stops with the last.
    leaveSecond();
    book.bid("30003", "1"); // seq 5
    vi.advanceTimersByTime(10);
    expect(tickers(first).map((r) => r.u)).toEqual([1, 2, 4, 5]);
    expect(tickers(second).map((r) => r.u)).toEqual([1, 2, 4]);
    leaveFirst();
    leaveLate();
    expect(publishers.timers()).toBe(0);
    expect(publishers.list()).toEqual([]);
    expect(book.followers.size).toBe(0);
  });

  it("waits for the book: nothing while it is not live, the top once it is", () => {
    book.live = false;
    const s = sink();
    followBookTicker(publishers, s.send, BTC);
    vi.advanceTimersByTime(50);
    expect(s.texts).toEqual([]);
    book.live = true;
    vi.advanceTimersByTime(10);
    expect(tickers(s).map(top)).toEqual([
      { u: 1, s: "BTC_USDT", b: "30000", B: "0.5", a: "30010", A: "0.25" },
    ]);
  });
});
