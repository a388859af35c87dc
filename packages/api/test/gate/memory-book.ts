// A book held in memory the way BookKeeper keeps one — levels by price, a sequence number, its
// followers — for testing the book publishers without a server. Each change is one engine step
// announced as a delta, as market data publishes them.
import type { BookDelta, BookLevel } from "@spotx/protocol";
import { bookLevels } from "@spotx/protocol";
import type { BookFollower } from "../../src/gate/book-keeper";
import type { GateMarket } from "../../src/gate/market-directory";

export class MemoryBook {
  seq = 1;
  readonly bids: Map<string, string>;
  readonly asks: Map<string, string>;
  readonly followers = new Set<BookFollower>();
  /** False while a snapshot is awaited (BookKeeper's levels are then null). */
  live = true;
  /** The command time the next delta carries (ms). */
  time = 0;

  constructor(
    readonly market = "BTC_USDT",
    levels: { bids?: BookLevel[]; asks?: BookLevel[] } = {
      bids: [["100", "1"]],
      asks: [["101", "1"]],
    },
  ) {
    this.bids = new Map(levels.bids ?? []);
    this.asks = new Map(levels.asks ?? []);
  }

  follow(_m: GateMarket, follower: BookFollower): () => void {
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }

  levels(_symbol: string, depth: number) {
    return this.live ? { seq: this.seq, ...bookLevels(this, depth) } : null;
  }

  /** One engine step: a bid level set (amount "0" removes it). */
  bid(price: string, amount: string) {
    this.step([[price, amount]], []);
  }

  /** One engine step: an ask level set (amount "0" removes it). */
  ask(price: string, amount: string) {
    this.step([], [[price, amount]]);
  }

  private step(bids: BookLevel[], asks: BookLevel[]) {
    this.seq += 1;
    for (const [side, levels] of [
      [this.bids, bids],
      [this.asks, asks],
    ] as const) {
      for (const [price, amount] of levels) {
        if (amount === "0") side.delete(price);
        else side.set(price, amount);
      }
    }
    const delta: BookDelta = {
      market: this.market,
      U: this.seq,
      u: this.seq,
      time: this.time,
      bids,
      asks,
    };
    for (const f of this.followers) f.delta?.(delta);
  }
}

/** A subscriber's connection: the texts it was sent, and them parsed. */
export function sink() {
  const texts: string[] = [];
  const send = (text: string) => texts.push(text);
  const frames = () =>
    texts.map((t) => JSON.parse(t) as { channel: string; result: Record<string, unknown> });
  return { texts, send, frames };
}
