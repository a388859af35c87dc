// The two engines under test, each behind the same `run(stream, from, to)` shape: our engine
// through its allocation-free sink path with reused command objects, and nodejs-order-book
// (the peer) through its public API with reused option objects and pre-built string ids.
import { OrderBook, Side as PeerSide } from "nodejs-order-book";
import { MatchingEngine } from "../src/engine";
import type { EventSink } from "../src/events";
import type { AmendCommand, CancelCommand, PlaceCommand } from "../src/types";
import { BENCH_MARKET, BUY, CANCEL, IOC, MOVE, NEW, type OpStream } from "./workload";

/** Counts events; the benchmark's stand-in for a consumer. */
export class CountingSink implements EventSink {
  events = 0;
  trades = 0;
  volume = 0;
  rejections = 0;
  accepted(): void {
    this.events += 1;
  }
  rejected(): void {
    this.events += 1;
    this.rejections += 1;
  }
  trade(
    _seq: number,
    _time: number,
    _maker: number,
    _taker: number,
    _makerUser: number,
    _takerUser: number,
    _price: number,
    quantity: number,
  ): void {
    this.events += 1;
    this.trades += 1;
    this.volume += quantity;
  }
  cancelled(): void {
    this.events += 1;
  }
  amended(): void {
    this.events += 1;
  }
  triggered(): void {
    this.events += 1;
  }
  fired(): void {
    this.events += 1;
  }
  level(): void {
    this.events += 1;
  }
  halted(): void {
    this.events += 1;
  }
  resumed(): void {
    this.events += 1;
  }
  delisted(): void {
    this.events += 1;
  }
  rulesChanged(): void {
    this.events += 1;
  }
}

export interface Contender {
  readonly name: string;
  /** Applies operations [from, to) of `stream`. */
  run(stream: OpStream, from: number, to: number): void;
  /** Applies one operation (the latency loop times each call). */
  one(stream: OpStream, i: number): void;
  /** L2 depth as [price, quantity] pairs, bids descending, asks ascending. */
  depth(): { bids: Array<[number, number]>; asks: Array<[number, number]> };
}

export class SpotxContender implements Contender {
  readonly name = "spotx";
  readonly engine: MatchingEngine;
  readonly sink = new CountingSink();
  private readonly place: PlaceCommand = {
    type: "place",
    time: 0,
    orderId: 0,
    userId: 0,
    side: "buy",
    orderType: "limit",
    price: 0,
    quantity: 0,
    timeInForce: "gtc",
  };
  private readonly cancel: CancelCommand = { type: "cancel", time: 0, orderId: 0, userId: 0 };
  private readonly amend: AmendCommand = {
    type: "amend",
    time: 0,
    orderId: 0,
    userId: 0,
    price: 0,
  };

  constructor(capacity: number) {
    this.engine = new MatchingEngine(BENCH_MARKET, { initialCapacity: capacity });
  }

  run(stream: OpStream, from: number, to: number): void {
    for (let i = from; i < to; i++) this.one(stream, i);
  }

  one(s: OpStream, i: number): void {
    const kind = s.kind[i];
    if (kind === MOVE) {
      const c = this.amend;
      c.time = i;
      c.orderId = s.orderId[i] ?? 0;
      c.userId = s.userId[i] ?? 0;
      c.price = s.price[i] ?? 0;
      this.engine.apply(c, this.sink);
    } else if (kind === CANCEL) {
      const c = this.cancel;
      c.time = i;
      c.orderId = s.orderId[i] ?? 0;
      c.userId = s.userId[i] ?? 0;
      this.engine.apply(c, this.sink);
    } else {
      const c = this.place;
      c.time = i;
      c.orderId = s.orderId[i] ?? 0;
      c.userId = s.userId[i] ?? 0;
      c.side = s.side[i] === BUY ? "buy" : "sell";
      c.price = s.price[i] ?? 0;
      c.quantity = s.quantity[i] ?? 0;
      c.timeInForce = kind === IOC ? "ioc" : "gtc";
      this.engine.apply(c, this.sink);
    }
  }

  depth() {
    return this.engine.depth();
  }
}

interface PeerLimit {
  id: string;
  side: PeerSide;
  size: number;
  price: number;
  timeInForce: "GTC" | "IOC";
}

export class PeerContender implements Contender {
  readonly name = "nodejs-order-book";
  readonly book = new OrderBook();
  private readonly ids: string[];
  private readonly limit: PeerLimit = {
    id: "",
    side: PeerSide.BUY,
    size: 0,
    price: 0,
    timeInForce: "GTC",
  };
  private readonly update = { price: 0 };

  constructor(maxOrderId: number) {
    this.ids = new Array<string>(maxOrderId + 1);
    for (let id = 0; id <= maxOrderId; id++) this.ids[id] = String(id);
  }

  run(stream: OpStream, from: number, to: number): void {
    for (let i = from; i < to; i++) this.one(stream, i);
  }

  one(s: OpStream, i: number): void {
    const kind = s.kind[i];
    const id = this.ids[s.orderId[i] ?? 0] ?? "";
    if (kind === MOVE) {
      this.update.price = s.price[i] ?? 0;
      this.book.modify(id, this.update);
    } else if (kind === CANCEL) {
      this.book.cancel(id);
    } else {
      const o = this.limit;
      o.id = id;
      o.side = s.side[i] === BUY ? PeerSide.BUY : PeerSide.SELL;
      o.size = s.quantity[i] ?? 0;
      o.price = s.price[i] ?? 0;
      o.timeInForce = kind === NEW ? "GTC" : "IOC";
      // The peer types timeInForce as a non-exported enum whose values are these strings.
      this.book.limit(o as unknown as Parameters<OrderBook["limit"]>[0]);
    }
  }

  depth() {
    const [asks, bids] = this.book.depth();
    return {
      bids: [...bids].sort((a, b) => b[0] - a[0]),
      asks: [...asks].sort((a, b) => a[0] - b[0]),
    };
  }
}
