// Local copies of the order books the WebSocket API's book channels need: the snapshot market
// data keeps (Redis, else PostgreSQL), then the numbered deltas it publishes, kept continuous by
// @spotx/protocol's reducer (a gap fetches a new snapshot). One copy per market, shared by every
// subscriber, dropped when the last one leaves.

import type { Logger } from "@spotx/platform/logger";
import type { Topology } from "@spotx/platform/topology";
import {
  type BookDelta,
  type BookLevel,
  type BookSync,
  bookLevels,
  type OrderBook,
  reduceBookSync,
  startBookSync,
} from "@spotx/protocol";
import type { GateServices } from "./call";
import type { GateMarket } from "./market-directory";
import { bookSnapshot } from "./market-snapshots";
import type { SocketRoomFeed } from "./socket-room-feed";

/** The deepest view served (spot.obu's .400). */
export const BOOK_DEPTH = 400;

export type BookFollower = {
  /** Every delta as market data published it (continuity is the receiver's to check). */
  delta?(delta: BookDelta): void;
};

type Followed = {
  market: GateMarket;
  state: BookSync;
  followers: Set<BookFollower>;
  unlisten: () => void;
  fetching: boolean;
  /** Memo of the last computed views: the book's sequence and depth they were taken at. */
  views: Map<number, { seq: number; bids: BookLevel[]; asks: BookLevel[] }>;
};

export class BookKeeper {
  private readonly books = new Map<string, Followed>();

  constructor(
    private readonly options: {
      feed: SocketRoomFeed;
      services: GateServices;
      names: Topology;
      log: Logger;
    },
  ) {}

  /** Follows a market's book; the returned function stops following it. */
  follow(market: GateMarket, follower: BookFollower): () => void {
    let followed = this.books.get(market.symbol);
    if (!followed) {
      const created: Followed = {
        market,
        state: startBookSync(market.symbol),
        followers: new Set(),
        unlisten: () => undefined,
        fetching: false,
        views: new Map(),
      };
      // Listen first, then fetch the snapshot: deltas meanwhile are buffered by the reducer.
      created.unlisten = this.options.feed.listen(
        this.options.names.rooms.market(market.symbol, "book"),
        (event, payload) => {
          if (event === "book.delta") this.onDelta(created, payload as BookDelta);
        },
      );
      this.books.set(market.symbol, created);
      this.fetchSnapshot(created);
      followed = created;
    }
    followed.followers.add(follower);
    const current = followed;
    return () => {
      current.followers.delete(follower);
      if (current.followers.size === 0) {
        current.unlisten();
        this.books.delete(market.symbol);
      }
    };
  }

  /** The book as kept now, or null until its snapshot has arrived. */
  book(symbol: string): OrderBook | null {
    const followed = this.books.get(symbol);
    return followed?.state.phase === "live" ? followed.state.book : null;
  }

  /** The best `depth` levels of each side, best first (computed once per sequence number). */
  levels(
    symbol: string,
    depth: number,
  ): { seq: number; bids: BookLevel[]; asks: BookLevel[] } | null {
    const followed = this.books.get(symbol);
    if (followed?.state.phase !== "live") return null;
    const book = followed.state.book;
    const memo = followed.views.get(depth);
    if (memo && memo.seq === book.seq) return memo;
    const view = { seq: book.seq, ...bookLevels(book, depth) };
    followed.views.set(depth, view);
    return view;
  }

  private onDelta(followed: Followed, delta: BookDelta) {
    for (const follower of followed.followers) follower.delta?.(delta);
    const step = reduceBookSync(followed.state, { type: "delta", delta });
    followed.state = step.state;
    if (step.resync) this.fetchSnapshot(followed);
  }

  private fetchSnapshot(followed: Followed, attempt = 0) {
    if (followed.fetching) return;
    followed.fetching = true;
    // The Redis snapshot trails the deltas by up to 100 ms: a retry waits a little first.
    const delay = attempt === 0 ? 0 : Math.min(1_000, 50 * 2 ** attempt);
    setTimeout(() => {
      bookSnapshot(this.options.services, followed.market, BOOK_DEPTH)
        .then((snapshot) => {
          followed.fetching = false;
          if (this.books.get(followed.market.symbol) !== followed) return;
          const step = reduceBookSync(followed.state, { type: "snapshot", snapshot });
          followed.state = step.state;
          if (step.resync) this.fetchSnapshot(followed, attempt + 1);
        })
        .catch((error: unknown) => {
          followed.fetching = false;
          this.options.log.warn(
            { err: error, market: followed.market.symbol },
            "book snapshot failed",
          );
          if (this.books.get(followed.market.symbol) === followed) {
            this.fetchSnapshot(followed, attempt + 1);
          }
        });
    }, delay).unref();
  }
}
