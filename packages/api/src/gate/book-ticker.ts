// spot.book_ticker: a market's best bid and ask, `{t, u, s, b, B, a, A}`, pushed when either's
// price or amount changes — looked at every 10 ms per market (gate.io's update speed), so the
// changes within one look go out as one frame, computed and serialized once for every
// subscriber (one shared publisher, book-publishers.ts). `u` is the book's sequence number the
// frame shows (the REST order book's `id`); `t` the time of the engine command that brought the
// book there. An empty side is `""` for its price and amount, as the REST ticker shows a missing
// `highest_bid`/`lowest_ask` (gate.io does not document the case).
import type { BookLevel } from "@spotx/protocol";
import {
  type BookPublishers,
  broadcast,
  type FrameSink,
  type PublishedBooks,
  type Publisher,
  type PublisherBehaviour,
  updateFrame,
} from "./book-publishers";
import type { GateMarket } from "./market-directory";

export const BOOK_TICKER_CHANNEL = "spot.book_ticker";
/** How often a market's best levels are looked at: at most one frame per market per 10 ms. */
export const BOOK_TICKER_EVERY_MS = 10;

export type BookTicker = {
  /** When the book reached `u` (ms). */
  t: number;
  /** The book's sequence number. */
  u: number;
  s: string;
  b: string;
  B: string;
  a: string;
  A: string;
};

/** The best level of a side, or `["", ""]` when the side is empty. */
const best = (levels: readonly BookLevel[]): BookLevel => levels[0] ?? ["", ""];

/** The book ticker of a view of the book (its best levels first). */
export function bookTicker(
  symbol: string,
  view: { seq: number; bids: readonly BookLevel[]; asks: readonly BookLevel[] },
  t: number,
): BookTicker {
  const [b, B] = best(view.bids);
  const [a, A] = best(view.asks);
  return { t, u: view.seq, s: symbol, b, B, a, A };
}

/** Subscribes `sink` to `m`'s book ticker; the returned function ends it. */
export function followBookTicker(
  publishers: BookPublishers,
  sink: FrameSink,
  m: GateMarket,
): () => void {
  return publishers.serve(
    sink,
    { channel: BOOK_TICKER_CHANNEL, market: m, depth: 1, everyMs: BOOK_TICKER_EVERY_MS },
    (books) => bookTickerBehaviour(books, m),
  );
}

function bookTickerBehaviour(books: PublishedBooks, m: GateMarket): PublisherBehaviour {
  /** The prices and amounts last sent to every subscriber ("b B a A"), or null before any. */
  let sent: string | null = null;
  /** The last delta seen: its sequence number and its command's time. */
  let latest: { u: number; time: number } | null = null;
  const now = () => {
    const view = books.levels(m.symbol, 1);
    if (!view) return null; // Not live yet (or resyncing): nothing to say.
    const t = latest?.u === view.seq ? latest.time : Date.now();
    const ticker = bookTicker(m.symbol, view, t);
    return { ticker, shown: `${ticker.b} ${ticker.B} ${ticker.a} ${ticker.A}` };
  };
  const send = (sinks: Iterable<FrameSink>, ticker: BookTicker) =>
    broadcast(sinks, updateFrame(BOOK_TICKER_CHANNEL, ticker));
  const welcome = (p: Publisher) => {
    if (p.joining.size === 0) return;
    const current = now();
    if (!current) return; // A tick once the book is live sends to everyone.
    const everyoneNew = p.joining.size === p.sinks.size;
    // A change the others have not been sent yet goes to all at the next tick (within 10 ms),
    // so no subscriber ever sees the same top twice or a `u` go back.
    if (current.shown !== sent && !everyoneNew) return;
    sent = current.shown;
    send(p.joining, current.ticker);
    p.joining.clear();
  };
  return {
    tick(p) {
      const current = now();
      if (!current) return;
      if (current.shown === sent) {
        welcome(p); // Unchanged: only those still waiting for a first frame get one.
        return;
      }
      sent = current.shown;
      send(p.sinks, current.ticker);
      p.joining.clear();
    },
    welcome,
    delta(delta) {
      latest = { u: delta.u, time: delta.time };
    },
  };
}
