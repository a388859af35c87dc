// The benchmark workload, in the spirit of exchange-core's: a book held near a target size
// around the mid price, then a seeded mix of 9% new GTC (non-crossing), 3% IOC (crossing),
// 6% cancel and 82% move (price change of a resting order). Generated once, up front, into
// flat arrays, so that every engine replays exactly the same operations.
import { MatchingEngine } from "../src/engine";
import type { EventSink } from "../src/events";
import type { MarketConfig, Side } from "../src/types";

export const NEW = 0;
export const IOC = 1;
export const CANCEL = 2;
export const MOVE = 3;
export const BUY = 0;
export const SELL = 1;

/** BTC_USDT-like: tick 0.01 USDT, lot 0.0001 BTC, both assets kept at 8 decimals. */
export const BENCH_MARKET: MarketConfig = {
  symbol: "BTC_USDT",
  tickSize: "0.01",
  lotSize: "0.0001",
  baseDecimals: 8,
  quoteDecimals: 8,
  minNotional: 10_000_000,
  maxPrice: 100_000_000,
  maxQuantity: 500_000,
  priceBandBps: 1_000,
  maxOpenOrdersPerUser: 1_000,
};

export const MID_PRICE = 1_000_000;

/**
 * Operations as flat arrays (18 bytes each): the replay streams through them, so they are
 * kept small to evict as little of the book from the cache as possible. Every benchmark value
 * fits in an int32 (checked when pushed).
 */
export class OpStream {
  readonly kind: Uint8Array;
  readonly orderId: Int32Array;
  readonly userId: Int32Array;
  readonly side: Uint8Array;
  readonly price: Int32Array;
  readonly quantity: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.orderId = new Int32Array(capacity);
    this.userId = new Int32Array(capacity);
    this.side = new Uint8Array(capacity);
    this.price = new Int32Array(capacity);
    this.quantity = new Int32Array(capacity);
  }

  push(kind: number, orderId: number, userId: number, side: number, price: number, qty: number) {
    if ((orderId | price | userId | qty) < 0 || orderId > 0x7fffffff || price > 0x7fffffff) {
      throw new RangeError("benchmark values must fit in an int32");
    }
    const i = this.length++;
    this.kind[i] = kind;
    this.orderId[i] = orderId;
    this.userId[i] = userId;
    this.side[i] = side;
    this.price[i] = price;
    this.quantity[i] = qty;
  }
}

export interface WorkloadSpec {
  name: string;
  seed: number;
  /** Resting orders the book is kept around. */
  targetOrders: number;
  /** Price levels per side that new orders spread over, counted from the opposite best. */
  halfWidth: number;
  warmup: number;
  timed: number;
}

export interface Workload {
  spec: WorkloadSpec;
  /** Non-crossing GTC orders that build the initial book (not timed). */
  setup: OpStream;
  /** `warmup` operations, then `timed` ones. */
  ops: OpStream;
  /** Highest order id used, so a peer can pre-build its string ids. */
  maxOrderId: number;
  mix: { new: number; ioc: number; cancel: number; move: number };
}

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same workload. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Tracks which orders rest, from the oracle engine's events, so that cancels and moves pick
 * live orders and new orders can be placed just behind the opposite best price.
 */
class LiveOrders implements EventSink {
  readonly ids: Float64Array;
  readonly position: Int32Array;
  readonly side: Uint8Array;
  readonly price: Float64Array;
  readonly user: Float64Array;
  count = 0;
  trades = 0;
  rejections = 0;

  constructor(maxId: number) {
    this.ids = new Float64Array(maxId + 1);
    this.position = new Int32Array(maxId + 1).fill(-1);
    this.side = new Uint8Array(maxId + 1);
    this.price = new Float64Array(maxId + 1);
    this.user = new Float64Array(maxId + 1);
  }

  add(id: number, side: number, price: number, user: number): void {
    this.position[id] = this.count;
    this.ids[this.count++] = id;
    this.side[id] = side;
    this.price[id] = price;
    this.user[id] = user;
  }

  remove(id: number): void {
    const at = this.position[id] ?? -1;
    if (at < 0) return;
    const lastId = this.ids[--this.count] ?? 0;
    this.ids[at] = lastId;
    this.position[lastId] = at;
    this.position[id] = -1;
  }

  pick(random: number): number {
    return this.ids[Math.floor(random * this.count)] ?? 0;
  }

  accepted(): void {}
  rejected(): void {
    this.rejections += 1;
  }
  trade(
    _seq: number,
    _time: number,
    makerOrderId: number,
    _takerOrderId: number,
    _makerUserId: number,
    _takerUserId: number,
    _price: number,
    _quantity: number,
    _quoteAmount: number,
    _takerSide: Side,
    makerLeft: number,
  ): void {
    this.trades += 1;
    if (makerLeft === 0) this.remove(makerOrderId);
  }
  cancelled(_seq: number, _time: number, orderId: number): void {
    this.remove(orderId);
  }
  amended(
    _seq: number,
    _time: number,
    orderId: number,
    _userId: number,
    _side: Side,
    price: number,
  ) {
    this.price[orderId] = price;
  }
  triggered(): void {}
  fired(): void {}
  level(): void {}
  halted(): void {}
  resumed(): void {}
  delisted(): void {}
  rulesChanged(): void {}
}

export function generateWorkload(spec: WorkloadSpec): Workload {
  const random = prng(spec.seed);
  const total = spec.warmup + spec.timed;
  // New orders are 9% of operations (a little more when the book is refilled) plus the setup.
  const maxId = spec.targetOrders + Math.ceil(total * 0.2) + 16;
  const live = new LiveOrders(maxId);
  const oracle = new MatchingEngine(BENCH_MARKET, { initialCapacity: spec.targetOrders * 2 });
  const setup = new OpStream(spec.targetOrders);
  const ops = new OpStream(total);
  const mix = { new: 0, ioc: 0, cancel: 0, move: 0 };
  const W = spec.halfWidth;
  let nextId = 1;
  let time = 0;

  const place = {
    type: "place" as const,
    time: 0,
    orderId: 0,
    userId: 0,
    side: "buy" as Side,
    orderType: "limit" as const,
    price: 0,
    quantity: 0,
    timeInForce: "gtc" as "gtc" | "ioc",
  };
  const cancel = { type: "cancel" as const, time: 0, orderId: 0, userId: 0 };
  const amend = { type: "amend" as const, time: 0, orderId: 0, userId: 0, price: 0 };

  const bestBid = () => oracle.bestBid() || MID_PRICE - 1;
  const bestAsk = () => oracle.bestAsk() || MID_PRICE + 1;

  const newOrder = (stream: OpStream, side: number) => {
    const offset = Math.floor(random() * W);
    const price = side === BUY ? bestAsk() - 1 - offset : bestBid() + 1 + offset;
    const quantity = 1 + Math.floor(random() * 100);
    const userId = 1 + Math.floor(random() * 1000);
    const id = nextId++;
    place.time = time++;
    place.orderId = id;
    place.userId = userId;
    place.side = side === BUY ? "buy" : "sell";
    place.price = price;
    place.quantity = quantity;
    place.timeInForce = "gtc";
    const tradesBefore = live.trades;
    oracle.apply(place, live);
    if (live.trades !== tradesBefore) throw new Error("workload: a new GTC order crossed");
    live.add(id, side, price, userId);
    stream.push(NEW, id, userId, side, price, quantity);
  };

  for (let i = 0; i < spec.targetOrders; i++) newOrder(setup, i % 2 === 0 ? BUY : SELL);

  const high = Math.ceil(spec.targetOrders * 1.05);
  const low = Math.floor(spec.targetOrders * 0.95);
  for (let i = 0; i < total; i++) {
    const r = random();
    let kind = r < 0.09 ? NEW : r < 0.12 ? IOC : r < 0.18 ? CANCEL : MOVE;
    if (kind === NEW && live.count > high) kind = CANCEL;
    else if (kind === CANCEL && live.count < low) kind = NEW;
    if (live.count === 0 && (kind === CANCEL || kind === MOVE)) kind = NEW;

    if (kind === NEW) {
      mix.new += 1;
      // Feed the thinner side so the book stays two-sided.
      const bids = oracle.depth(1).bids.length;
      newOrder(ops, bids === 0 ? BUY : random() < 0.5 ? BUY : SELL);
    } else if (kind === IOC) {
      mix.ioc += 1;
      const side = random() < 0.5 ? BUY : SELL;
      const reach = Math.floor(random() * 3);
      const price = side === BUY ? bestAsk() + reach : Math.max(1, bestBid() - reach);
      const quantity = 1 + Math.floor(random() * 200);
      const userId = 1 + Math.floor(random() * 1000);
      const id = nextId++;
      place.time = time++;
      place.orderId = id;
      place.userId = userId;
      place.side = side === BUY ? "buy" : "sell";
      place.price = price;
      place.quantity = quantity;
      place.timeInForce = "ioc";
      oracle.apply(place, live);
      ops.push(IOC, id, userId, side, price, quantity);
    } else if (kind === CANCEL) {
      mix.cancel += 1;
      const id = live.pick(random());
      const userId = live.user[id] ?? 0;
      cancel.time = time++;
      cancel.orderId = id;
      cancel.userId = userId;
      oracle.apply(cancel, live);
      ops.push(CANCEL, id, userId, live.side[id] ?? 0, 0, 0);
    } else {
      mix.move += 1;
      const id = live.pick(random());
      const side = live.side[id] ?? 0;
      const old = live.price[id] ?? 0;
      const delta = 1 + Math.floor(random() * 4);
      let price: number;
      if (side === BUY) {
        const ask = bestAsk();
        // Orders that drifted far from the touch are pulled back towards it.
        const up = ask - old > W ? true : random() < 0.5;
        price = up ? old + delta : old - delta;
        if (price >= ask) price = ask - 1;
        if (price === old) price = old - 1;
      } else {
        const bid = bestBid();
        const down = old - bid > W ? true : random() < 0.5;
        price = down ? old - delta : old + delta;
        if (price <= bid) price = bid + 1;
        if (price === old) price = old + 1;
      }
      const userId = live.user[id] ?? 0;
      amend.time = time++;
      amend.orderId = id;
      amend.userId = userId;
      amend.price = price;
      oracle.apply(amend, live);
      ops.push(MOVE, id, userId, side, price, 0);
    }
    if (live.rejections !== 0) throw new Error(`workload: operation ${i} was rejected`);
  }
  return { spec, setup, ops, maxOrderId: nextId - 1, mix };
}
