// The WebSocket API's book channels (spot.book_ticker's behaviour is in book-ticker.ts), served
// by one publisher per (channel, market, depth, interval) however many connections subscribe:
// each tick computes the frame once, serializes it once and sends the same text to every
// subscriber. A publisher (its timer, its follow of the book) starts with its first subscriber
// and stops with its last, so the timers running are bounded by the keys in use, not by the
// subscriptions — the cost of a tick does not grow with the audience beyond one send per
// subscriber.
import type { BookDelta, BookLevel } from "@spotx/protocol";
import { BOOK_DEPTH, type BookKeeper } from "./book-keeper";
import type { GateMarket } from "./market-directory";

/** Sends one serialized frame to one connection. */
export type FrameSink = (text: string) => void;

/** A gate.io update frame, serialized. */
export function updateFrame(channel: string, result: unknown): string {
  const now = Date.now();
  return JSON.stringify({
    time: Math.floor(now / 1000),
    time_ms: now,
    channel,
    event: "update",
    result,
  });
}

/** A new subscriber's first frame waits this long, so it follows the subscription's ack. */
const WELCOME_AFTER_MS = 20;
/** spot.obu's interval. */
const LIMITED_BOOK_EVERY_MS = 100;

export type Publisher = {
  readonly channel: string;
  readonly market: string;
  readonly depth: number | null;
  readonly everyMs: number;
  readonly sinks: Set<FrameSink>;
  /** Subscribers still owed their first frame (a view to start from): no deltas before it. */
  readonly joining: Set<FrameSink>;
  welcomePending: boolean;
  tick(): void;
  /** Sends the joining subscribers what they start from, when there is something to send. */
  welcome(): void;
  stop(): void;
};

export type PublisherView = {
  channel: string;
  market: string;
  depth: number | null;
  everyMs: number;
  subscribers: number;
};

/** What a publisher does on its ticks, on a welcome, and on each delta if it merges them. */
export type PublisherBehaviour = {
  tick(p: Publisher): void;
  welcome(p: Publisher): void;
  /** Every delta of the book, for a publisher that merges them. */
  delta?(delta: BookDelta): void;
};

/** The book views a publisher reads. */
export type PublishedBooks = Pick<BookKeeper, "follow" | "levels">;

/** Sends `text` to each sink of `sinks` (a snapshot: a sink may unsubscribe meanwhile). */
export function broadcast(sinks: Iterable<FrameSink>, text: string) {
  for (const sink of [...sinks]) sink(text);
}

export class BookPublishers {
  private readonly publishers = new Map<string, Publisher>();
  private runningTimers = 0;

  constructor(private readonly books: PublishedBooks) {}

  /**
   * A channel whose behaviour lives in its own module (book-ticker.ts): `sink` joins the
   * publisher of (channel, market, depth, everyMs), made with `behaviour` on first use.
   */
  serve(
    sink: FrameSink,
    key: { channel: string; market: GateMarket; depth: number | null; everyMs: number },
    behaviour: (books: PublishedBooks) => PublisherBehaviour,
  ): () => void {
    const { channel, market, depth, everyMs } = key;
    return this.join(sink, `${channel}|${market.symbol}|${depth ?? ""}|${everyMs}`, () =>
      this.publisher(channel, market, depth, everyMs, behaviour(this.books)),
    );
  }

  /** spot.order_book: the top `depth` levels every `everyMs`, when they changed. */
  fullBook(sink: FrameSink, m: GateMarket, depth: number, everyMs: number): () => void {
    return this.join(sink, `spot.order_book|${m.symbol}|${depth}|${everyMs}`, () => {
      let sentSeq = -1;
      const levels = () => this.books.levels(m.symbol, depth);
      const frame = (view: { seq: number; bids: BookLevel[]; asks: BookLevel[] }) =>
        updateFrame("spot.order_book", {
          t: Date.now(),
          lastUpdateId: view.seq,
          s: m.symbol,
          bids: view.bids,
          asks: view.asks,
        });
      const welcome = (p: Publisher) => {
        if (p.joining.size === 0) return;
        const view = levels();
        if (!view) return; // Not live yet: a tick once it is sends to everyone.
        // When every subscriber is new, this view is what they all have.
        if (p.joining.size === p.sinks.size) sentSeq = view.seq;
        broadcast(p.joining, frame(view));
        p.joining.clear();
      };
      return this.publisher("spot.order_book", m, depth, everyMs, {
        tick(p) {
          const view = levels();
          if (!view) return;
          if (view.seq === sentSeq) {
            welcome(p); // Unchanged: only those still waiting for a first frame get one.
            return;
          }
          sentSeq = view.seq;
          broadcast(p.sinks, frame(view));
          p.joining.clear();
        },
        welcome,
      });
    });
  }

  /**
   * spot.order_book_update: the deltas of each interval merged, U/u the sequence numbers
   * covered — one accumulator for every subscriber of the market and interval.
   */
  bookUpdates(sink: FrameSink, m: GateMarket, everyMs: number): () => void {
    return this.join(sink, `spot.order_book_update|${m.symbol}||${everyMs}`, () => {
      let pending: {
        U: number;
        u: number;
        bids: Map<string, string>;
        asks: Map<string, string>;
      } | null = null;
      return this.publisher("spot.order_book_update", m, null, everyMs, {
        tick(p) {
          p.joining.clear();
          if (!pending) return;
          const now = Date.now();
          const text = updateFrame("spot.order_book_update", {
            t: now,
            e: "depthUpdate",
            E: Math.floor(now / 1000),
            s: m.symbol,
            U: pending.U,
            u: pending.u,
            b: [...pending.bids],
            a: [...pending.asks],
          });
          pending = null;
          broadcast(p.sinks, text);
        },
        welcome(p) {
          // Deltas need no starting view: a client starts from REST's order_book id.
          p.joining.clear();
        },
        delta(delta) {
          pending ??= { U: delta.U, u: delta.u, bids: new Map(), asks: new Map() };
          pending.u = delta.u;
          for (const [price, amount] of delta.bids) pending.bids.set(price, amount);
          for (const [price, amount] of delta.asks) pending.asks.set(price, amount);
        },
      });
    });
  }

  /**
   * spot.obu: the top `depth` levels in full once (to each subscriber as it joins), then what
   * changed in them (amount "0" leaves), shared by every subscriber from there on.
   */
  limitedBook(sink: FrameSink, m: GateMarket, name: string, depth: number): () => void {
    return this.join(sink, `spot.obu|${m.symbol}|${depth}|${LIMITED_BOOK_EVERY_MS}`, () => {
      let last: { u: number; bids: Map<string, string>; asks: Map<string, string> } | null = null;
      const levels = () => this.books.levels(m.symbol, Math.min(depth, BOOK_DEPTH));
      const diff = (before: Map<string, string>, after: BookLevel[]): BookLevel[] => {
        const changes: BookLevel[] = [];
        const now = new Map(after);
        for (const [price, amount] of after)
          if (before.get(price) !== amount) changes.push([price, amount]);
        for (const price of before.keys()) if (!now.has(price)) changes.push([price, "0"]);
        return changes;
      };
      /** The whole view at `last`: where the next shared delta starts from. */
      const welcome = (p: Publisher) => {
        if (p.joining.size === 0) return;
        if (!last) {
          // Nobody has been sent anything yet: the first view is taken now, if the book is live.
          const view = levels();
          if (!view) return;
          last = { u: view.seq, bids: new Map(view.bids), asks: new Map(view.asks) };
        }
        broadcast(
          p.joining,
          updateFrame("spot.obu", {
            t: Date.now(),
            full: true,
            s: name,
            u: last.u,
            b: [...last.bids],
            a: [...last.asks],
          }),
        );
        p.joining.clear();
      };
      return this.publisher("spot.obu", m, depth, LIMITED_BOOK_EVERY_MS, {
        tick(p) {
          const view = levels();
          if (!view) return;
          if (!last) {
            welcome(p);
            return;
          }
          if (view.seq !== last.u) {
            const b = diff(last.bids, view.bids);
            const a = diff(last.asks, view.asks);
            const U = last.u + 1;
            last = { u: view.seq, bids: new Map(view.bids), asks: new Map(view.asks) };
            if (b.length === 0 && a.length === 0) {
              // Nothing changed within the depth: the next delta still starts right after this u.
              last.u = U - 1;
            } else {
              const text = updateFrame("spot.obu", {
                t: Date.now(),
                s: name,
                U,
                u: view.seq,
                b,
                a,
              });
              // Those still joining start from the view after this delta, not before it.
              broadcast(
                [...p.sinks].filter((s) => !p.joining.has(s)),
                text,
              );
            }
          }
          welcome(p);
        },
        welcome,
      });
    });
  }

  /** Timers running now: one per publisher, however many subscribers each has. */
  timers(): number {
    return this.runningTimers;
  }

  /** The publishers running now and how many connections each serves. */
  list(): PublisherView[] {
    return [...this.publishers.values()].map((p) => ({
      channel: p.channel,
      market: p.market,
      depth: p.depth,
      everyMs: p.everyMs,
      subscribers: p.sinks.size,
    }));
  }

  /** Stops every publisher (the server is closing). */
  close(): void {
    for (const p of this.publishers.values()) p.stop();
    this.publishers.clear();
  }

  /** Adds `sink` to the key's publisher (made on first use); returns the way to leave it. */
  private join(sink: FrameSink, key: string, make: () => Publisher): () => void {
    let publisher = this.publishers.get(key);
    if (!publisher) {
      publisher = make();
      this.publishers.set(key, publisher);
    }
    const p = publisher;
    p.sinks.add(sink);
    p.joining.add(sink);
    if (!p.welcomePending) {
      p.welcomePending = true;
      setTimeout(() => {
        p.welcomePending = false;
        if (this.publishers.get(key) === p) p.welcome();
      }, WELCOME_AFTER_MS).unref();
    }
    return () => {
      if (!p.sinks.delete(sink)) return;
      p.joining.delete(sink);
      if (p.sinks.size > 0) return;
      p.stop();
      if (this.publishers.get(key) === p) this.publishers.delete(key);
    };
  }

  /** A publisher that follows `m`'s book and ticks every `everyMs`. */
  private publisher(
    channel: string,
    m: GateMarket,
    depth: number | null,
    everyMs: number,
    behaviour: PublisherBehaviour,
  ): Publisher {
    const { delta } = behaviour;
    const stopFollowing = this.books.follow(m, delta ? { delta } : {});
    const p: Publisher = {
      channel,
      market: m.symbol,
      depth,
      everyMs,
      sinks: new Set(),
      joining: new Set(),
      welcomePending: false,
      tick: () => behaviour.tick(p),
      welcome: () => behaviour.welcome(p),
      stop: () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        this.runningTimers -= 1;
        stopFollowing();
      },
    };
    let stopped = false;
    const timer = setInterval(p.tick, everyMs);
    timer.unref();
    this.runningTimers += 1;
    return p;
  }
}
