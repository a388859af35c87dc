// The client's side of the book stream, on its own so a browser can import it without the
// rest of the protocol (zod schemas): the book payloads (`book.snapshot`, `book.delta`) and a
// pure reducer that keeps a local order book continuous from one snapshot and numbered deltas.
// Re-exported by socket.ts; `@spotx/protocol/book-sync` for bundles that want only this.

/** One book level: [price, amount], decimal strings; amount "0" removes the level. */
export type BookLevel = [price: string, amount: string];

export type BookSnapshot = {
  market: string;
  /** The last engine sequence number the snapshot includes. */
  seq: number;
  /** When market data took it (ms). */
  time: number;
  /** Best first: bids descending, asks ascending. */
  bids: BookLevel[];
  asks: BookLevel[];
};

/**
 * The levels that changed over the engine sequence numbers U…u (gate.io's names). Each delta
 * of a market starts right after the previous one: `U` = previous `u` + 1. A client holding
 * the book at seq `s` applies a delta when `U ≤ s + 1 ≤ u`, ignores it when `u ≤ s`, and
 * needs a new snapshot when `U > s + 1`.
 */
export type BookDelta = {
  market: string;
  U: number;
  u: number;
  /** The time of the last command covered (ms), for latency measurements. */
  time: number;
  bids: BookLevel[];
  asks: BookLevel[];
};

// ---------------------------------------------------------------------------------------------
// The client's book: snapshot, then deltas, with continuity checked by sequence numbers.

/** A client's copy of a market's book: price → amount per side (decimal strings as sent). */
export type OrderBook = {
  market: string;
  seq: number;
  bids: ReadonlyMap<string, string>;
  asks: ReadonlyMap<string, string>;
};

const ZERO = /^0+(\.0+)?$/;

export function bookFromSnapshot(snapshot: BookSnapshot): OrderBook {
  return {
    market: snapshot.market,
    seq: snapshot.seq,
    bids: new Map(snapshot.bids),
    asks: new Map(snapshot.asks),
  };
}

function withLevels(side: ReadonlyMap<string, string>, levels: readonly BookLevel[]) {
  if (levels.length === 0) return side;
  const next = new Map(side);
  for (const [price, amount] of levels) {
    if (ZERO.test(amount)) next.delete(price);
    else next.set(price, amount);
  }
  return next;
}

/**
 * Applies one delta. A delta the book already covers (`u ≤ seq`) changes nothing; one that
 * starts past the next sequence number means updates were missed: the answer is "resync",
 * and the client must fetch a new snapshot.
 */
export function applyBookDelta(book: OrderBook, delta: BookDelta): OrderBook | "resync" {
  if (delta.market !== book.market) {
    throw new Error(`a ${delta.market} delta cannot apply to the ${book.market} book`);
  }
  if (delta.u <= book.seq) return book;
  if (delta.U > book.seq + 1) return "resync";
  return {
    market: book.market,
    seq: delta.u,
    bids: withLevels(book.bids, delta.bids),
    asks: withLevels(book.asks, delta.asks),
  };
}

/** Compares non-negative canonical decimal strings exactly ("10" > "9.5"), without floats. */
export function compareDecimal(a: string, b: string): number {
  const [aWhole = "", aFraction = ""] = a.split(".");
  const [bWhole = "", bFraction = ""] = b.split(".");
  if (aWhole.length !== bWhole.length) return aWhole.length - bWhole.length;
  if (aWhole !== bWhole) return aWhole < bWhole ? -1 : 1;
  const width = Math.max(aFraction.length, bFraction.length);
  const x = aFraction.padEnd(width, "0");
  const y = bFraction.padEnd(width, "0");
  return x === y ? 0 : x < y ? -1 : 1;
}

/** The top `depth` levels of each side, best first, for display. */
export function bookLevels(
  book: OrderBook,
  depth = Number.POSITIVE_INFINITY,
): { bids: BookLevel[]; asks: BookLevel[] } {
  const bids = [...book.bids].sort((x, y) => compareDecimal(y[0], x[0])).slice(0, depth);
  const asks = [...book.asks].sort((x, y) => compareDecimal(x[0], y[0])).slice(0, depth);
  return { bids, asks };
}

/**
 * A client's book stream as a state machine. Deltas that arrive before the snapshot (the
 * server joins the room first, then reads the snapshot) are buffered and replayed on it; a gap
 * — or a snapshot older than what was buffered — asks for a new snapshot while buffering on.
 */
export type BookSync =
  | { phase: "waiting"; market: string; buffered: BookDelta[] }
  | { phase: "live"; market: string; book: OrderBook };

export type BookSyncInput =
  | { type: "snapshot"; snapshot: BookSnapshot }
  | { type: "delta"; delta: BookDelta };

/** Deltas kept while waiting for a snapshot; past that the oldest are dropped. */
export const BOOK_SYNC_BUFFER = 1_000;

export function startBookSync(market: string): BookSync {
  return { phase: "waiting", market, buffered: [] };
}

/**
 * Feeds one snapshot or delta to the stream. `resync: true` tells the caller to request a new
 * snapshot (`book.resync`); the state keeps buffering meanwhile.
 */
export function reduceBookSync(
  state: BookSync,
  input: BookSyncInput,
): { state: BookSync; resync: boolean } {
  const market = input.type === "snapshot" ? input.snapshot.market : input.delta.market;
  if (market !== state.market) return { state, resync: false };

  if (input.type === "delta") {
    if (state.phase === "waiting") {
      const buffered = [...state.buffered, input.delta].slice(-BOOK_SYNC_BUFFER);
      return { state: { ...state, buffered }, resync: false };
    }
    const next = applyBookDelta(state.book, input.delta);
    if (next === "resync") {
      return { state: { phase: "waiting", market, buffered: [input.delta] }, resync: true };
    }
    return { state: next === state.book ? state : { ...state, book: next }, resync: false };
  }

  const snapshot = input.snapshot;
  if (state.phase === "live") {
    // A snapshot no newer than the book adds nothing; a newer one replaces it.
    if (snapshot.seq <= state.book.seq) return { state, resync: false };
    return { state: { phase: "live", market, book: bookFromSnapshot(snapshot) }, resync: false };
  }
  let book = bookFromSnapshot(snapshot);
  for (const [i, delta] of state.buffered.entries()) {
    const next = applyBookDelta(book, delta);
    if (next === "resync") {
      // The snapshot is older than the buffered stream: keep the deltas, ask for a newer one.
      return {
        state: { phase: "waiting", market, buffered: state.buffered.slice(i) },
        resync: true,
      };
    }
    book = next;
  }
  return { state: { phase: "live", market, book }, resync: false };
}
