// The matching engine for one market: a deterministic function of (state, command) → (state',
// events). No clock, no randomness, no I/O. Orders and price levels are fixed-size records in
// flat buffers linked by int32 slots (intrusive lists), so the steady state allocates nothing
// and touching an order costs one cache line.
import { EventCollector, type EventSink } from "./events";
import { IdTable } from "./id-table";
import { MarketConfigError, type ResolvedMarket, resolveMarket } from "./market";
import { PRICE_STRIDE, PriceLadder } from "./price-ladder";
import { SlotIndex } from "./slot-index";
import type {
  AmendCommand,
  ArmCommand,
  CancelAllCommand,
  CancelCommand,
  CancelReason,
  Command,
  CommandType,
  DelistCommand,
  Depth,
  DisarmCommand,
  EngineEvent,
  MarketConfig,
  OpenOrder,
  PlaceCommand,
  RejectReason,
  RulesCommand,
  Side,
  StopTrigger,
  StpAct,
  TimeInForce,
} from "./types";

const NIL = -1;
const BUY = 0;
const SELL = 1;

const GTC = 0;
const IOC = 1;
const POC = 2;
const FOK = 3;

const STP_NONE = 0;
const STP_CN = 1;
const STP_CO = 2;
const STP_CB = 3;

const KIND_FREE = 0;
const KIND_RESTING = 1;
const KIND_STOP = 2;
const KIND_TAKER = 3;

const GTE = 0;
const LTE = 1;

const BPS = 10_000;

// An order record is 32 bytes, seen as 4 float64s or 8 int32s: float64 [id, left], then
// int32 [prev, next, level, meta]; meta = side (bit 0) | kind (1–2) | time in force (3–4) |
// stp (5–6) | trigger (7) | user slot (8–31). A resting order's price is its level's. What
// only stops, STP or user bookkeeping need lives in separate per-slot arrays, so a deep
// book's hot records stay in cache.
const ORDER_BYTES = 32;
const RECORD_F64S = ORDER_BYTES / 8;
const F_ID = 0;
const F_LEFT = 1;
const I_PREV = 4;
const I_NEXT = 5;
const I_LEVEL = 6;
const I_META = 7;
const KIND_MASK = 0b110;
const MAX_USER_SLOTS = 1 << 24;

// A level record is 32 bytes: float64 [price, quantity] then int32 [head, tail, count].
const LEVEL_BYTES = PRICE_STRIDE * 8;
const L_PRICE = 0;
const L_QTY = 1;
const L_HEAD = 4;
const L_TAIL = 5;
const L_COUNT = 6;

function flags(side: number, kind: number, tif: number, stp: number, trigger: number): number {
  return side | (kind << 1) | (tif << 3) | (stp << 5) | (trigger << 7);
}

const FLAGS_MASK = 0xff;

function sideName(side: number): Side {
  return side === BUY ? "buy" : "sell";
}

function tifName(tif: number): TimeInForce {
  return tif === GTC ? "gtc" : tif === IOC ? "ioc" : tif === POC ? "poc" : "fok";
}

function stpName(stp: number): StpAct | null {
  return stp === STP_CN ? "cn" : stp === STP_CO ? "co" : stp === STP_CB ? "cb" : null;
}

function sideCode(side: unknown): number {
  return side === "buy" ? BUY : side === "sell" ? SELL : NIL;
}

function tifCode(tif: unknown): number {
  switch (tif) {
    case "gtc":
      return GTC;
    case "ioc":
      return IOC;
    case "poc":
      return POC;
    case "fok":
      return FOK;
    default:
      return NIL;
  }
}

function stpCode(stp: unknown): number {
  switch (stp) {
    case "cn":
      return STP_CN;
    case "co":
      return STP_CO;
    case "cb":
      return STP_CB;
    default:
      return NIL;
  }
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function timeOf(time: unknown): number {
  return isNonNegativeInteger(time) ? time : 0;
}

export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

export interface EngineOptions {
  /** Run the full O(book) invariant check after every command (on in tests). */
  checkInvariants?: boolean;
  /** Orders to size the buffers for up front; they double beyond it. */
  initialCapacity?: number;
}

/** A serialised book: everything that decides future events. JSON-safe (all safe integers). */
export interface EngineSnapshot {
  format: "spotx.engine.snapshot";
  version: 1;
  config: MarketConfig;
  seq: number;
  lastPrice: number;
  halted: boolean;
  /** Delisted for good; absent in snapshots from before delisting existed (= false). */
  delisted?: boolean;
  /** Resting bids in priority order: best price first, then time priority (FIFO). */
  bids: OpenOrder[];
  /** Resting asks in priority order. */
  asks: OpenOrder[];
  /** Untriggered stop orders: "gte" ones in firing order, then "lte" ones in firing order. */
  stops: OpenOrder[];
  /** Armed price triggers in firing order; absent in snapshots from before they existed. */
  triggers?: ArmedTrigger[];
}

/** An armed price trigger as a snapshot keeps it. */
export interface ArmedTrigger {
  triggerId: number;
  userId: number;
  price: number;
  trigger: StopTrigger;
}

type PriceTrigger = {
  triggerId: number;
  userId: number;
  price: number;
  gte: boolean;
  rank: number;
};

export class MatchingEngine {
  /** The current rules; replaced, whole, by a `rules` command (see `market`). */
  private resolved: ResolvedMarket;
  private readonly checkInvariants: boolean;
  private readonly collector = new EventCollector();

  private seqNo = 0;
  private last = 0;
  private isHalted = false;
  private isDelisted = false;
  private nextRank = 1;

  // Orders (resting, stop, or in flight as a taker): hot records plus cold per-slot arrays.
  private of: Float64Array;
  private oi: Int32Array;
  /** Limit price of a stop order (a resting order's price is its level's). */
  private cPrice: Float64Array;
  private cStop: Float64Array;
  private cGroup: Float64Array;
  /** Arrival rank: stop order priority, and (with checkInvariants) the FIFO check. */
  private cRank: Float64Array;
  /** An order's whole amount in lots (filled = amount − left); what an amend by `amount` needs. */
  private cAmount: Float64Array;
  private cUPrev: Int32Array;
  private cUNext: Int32Array;
  private orderCapacity: number;
  private freeOrder = NIL;
  private orderHigh = 0;
  private liveOrders = 0;
  private readonly orderIndex: SlotIndex;

  // Price levels.
  private lf: Float64Array;
  private li: Int32Array;
  private levelCapacity: number;
  private freeLevel = NIL;
  private levelHigh = 0;
  private readonly bids = new PriceLadder(true);
  private readonly asks = new PriceLadder(false);

  // Users with open orders: id, count and an intrusive list of their orders.
  private uId: Float64Array;
  private uCount: Int32Array;
  private uHead: Int32Array;
  private userCapacity: number;
  private freeUser = NIL;
  private userHigh = 0;
  private readonly userIndex: IdTable;

  // Stop orders, each list sorted so that the next to fire is last.
  /** Armed price triggers: each list in firing order from its end (pop fires next). */
  private readonly gteTriggers: PriceTrigger[] = [];
  private readonly lteTriggers: PriceTrigger[] = [];
  private readonly triggerIndex = new Map<number, PriceTrigger>();
  private nextTriggerRank = 1;
  private readonly gteStops: number[] = [];
  private readonly lteStops: number[] = [];

  // An output of `match`, kept in a field so that matching returns without allocating.
  private takerKilled = false;

  constructor(config: MarketConfig, options: EngineOptions = {}) {
    this.resolved = resolveMarket(config);
    this.checkInvariants = options.checkInvariants ?? false;
    const capacity = Math.max(16, options.initialCapacity ?? 1024);
    this.orderCapacity = capacity;
    const orders = new ArrayBuffer(capacity * ORDER_BYTES);
    this.of = new Float64Array(orders);
    this.oi = new Int32Array(orders);
    this.cPrice = new Float64Array(capacity);
    this.cStop = new Float64Array(capacity);
    this.cGroup = new Float64Array(capacity);
    this.cRank = new Float64Array(capacity);
    this.cAmount = new Float64Array(capacity);
    this.cUPrev = new Int32Array(capacity);
    this.cUNext = new Int32Array(capacity);
    this.orderIndex = new SlotIndex(capacity);

    const levelCapacity = Math.max(64, capacity >> 2);
    this.levelCapacity = levelCapacity;
    const levels = new ArrayBuffer(levelCapacity * LEVEL_BYTES);
    this.lf = new Float64Array(levels);
    this.li = new Int32Array(levels);

    const users = 256;
    this.userCapacity = users;
    this.uId = new Float64Array(users);
    this.uCount = new Int32Array(users);
    this.uHead = new Int32Array(users);
    this.userIndex = new IdTable(users);
  }

  // ---------------------------------------------------------------- public API

  /** Applies one command and returns its events as plain objects. */
  process(command: Command): EngineEvent[] {
    this.apply(command, this.collector);
    return this.collector.take();
  }

  /** Applies one command, handing each event to `sink` as it happens (no allocation). */
  apply(command: Command, sink: EventSink): void {
    const lastBefore = this.last;
    switch (command.type) {
      case "amend":
        this.amend(command, sink);
        break;
      case "place":
        this.place(command, sink);
        break;
      case "cancel":
        this.cancel(command, sink);
        break;
      case "cancelAll":
        this.cancelAll(command, sink);
        break;
      case "arm":
        this.arm(command, sink);
        break;
      case "disarm":
        this.disarm(command, sink);
        break;
      case "halt":
        this.isHalted = true;
        sink.halted(++this.seqNo, timeOf(command.time));
        break;
      case "resume":
        // A delisted market stays closed: nothing to resume, nothing emitted.
        if (this.isDelisted) break;
        this.isHalted = false;
        sink.resumed(++this.seqNo, timeOf(command.time));
        break;
      case "delist":
        this.delist(command, sink);
        break;
      case "rules":
        this.changeRules(command, sink);
        break;
      default: {
        const unknown = command as { time?: unknown };
        sink.rejected(++this.seqNo, timeOf(unknown.time), "unknown", 0, 0, "INVALID_PARAM");
      }
    }
    if (this.last !== lastBefore && this.triggerIndex.size > 0) {
      this.runTriggers(sink, timeOf(command.time));
    }
    this.afterCommand();
  }

  /** The checked config, its derived bounds and its scale: the market's current rules. */
  get market(): ResolvedMarket {
    return this.resolved;
  }

  /** The last event's sequence number (0 before any event). */
  get seq(): number {
    return this.seqNo;
  }

  /** The last trade price in ticks (0 before any trade). */
  get lastPrice(): number {
    return this.last;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  /** Closed for good by a `delist` (halted too). */
  get delisted(): boolean {
    return this.isDelisted;
  }

  /** Orders the engine holds: resting plus untriggered stops. */
  get orderCount(): number {
    return this.liveOrders;
  }

  /** Best bid in ticks, 0 when there is none. */
  bestBid(): number {
    const level = this.bids.best();
    return level === NIL ? 0 : this.levelPrice(level);
  }

  /** Best ask in ticks, 0 when there is none. */
  bestAsk(): number {
    const level = this.asks.best();
    return level === NIL ? 0 : this.levelPrice(level);
  }

  /** The top `limit` aggregated levels of each side, best first. */
  depth(limit = Number.POSITIVE_INFINITY): Depth {
    return { bids: this.sideDepth(this.bids, limit), asks: this.sideDepth(this.asks, limit) };
  }

  /** An open order (resting or stop) by id. */
  getOrder(orderId: number): OpenOrder | undefined {
    if (!isPositiveInteger(orderId)) return undefined;
    const slot = this.findOrder(orderId);
    return slot === NIL ? undefined : this.describe(slot);
  }

  /** A user's open orders in this market, by ascending order id. */
  openOrders(userId: number): OpenOrder[] {
    return this.userSlots(userId, NIL).map((slot) => this.describe(slot));
  }

  // ---------------------------------------------------------------- record access

  private findOrder(orderId: number): number {
    return this.orderIndex.get(orderId, this.of, RECORD_F64S);
  }

  private orderId(slot: number): number {
    return this.of[slot << 2] ?? 0;
  }

  private orderLeft(slot: number): number {
    return this.of[(slot << 2) + F_LEFT] ?? 0;
  }

  private orderMeta(slot: number): number {
    return this.oi[(slot << 3) + I_META] ?? 0;
  }

  private orderUser(slot: number): number {
    return this.uId[this.orderMeta(slot) >>> 8] ?? 0;
  }

  private setOrderKind(slot: number, kind: number): void {
    const at = (slot << 3) + I_META;
    this.oi[at] = ((this.oi[at] ?? 0) & ~KIND_MASK) | (kind << 1);
  }

  /** A resting order's price is its level's; a stop's is kept aside. */
  private orderPrice(slot: number): number {
    const meta = this.orderMeta(slot);
    if (((meta >> 1) & 3) === KIND_RESTING) {
      return this.levelPrice(this.oi[(slot << 3) + I_LEVEL] ?? NIL);
    }
    return this.cPrice[slot] ?? 0;
  }

  private levelPrice(level: number): number {
    return this.lf[(level << 2) + L_PRICE] ?? 0;
  }

  private levelQty(level: number): number {
    return this.lf[(level << 2) + L_QTY] ?? 0;
  }

  // ---------------------------------------------------------------- place

  private place(c: PlaceCommand, sink: EventSink): void {
    const market = this.market;
    const time = timeOf(c.time);
    if (this.isHalted) {
      this.reject(sink, time, "place", c, this.isDelisted ? "MARKET_CLOSED" : "MARKET_HALTED");
      return;
    }

    const side = sideCode(c.side);
    const isLimit = c.orderType === "limit";
    const isMarket = c.orderType === "market";
    const hasStop = c.stopPrice !== undefined;
    let tif = GTC;
    if (c.timeInForce !== undefined) tif = tifCode(c.timeInForce);
    else if (isMarket) tif = IOC;
    let stp = STP_NONE;
    if (c.stpAct !== undefined) stp = stpCode(c.stpAct);
    const group = c.stpGroup ?? 0;
    let trigger = side === BUY ? GTE : LTE;
    if (c.trigger !== undefined) {
      trigger = c.trigger === "gte" ? GTE : c.trigger === "lte" ? LTE : NIL;
    }
    const byQuote = isMarket && side === BUY;
    if (
      !isNonNegativeInteger(c.time) ||
      !isPositiveInteger(c.orderId) ||
      !isPositiveInteger(c.userId) ||
      side === NIL ||
      (!isLimit && !isMarket) ||
      tif === NIL ||
      stp === NIL ||
      trigger === NIL ||
      !isNonNegativeInteger(group) ||
      (c.text !== undefined && typeof c.text !== "string") ||
      (c.trigger !== undefined && !hasStop) ||
      (isMarket &&
        (tif !== IOC ||
          hasStop ||
          c.price !== undefined ||
          (byQuote ? c.quantity !== undefined : c.quoteAmount !== undefined))) ||
      (isLimit && c.quoteAmount !== undefined)
    ) {
      this.reject(sink, time, "place", c, "INVALID_PARAM");
      return;
    }
    const orderId = c.orderId;
    const userId = c.userId;
    if (this.findOrder(orderId) !== NIL) {
      this.reject(sink, time, "place", c, "DUPLICATE_ORDER_ID");
      return;
    }
    const price = c.price ?? 0;
    const stopPrice = c.stopPrice ?? 0;
    if (
      (isLimit && (!isPositiveInteger(price) || price % market.priceStep !== 0)) ||
      (hasStop && (!isPositiveInteger(stopPrice) || stopPrice % market.priceStep !== 0))
    ) {
      this.reject(sink, time, "place", c, "TICK_SIZE");
      return;
    }
    if (price > market.maxPrice || stopPrice > market.maxPrice) {
      this.reject(sink, time, "place", c, "PRICE_TOO_HIGH");
      return;
    }
    const amount = byQuote ? c.quoteAmount : c.quantity;
    // A market buy's quote amount is any whole number of minor units (it buys whole lots).
    if (!isPositiveInteger(amount) || (!byQuote && amount % market.quantityStep !== 0)) {
      this.reject(sink, time, "place", c, "LOT_SIZE");
      return;
    }
    if (amount > (byQuote ? market.maxQuoteAmount : market.maxQuantity)) {
      this.reject(sink, time, "place", c, "AMOUNT_TOO_LARGE");
      return;
    }
    if (
      byQuote
        ? amount < market.minNotional
        : amount < market.minQuantity ||
          (isLimit && price * amount * market.quotePerTickLot < market.minNotional)
    ) {
      this.reject(sink, time, "place", c, "AMOUNT_TOO_LITTLE");
      return;
    }
    if (isLimit && !this.withinBand(price)) {
      this.reject(sink, time, "place", c, "PRICE_BAND");
      return;
    }
    const mayRest = hasStop || (isLimit && (tif === GTC || tif === POC));
    if (mayRest) {
      if (this.userOpenCount(userId) >= market.maxOpenOrdersPerUser) {
        this.reject(sink, time, "place", c, "TOO_MANY_OPEN_ORDERS");
        return;
      }
      if (this.liveOrders >= market.maxOrders) {
        this.reject(sink, time, "place", c, "BOOK_FULL");
        return;
      }
    }
    if (isLimit && !hasStop && tif === POC && this.crosses(side, price)) {
      this.reject(sink, time, "place", c, "POC_FILL_IMMEDIATELY");
      return;
    }

    sink.accepted(
      ++this.seqNo,
      time,
      orderId,
      userId,
      sideName(side),
      isLimit ? "limit" : "market",
      price,
      byQuote ? 0 : amount,
      byQuote ? amount : 0,
      tifName(tif),
      stopPrice,
      hasStop ? (trigger === GTE ? "gte" : "lte") : null,
      stpName(stp),
      group,
      c.text ?? null,
    );

    if (hasStop) {
      const slot = this.allocOrder(orderId, userId, group, stp, side, amount, tif);
      const at = (slot << 3) + I_META;
      this.oi[at] = ((this.oi[at] ?? 0) & ~FLAGS_MASK) | flags(side, KIND_STOP, tif, stp, trigger);
      this.cPrice[slot] = price;
      this.cStop[slot] = stopPrice;
      this.cRank[slot] = this.nextRank++;
      this.insertStop(slot);
    } else if (isMarket) {
      const left = this.match(sink, time, orderId, userId, group, stp, side, 0, amount, byQuote);
      if (this.takerKilled) this.emitCancelled(sink, time, orderId, userId, side, 0, left, "stp");
      else if (left > 0) this.emitCancelled(sink, time, orderId, userId, side, 0, left, "ioc");
    } else {
      this.executeLimit(sink, time, NIL, orderId, userId, group, stp, side, price, amount, tif);
    }
    if (this.gteStops.length + this.lteStops.length > 0) this.runStops(sink, time);
  }

  /**
   * Runs an accepted limit order (new, triggered, or re-priced by an amend) to its end: it
   * trades, then rests or is cancelled. `slot` is the order's record if it already has one
   * (kept if it rests, released if not), else NIL.
   */
  private executeLimit(
    sink: EventSink,
    time: number,
    slot: number,
    orderId: number,
    userId: number,
    group: number,
    stp: number,
    side: number,
    price: number,
    quantity: number,
    tif: number,
  ): void {
    let left = quantity;
    if (tif === POC) {
      if (this.crosses(side, price)) {
        if (slot !== NIL) this.releaseOrder(slot);
        this.emitCancelled(sink, time, orderId, userId, side, price, left, "poc");
        return;
      }
    } else {
      if (tif === FOK && !this.fillable(side, price, quantity, userId, group, stp)) {
        if (slot !== NIL) this.releaseOrder(slot);
        this.emitCancelled(sink, time, orderId, userId, side, price, left, "fok");
        return;
      }
      if (this.crosses(side, price)) {
        left = this.match(sink, time, orderId, userId, group, stp, side, price, quantity, false);
        if (this.takerKilled || left === 0 || tif !== GTC) {
          if (slot !== NIL) this.releaseOrder(slot);
          if (this.takerKilled) {
            this.emitCancelled(sink, time, orderId, userId, side, price, left, "stp");
          } else if (left > 0) {
            invariant(tif === IOC, "a fill-or-kill order was not filled completely");
            this.emitCancelled(sink, time, orderId, userId, side, price, left, "ioc");
          }
          return;
        }
      } else if (tif !== GTC) {
        invariant(tif === IOC, "a fillable fill-or-kill order did not cross");
        if (slot !== NIL) this.releaseOrder(slot);
        this.emitCancelled(sink, time, orderId, userId, side, price, left, "ioc");
        return;
      }
    }
    let s = slot;
    if (s === NIL) {
      s = this.allocOrder(orderId, userId, group, stp, side, left, tif);
      this.cAmount[s] = quantity;
    } else {
      this.of[(s << 2) + F_LEFT] = left;
    }
    this.enqueue(sink, time, s, side, price, left);
  }

  /**
   * Matches a taker against the opposite side until it is filled, the book no longer
   * crosses its limit (`limit` 0 = market), STP stops it, or, for a market buy by quote
   * (`byQuote`), the remaining quote cannot buy one lot. Returns what is left (lots, or quote
   * minor units when `byQuote`); sets `takerKilled` when STP cancelled the taker.
   */
  private match(
    sink: EventSink,
    time: number,
    takerId: number,
    takerUser: number,
    takerGroup: number,
    stp: number,
    side: number,
    limit: number,
    amount: number,
    byQuote: boolean,
  ): number {
    const ladder = side === BUY ? this.asks : this.bids;
    const makerSide = side === BUY ? SELL : BUY;
    const takerSide = sideName(side);
    const makerSideName = sideName(makerSide);
    const quotePerTickLot = this.resolved.quotePerTickLot;
    // A market buy by quote buys whole lots of the market (quantityStep engine lots each), so
    // what a maker has left stays a multiple of the lot.
    const step = this.resolved.quantityStep;
    const of = this.of;
    const oi = this.oi;
    const lf = this.lf;
    const li = this.li;
    const uId = this.uId;
    let left = amount;
    let killed = false;
    while (left > 0 && ladder.length > 0) {
      const level = ladder.levels[ladder.length - 1] ?? NIL;
      const lfAt = level << 2;
      const liAt = level << 3;
      const price = lf[lfAt + L_PRICE] ?? 0;
      if (limit !== 0 && (side === BUY ? price > limit : price < limit)) break;
      const lotCost = price * quotePerTickLot;
      const stepCost = lotCost * step;
      if (byQuote && left < stepCost) break;
      let done = false;
      let touched = false;
      let maker = li[liAt + L_HEAD] ?? NIL;
      while (maker !== NIL) {
        const mf = maker << 2;
        const mi = maker << 3;
        const next = oi[mi + I_NEXT] ?? NIL;
        const makerUser = uId[(oi[mi + I_META] ?? 0) >>> 8] ?? 0;
        const makerLeft = of[mf + F_LEFT] ?? 0;
        const makerId = of[mf + F_ID] ?? 0;
        if (
          stp !== STP_NONE &&
          (makerUser === takerUser || (takerGroup !== 0 && this.cGroup[maker] === takerGroup))
        ) {
          if (stp !== STP_CN) {
            // co / cb: the resting (oldest) order goes.
            touched = true;
            lf[lfAt + L_QTY] = (lf[lfAt + L_QTY] ?? 0) - makerLeft;
            this.unlink(maker, level);
            this.releaseOrder(maker);
            this.emitCancelled(sink, time, makerId, makerUser, makerSide, price, makerLeft, "stp");
          }
          if (stp !== STP_CO) {
            killed = true;
            done = true;
            break;
          }
          maker = next;
          continue;
        }
        let quantity: number;
        if (byQuote) {
          // Whole lots the remaining quote pays for: exact integer division via the remainder.
          const affordable = ((left - (left % stepCost)) / stepCost) * step;
          if (affordable === 0) {
            done = true;
            break;
          }
          quantity = affordable < makerLeft ? affordable : makerLeft;
        } else {
          quantity = left < makerLeft ? left : makerLeft;
        }
        const quoteAmount = quantity * lotCost;
        left -= byQuote ? quoteAmount : quantity;
        const makerRemaining = makerLeft - quantity;
        of[mf + F_LEFT] = makerRemaining;
        lf[lfAt + L_QTY] = (lf[lfAt + L_QTY] ?? 0) - quantity;
        touched = true;
        this.last = price;
        if (makerRemaining === 0) {
          this.unlink(maker, level);
          this.releaseOrder(maker);
        }
        sink.trade(
          ++this.seqNo,
          time,
          makerId,
          takerId,
          makerUser,
          takerUser,
          price,
          quantity,
          quoteAmount,
          takerSide,
          makerRemaining,
          left,
        );
        if (left === 0) {
          done = true;
          break;
        }
        maker = next;
      }
      if (touched) {
        sink.level(++this.seqNo, time, makerSideName, price, lf[lfAt + L_QTY] ?? 0);
        if ((li[liAt + L_COUNT] ?? 0) === 0) {
          ladder.removeBest(lf);
          this.freeLevelSlot(level);
        }
      }
      if (done) break;
    }
    this.takerKilled = killed;
    return left;
  }

  /** Whether a fill-or-kill taker would fill completely, STP included. */
  private fillable(
    side: number,
    limit: number,
    quantity: number,
    takerUser: number,
    takerGroup: number,
    stp: number,
  ): boolean {
    const ladder = side === BUY ? this.asks : this.bids;
    let need = quantity;
    for (let i = ladder.length - 1; i >= 0; i--) {
      const level = ladder.levels[i] ?? NIL;
      const price = this.levelPrice(level);
      if (side === BUY ? price > limit : price < limit) return false;
      if (stp === STP_NONE) {
        need -= this.levelQty(level);
        if (need <= 0) return true;
        continue;
      }
      let maker = this.li[(level << 3) + L_HEAD] ?? NIL;
      for (; maker !== NIL; maker = this.oi[(maker << 3) + I_NEXT] ?? NIL) {
        if (
          this.orderUser(maker) === takerUser ||
          (takerGroup !== 0 && this.cGroup[maker] === takerGroup)
        ) {
          if (stp === STP_CO) continue;
          return false;
        }
        need -= this.orderLeft(maker);
        if (need <= 0) return true;
      }
    }
    return false;
  }

  private crosses(side: number, price: number): boolean {
    if (side === BUY) {
      const level = this.asks.best();
      return level !== NIL && (this.lf[(level << 2) + L_PRICE] ?? 0) <= price;
    }
    const level = this.bids.best();
    return level !== NIL && (this.lf[(level << 2) + L_PRICE] ?? 0) >= price;
  }

  private withinBand(price: number): boolean {
    const bps = this.market.priceBandBps;
    const last = this.last;
    if (bps === 0 || last === 0) return true;
    // price/last within [1 - bps/10^4, 1 + bps/10^4], in integers (bounded in market.ts).
    const scaled = price * BPS;
    return scaled <= last * (BPS + bps) && scaled >= last * (BPS - bps);
  }

  // ---------------------------------------------------------------- price triggers

  private arm(c: ArmCommand, sink: EventSink): void {
    const time = timeOf(c.time);
    const ids = { orderId: c.triggerId, userId: c.userId };
    if (
      !isNonNegativeInteger(c.time) ||
      !isPositiveInteger(c.triggerId) ||
      !isPositiveInteger(c.userId) ||
      (c.trigger !== "gte" && c.trigger !== "lte")
    ) {
      this.reject(sink, time, "arm", ids, "INVALID_PARAM");
      return;
    }
    if (this.isDelisted) {
      this.reject(sink, time, "arm", ids, "MARKET_CLOSED");
      return;
    }
    if (!isPositiveInteger(c.price)) {
      this.reject(sink, time, "arm", ids, "TICK_SIZE");
      return;
    }
    if (c.price > this.market.maxPrice) {
      this.reject(sink, time, "arm", ids, "PRICE_TOO_HIGH");
      return;
    }
    if (this.triggerIndex.has(c.triggerId)) {
      this.reject(sink, time, "arm", ids, "DUPLICATE_ORDER_ID");
      return;
    }
    if (this.triggerIndex.size >= this.market.maxOrders) {
      this.reject(sink, time, "arm", ids, "BOOK_FULL");
      return;
    }
    this.insertTrigger({
      triggerId: c.triggerId,
      userId: c.userId,
      price: c.price,
      gte: c.trigger === "gte",
      rank: this.nextTriggerRank++,
    });
    this.runTriggers(sink, time);
  }

  private disarm(c: DisarmCommand, sink: EventSink): void {
    const time = timeOf(c.time);
    const ids = { orderId: c.triggerId, userId: c.userId };
    if (
      !isNonNegativeInteger(c.time) ||
      !isPositiveInteger(c.triggerId) ||
      !isPositiveInteger(c.userId)
    ) {
      this.reject(sink, time, "disarm", ids, "INVALID_PARAM");
      return;
    }
    const armed = this.triggerIndex.get(c.triggerId);
    // Fired or disarmed already: the database knew before the command got here.
    if (!armed || armed.userId !== c.userId) return;
    this.removeTrigger(armed);
  }

  /** Keeps each list sorted so that its end fires first: nearest price, then earliest armed. */
  private insertTrigger(t: PriceTrigger): void {
    const list = t.gte ? this.gteTriggers : this.lteTriggers;
    // Fires before: gte — lower price; lte — higher price; then the lower rank.
    const before = (a: PriceTrigger, b: PriceTrigger) =>
      a.price !== b.price ? (a.gte ? a.price < b.price : a.price > b.price) : a.rank < b.rank;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const at = list[mid];
      if (at && before(at, t)) hi = mid;
      else lo = mid + 1;
    }
    list.splice(lo, 0, t);
    this.triggerIndex.set(t.triggerId, t);
  }

  private removeTrigger(t: PriceTrigger): void {
    const list = t.gte ? this.gteTriggers : this.lteTriggers;
    const position = list.lastIndexOf(t);
    invariant(position >= 0, "price trigger missing from its list");
    list.splice(position, 1);
    this.triggerIndex.delete(t.triggerId);
  }

  /** Fires every trigger the last trade price has reached: gte ones first, then lte ones. */
  private runTriggers(sink: EventSink, time: number): void {
    const last = this.last;
    if (last === 0) return;
    for (;;) {
      const next = this.gteTriggers[this.gteTriggers.length - 1];
      if (!next || next.price > last) break;
      this.gteTriggers.pop();
      this.triggerIndex.delete(next.triggerId);
      sink.fired(++this.seqNo, time, next.triggerId, next.userId, next.price, "gte", last);
    }
    for (;;) {
      const next = this.lteTriggers[this.lteTriggers.length - 1];
      if (!next || next.price < last) break;
      this.lteTriggers.pop();
      this.triggerIndex.delete(next.triggerId);
      sink.fired(++this.seqNo, time, next.triggerId, next.userId, next.price, "lte", last);
    }
  }

  /** Armed triggers in firing order (gte ones, then lte ones), for snapshots and tests. */
  armedTriggers(): ArmedTrigger[] {
    const out: ArmedTrigger[] = [];
    for (const list of [this.gteTriggers, this.lteTriggers]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const t = list[i];
        if (t) {
          out.push({
            triggerId: t.triggerId,
            userId: t.userId,
            price: t.price,
            trigger: t.gte ? "gte" : "lte",
          });
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- stops

  private insertStop(slot: number): void {
    const list = this.triggerOf(slot) === GTE ? this.gteStops : this.lteStops;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.firesBefore(list[mid] ?? NIL, slot)) hi = mid;
      else lo = mid + 1;
    }
    list.splice(lo, 0, slot);
  }

  private triggerOf(slot: number): number {
    return (this.orderMeta(slot) >> 7) & 1;
  }

  /** Whether stop `a` fires before stop `b` (same trigger): nearer stop price, then earlier. */
  private firesBefore(a: number, b: number): boolean {
    const pa = this.cStop[a] ?? 0;
    const pb = this.cStop[b] ?? 0;
    if (pa !== pb) return this.triggerOf(a) === GTE ? pa < pb : pa > pb;
    return (this.cRank[a] ?? 0) < (this.cRank[b] ?? 0);
  }

  private removeStop(slot: number): void {
    const list = this.triggerOf(slot) === GTE ? this.gteStops : this.lteStops;
    const position = list.lastIndexOf(slot);
    invariant(position >= 0, "stop order missing from its list");
    list.splice(position, 1);
  }

  /** Fires every stop the last trade price has reached, one at a time, each to its end. */
  private runStops(sink: EventSink, time: number): void {
    for (;;) {
      const last = this.last;
      if (last === 0) return;
      let slot = this.gteStops[this.gteStops.length - 1] ?? NIL;
      if (slot !== NIL && (this.cStop[slot] ?? 0) <= last) {
        this.gteStops.pop();
      } else {
        slot = this.lteStops[this.lteStops.length - 1] ?? NIL;
        if (slot === NIL || (this.cStop[slot] ?? 0) < last) return;
        this.lteStops.pop();
      }
      const orderId = this.orderId(slot);
      const userId = this.orderUser(slot);
      const meta = this.orderMeta(slot);
      const side = meta & 1;
      const stopPrice = this.cStop[slot] ?? 0;
      sink.triggered(++this.seqNo, time, orderId, userId, sideName(side), stopPrice, last);
      this.setOrderKind(slot, KIND_TAKER);
      this.cStop[slot] = 0;
      this.executeLimit(
        sink,
        time,
        slot,
        orderId,
        userId,
        this.cGroup[slot] ?? 0,
        (meta >> 5) & 3,
        side,
        this.cPrice[slot] ?? 0,
        this.orderLeft(slot),
        (meta >> 3) & 3,
      );
    }
  }

  // ---------------------------------------------------------------- cancel

  private cancel(c: CancelCommand, sink: EventSink): void {
    const time = timeOf(c.time);
    if (
      !isNonNegativeInteger(c.time) ||
      !isPositiveInteger(c.orderId) ||
      !isPositiveInteger(c.userId)
    ) {
      this.reject(sink, time, "cancel", c, "INVALID_PARAM");
      return;
    }
    const slot = this.findOrder(c.orderId);
    if (slot === NIL || this.orderUser(slot) !== c.userId) {
      this.reject(sink, time, "cancel", c, "ORDER_NOT_FOUND");
      return;
    }
    this.cancelSlot(sink, time, slot, "user");
  }

  private cancelAll(c: CancelAllCommand, sink: EventSink): void {
    const time = timeOf(c.time);
    const side = c.side === undefined ? NIL : sideCode(c.side);
    if (
      !isNonNegativeInteger(c.time) ||
      !isPositiveInteger(c.userId) ||
      (c.side !== undefined && side === NIL)
    ) {
      this.reject(sink, time, "cancelAll", c, "INVALID_PARAM");
      return;
    }
    for (const slot of this.userSlots(c.userId, side)) this.cancelSlot(sink, time, slot, "user");
  }

  private cancelSlot(sink: EventSink, time: number, slot: number, reason: CancelReason): void {
    const orderId = this.orderId(slot);
    const userId = this.orderUser(slot);
    const price = this.orderPrice(slot);
    const left = this.orderLeft(slot);
    const meta = this.orderMeta(slot);
    const side = meta & 1;
    if (((meta >> 1) & 3) === KIND_STOP) {
      this.removeStop(slot);
      this.releaseOrder(slot);
      this.emitCancelled(sink, time, orderId, userId, side, price, left, reason);
      return;
    }
    const level = this.oi[(slot << 3) + I_LEVEL] ?? NIL;
    const qtyAt = (level << 2) + L_QTY;
    this.lf[qtyAt] = (this.lf[qtyAt] ?? 0) - left;
    this.unlink(slot, level);
    this.releaseOrder(slot);
    this.emitCancelled(sink, time, orderId, userId, side, price, left, reason);
    this.emitLevel(sink, time, side, level);
    this.dropLevelIfEmpty(side, level);
  }

  // ---------------------------------------------------------------- rules

  /**
   * A rules change (docs/decisions/006): the new steps, minimums and band replace the old ones
   * at this point of the log, `rulesChanged` says so, and then the open orders that no longer
   * fit — a price or stop price off the new tick, a remaining quantity off the new lot — are
   * cancelled (reason "market_rules") in ascending order id, each with its level event. Every
   * other order rests as it is: minimums and the band apply to new orders and amends only.
   * Armed price triggers stay armed; their order meets the rules of the moment it is placed.
   */
  private changeRules(c: RulesCommand, sink: EventSink): void {
    const time = timeOf(c.time);
    const r: unknown = c.rules;
    if (!isNonNegativeInteger(c.time) || typeof r !== "object" || r === null) {
      this.reject(sink, time, "rules", {}, "INVALID_PARAM");
      return;
    }
    const rules = r as Partial<Record<keyof RulesCommand["rules"], unknown>>;
    const fee = (value: unknown): number | null | undefined =>
      value === undefined
        ? null
        : isNonNegativeInteger(value) && value <= 1_000_000
          ? value
          : undefined;
    const makerFeePpm = fee(rules.makerFeePpm);
    const takerFeePpm = fee(rules.takerFeePpm);
    let next: ResolvedMarket;
    try {
      if (makerFeePpm === undefined || takerFeePpm === undefined) {
        throw new MarketConfigError("fees must be whole parts per million, at most 1,000,000");
      }
      next = resolveMarket({
        ...this.resolved.config,
        priceStep: rules.priceStep as number,
        quantityStep: rules.quantityStep as number,
        minQuantity: rules.minQuantity as number,
        minNotional: rules.minNotional as number,
        priceBandBps: rules.priceBandBps as number,
      });
    } catch (error) {
      if (!(error instanceof MarketConfigError)) throw error;
      this.reject(sink, time, "rules", {}, "INVALID_PARAM");
      return;
    }
    this.resolved = next;
    sink.rulesChanged(
      ++this.seqNo,
      time,
      next.priceStep,
      next.quantityStep,
      next.minQuantity,
      next.minNotional,
      next.priceBandBps,
      makerFeePpm ?? null,
      takerFeePpm ?? null,
    );
    const { priceStep, quantityStep } = next;
    if (priceStep === 1 && quantityStep === 1) return;
    const misfits: number[] = [];
    for (const ladder of [this.bids, this.asks]) {
      for (let i = 0; i < ladder.length; i++) {
        const level = ladder.levels[i] ?? NIL;
        const offTick = this.levelPrice(level) % priceStep !== 0;
        let slot = this.li[(level << 3) + L_HEAD] ?? NIL;
        for (; slot !== NIL; slot = this.oi[(slot << 3) + I_NEXT] ?? NIL) {
          if (offTick || this.orderLeft(slot) % quantityStep !== 0) {
            misfits.push(this.orderId(slot));
          }
        }
      }
    }
    for (const list of [this.gteStops, this.lteStops]) {
      for (const slot of list) {
        if (
          (this.cPrice[slot] ?? 0) % priceStep !== 0 ||
          (this.cStop[slot] ?? 0) % priceStep !== 0 ||
          this.orderLeft(slot) % quantityStep !== 0
        ) {
          misfits.push(this.orderId(slot));
        }
      }
    }
    misfits.sort((a, b) => a - b);
    for (const orderId of misfits) {
      this.cancelSlot(sink, time, this.findOrder(orderId), "market_rules");
    }
  }

  // ---------------------------------------------------------------- delist

  /**
   * Closes the market: halts it, cancels every resting order (best bid and ask levels first,
   * each queue in time order) and then every untriggered stop in firing order, all with reason
   * "delisted", forgets every armed price trigger, and emits `delisted`. Idempotent.
   */
  private delist(c: DelistCommand, sink: EventSink): void {
    if (this.isDelisted) return;
    const time = timeOf(c.time);
    this.isHalted = true;
    this.isDelisted = true;
    let cancelled = 0;
    for (const ladder of [this.bids, this.asks]) {
      while (ladder.length > 0) {
        const level = ladder.best();
        const slot = this.li[(level << 3) + L_HEAD] ?? NIL;
        invariant(slot !== NIL, "empty level in the book");
        this.cancelSlot(sink, time, slot, "delisted");
        cancelled += 1;
      }
    }
    for (const list of [this.gteStops, this.lteStops]) {
      while (list.length > 0) {
        this.cancelSlot(sink, time, list[list.length - 1] ?? NIL, "delisted");
        cancelled += 1;
      }
    }
    const disarmed = this.triggerIndex.size;
    this.gteTriggers.length = 0;
    this.lteTriggers.length = 0;
    this.triggerIndex.clear();
    sink.delisted(++this.seqNo, time, cancelled, disarmed);
  }

  // ---------------------------------------------------------------- amend

  private amend(c: AmendCommand, sink: EventSink): void {
    const market = this.market;
    const time = timeOf(c.time);
    if (
      !isNonNegativeInteger(c.time) ||
      !isPositiveInteger(c.orderId) ||
      !isPositiveInteger(c.userId) ||
      (c.price === undefined && c.quantity === undefined && c.amount === undefined) ||
      (c.quantity !== undefined && c.amount !== undefined)
    ) {
      this.reject(sink, time, "amend", c, "INVALID_PARAM");
      return;
    }
    const slot = this.findOrder(c.orderId);
    if (slot === NIL) {
      this.reject(sink, time, "amend", c, "ORDER_NOT_FOUND");
      return;
    }
    const meta = this.oi[(slot << 3) + I_META] ?? 0;
    if (this.uId[meta >>> 8] !== c.userId) {
      this.reject(sink, time, "amend", c, "ORDER_NOT_FOUND");
      return;
    }
    if (((meta >> 1) & 3) !== KIND_RESTING) {
      this.reject(sink, time, "amend", c, "INVALID_PARAM");
      return;
    }
    const level = this.oi[(slot << 3) + I_LEVEL] ?? NIL;
    const oldPrice = this.lf[(level << 2) + L_PRICE] ?? 0;
    const oldLeft = this.of[(slot << 2) + F_LEFT] ?? 0;
    const filled = (this.cAmount[slot] ?? oldLeft) - oldLeft;
    const price = c.price ?? oldPrice;
    if (c.amount !== undefined) {
      if (!isPositiveInteger(c.amount)) {
        this.reject(sink, time, "amend", c, "LOT_SIZE");
        return;
      }
      // gate.io: a new amount at or below what already filled cancels the order.
      if (c.amount <= filled) {
        this.cancelSlot(sink, time, slot, "user");
        return;
      }
    }
    const quantity = c.amount !== undefined ? c.amount - filled : (c.quantity ?? oldLeft);
    if (!isPositiveInteger(price) || price % market.priceStep !== 0) {
      this.reject(sink, time, "amend", c, "TICK_SIZE");
      return;
    }
    if (price > market.maxPrice) {
      this.reject(sink, time, "amend", c, "PRICE_TOO_HIGH");
      return;
    }
    if (!isPositiveInteger(quantity) || quantity % market.quantityStep !== 0) {
      this.reject(sink, time, "amend", c, "LOT_SIZE");
      return;
    }
    if (quantity > market.maxQuantity) {
      this.reject(sink, time, "amend", c, "AMOUNT_TOO_LARGE");
      return;
    }
    const repriced = price !== oldPrice;
    if (this.isHalted && (repriced || quantity > oldLeft)) {
      this.reject(sink, time, "amend", c, "MARKET_HALTED");
      return;
    }
    if (
      quantity < market.minQuantity ||
      price * quantity * market.quotePerTickLot < market.minNotional
    ) {
      this.reject(sink, time, "amend", c, "AMOUNT_TOO_LITTLE");
      return;
    }
    if (repriced && !this.withinBand(price)) {
      this.reject(sink, time, "amend", c, "PRICE_BAND");
      return;
    }
    const side = meta & 1;
    const tif = (meta >> 3) & 3;
    if (repriced && tif === POC && this.crosses(side, price)) {
      this.reject(sink, time, "amend", c, "POC_FILL_IMMEDIATELY");
      return;
    }

    const orderId = c.orderId;
    const userId = c.userId;
    const keep = !repriced && quantity <= oldLeft;
    this.cAmount[slot] = filled + quantity;
    sink.amended(
      ++this.seqNo,
      time,
      orderId,
      userId,
      sideName(side),
      price,
      quantity,
      oldPrice,
      oldLeft,
      keep,
    );
    const qtyAt = (level << 2) + L_QTY;
    if (!repriced) {
      if (quantity === oldLeft) return;
      this.lf[qtyAt] = (this.lf[qtyAt] ?? 0) + quantity - oldLeft;
      this.of[(slot << 2) + F_LEFT] = quantity;
      if (!keep) {
        // A larger order goes to the back of its level's queue.
        this.unlink(slot, level);
        this.append(slot, level);
      }
      this.emitLevel(sink, time, side, level);
      return;
    }
    this.lf[qtyAt] = (this.lf[qtyAt] ?? 0) - oldLeft;
    this.unlink(slot, level);
    this.oi[(slot << 3) + I_META] = (meta & ~KIND_MASK) | (KIND_TAKER << 1);
    this.emitLevel(sink, time, side, level);
    this.dropLevelIfEmpty(side, level);
    // The group only matters to STP, so its (cold) read is skipped without it.
    const stp = (meta >> 5) & 3;
    this.executeLimit(
      sink,
      time,
      slot,
      orderId,
      userId,
      stp === STP_NONE ? 0 : (this.cGroup[slot] ?? 0),
      stp,
      side,
      price,
      quantity,
      tif,
    );
    if (this.gteStops.length + this.lteStops.length > 0) this.runStops(sink, time);
  }

  // ---------------------------------------------------------------- book structure

  /** Puts an order (its record's left already set) at the back of the level at `price`. */
  private enqueue(
    sink: EventSink,
    time: number,
    slot: number,
    side: number,
    price: number,
    left: number,
  ): void {
    const level = this.levelFor(side, price);
    const metaAt = (slot << 3) + I_META;
    this.oi[metaAt] = ((this.oi[metaAt] ?? 0) & ~KIND_MASK) | (KIND_RESTING << 1);
    const qtyAt = (level << 2) + L_QTY;
    const total = (this.lf[qtyAt] ?? 0) + left;
    this.lf[qtyAt] = total;
    this.append(slot, level);
    sink.level(++this.seqNo, time, sideName(side), price, total);
  }

  /** The level at `price` on `side`, created (empty) if absent. */
  private levelFor(side: number, price: number): number {
    const ladder = side === BUY ? this.bids : this.asks;
    let level = ladder.find(price, this.lf);
    if (level === NIL) {
      level = this.allocLevel(price);
      ladder.add(price, level, this.lf);
    }
    return level;
  }

  private append(slot: number, level: number): void {
    const oi = this.oi;
    const li = this.li;
    const at = slot << 3;
    const levelAt = level << 3;
    const tail = li[levelAt + L_TAIL] ?? NIL;
    oi[at + I_PREV] = tail;
    oi[at + I_NEXT] = NIL;
    oi[at + I_LEVEL] = level;
    if (this.checkInvariants) this.cRank[slot] = this.nextRank++;
    if (tail === NIL) li[levelAt + L_HEAD] = slot;
    else oi[(tail << 3) + I_NEXT] = slot;
    li[levelAt + L_TAIL] = slot;
    li[levelAt + L_COUNT] = (li[levelAt + L_COUNT] ?? 0) + 1;
  }

  /** Takes an order out of its level's queue (the level's quantity is the caller's job). */
  private unlink(slot: number, level: number): void {
    const oi = this.oi;
    const li = this.li;
    const at = slot << 3;
    const levelAt = level << 3;
    const prev = oi[at + I_PREV] ?? NIL;
    const next = oi[at + I_NEXT] ?? NIL;
    if (prev === NIL) li[levelAt + L_HEAD] = next;
    else oi[(prev << 3) + I_NEXT] = next;
    if (next === NIL) li[levelAt + L_TAIL] = prev;
    else oi[(next << 3) + I_PREV] = prev;
    li[levelAt + L_COUNT] = (li[levelAt + L_COUNT] ?? 0) - 1;
  }

  private dropLevelIfEmpty(side: number, level: number): void {
    if ((this.li[(level << 3) + L_COUNT] ?? 0) !== 0) return;
    const ladder = side === BUY ? this.bids : this.asks;
    ladder.remove(this.levelPrice(level), this.lf);
    this.freeLevelSlot(level);
  }

  private allocLevel(price: number): number {
    let level = this.freeLevel;
    if (level !== NIL) {
      this.freeLevel = this.li[(level << 3) + L_HEAD] ?? NIL;
    } else {
      if (this.levelHigh === this.levelCapacity) this.growLevels();
      level = this.levelHigh++;
    }
    this.lf[(level << 2) + L_PRICE] = price;
    this.lf[(level << 2) + L_QTY] = 0;
    this.li[(level << 3) + L_HEAD] = NIL;
    this.li[(level << 3) + L_TAIL] = NIL;
    this.li[(level << 3) + L_COUNT] = 0;
    return level;
  }

  private freeLevelSlot(level: number): void {
    this.li[(level << 3) + L_HEAD] = this.freeLevel;
    this.freeLevel = level;
  }

  /** A record for a new open order, registered by id and with its user (kind: taker). */
  private allocOrder(
    orderId: number,
    userId: number,
    group: number,
    stp: number,
    side: number,
    left: number,
    tif: number,
  ): number {
    let slot = this.freeOrder;
    if (slot !== NIL) {
      this.freeOrder = this.oi[(slot << 3) + I_NEXT] ?? NIL;
    } else {
      if (this.orderHigh === this.orderCapacity) this.growOrders();
      slot = this.orderHigh++;
    }
    this.of[slot << 2] = orderId;
    this.of[(slot << 2) + F_LEFT] = left;
    const user = this.userLink(slot, userId);
    this.oi[(slot << 3) + I_META] = flags(side, KIND_TAKER, tif, stp, 0) | (user << 8);
    this.cGroup[slot] = group;
    this.cAmount[slot] = left;
    this.orderIndex.set(orderId, slot, this.of, RECORD_F64S);
    this.liveOrders += 1;
    return slot;
  }

  /** Forgets an order that is out of every queue and list. */
  private releaseOrder(slot: number): void {
    this.orderIndex.delete(this.of[slot << 2] ?? 0, slot, this.of, RECORD_F64S);
    this.userUnlink(slot);
    this.liveOrders -= 1;
    this.oi[(slot << 3) + I_META] = KIND_FREE;
    this.oi[(slot << 3) + I_NEXT] = this.freeOrder;
    this.freeOrder = slot;
  }

  /** Adds an order to its user's list; returns the user's slot. */
  private userLink(slot: number, userId: number): number {
    let user = this.userIndex.get(userId);
    if (user === NIL) {
      user = this.freeUser;
      if (user !== NIL) {
        this.freeUser = this.uHead[user] ?? NIL;
      } else {
        if (this.userHigh === this.userCapacity) this.growUsers();
        user = this.userHigh++;
      }
      this.uId[user] = userId;
      this.uCount[user] = 0;
      this.uHead[user] = NIL;
      this.userIndex.set(userId, user);
    }
    const head = this.uHead[user] ?? NIL;
    this.cUPrev[slot] = NIL;
    this.cUNext[slot] = head;
    if (head !== NIL) this.cUPrev[head] = slot;
    this.uHead[user] = slot;
    this.uCount[user] = (this.uCount[user] ?? 0) + 1;
    return user;
  }

  private userUnlink(slot: number): void {
    const user = this.orderMeta(slot) >>> 8;
    const prev = this.cUPrev[slot] ?? NIL;
    const next = this.cUNext[slot] ?? NIL;
    if (prev === NIL) this.uHead[user] = next;
    else this.cUNext[prev] = next;
    if (next !== NIL) this.cUPrev[next] = prev;
    const count = (this.uCount[user] ?? 0) - 1;
    this.uCount[user] = count;
    if (count === 0) {
      this.userIndex.delete(this.uId[user] ?? 0);
      this.uHead[user] = this.freeUser;
      this.freeUser = user;
    }
  }

  private userOpenCount(userId: number): number {
    const user = this.userIndex.get(userId);
    return user === NIL ? 0 : (this.uCount[user] ?? 0);
  }

  /** A user's open order slots (one side, or both with NIL), by ascending order id. */
  private userSlots(userId: number, side: number): number[] {
    const slots: number[] = [];
    if (!isPositiveInteger(userId)) return slots;
    const user = this.userIndex.get(userId);
    if (user === NIL) return slots;
    for (let slot = this.uHead[user] ?? NIL; slot !== NIL; slot = this.cUNext[slot] ?? NIL) {
      if (side === NIL || (this.orderMeta(slot) & 1) === side) slots.push(slot);
    }
    return slots.sort((a, b) => this.orderId(a) - this.orderId(b));
  }

  private growOrders(): void {
    const capacity = this.orderCapacity * 2;
    const orders = new ArrayBuffer(capacity * ORDER_BYTES);
    new Uint8Array(orders).set(new Uint8Array(this.of.buffer));
    this.of = new Float64Array(orders);
    this.oi = new Int32Array(orders);
    this.cPrice = grownF64(this.cPrice, capacity);
    this.cStop = grownF64(this.cStop, capacity);
    this.cGroup = grownF64(this.cGroup, capacity);
    this.cRank = grownF64(this.cRank, capacity);
    this.cAmount = grownF64(this.cAmount, capacity);
    this.cUPrev = grownI32(this.cUPrev, capacity);
    this.cUNext = grownI32(this.cUNext, capacity);
    this.orderCapacity = capacity;
  }

  private growLevels(): void {
    const capacity = this.levelCapacity * 2;
    const levels = new ArrayBuffer(capacity * LEVEL_BYTES);
    new Uint8Array(levels).set(new Uint8Array(this.lf.buffer));
    this.lf = new Float64Array(levels);
    this.li = new Int32Array(levels);
    this.levelCapacity = capacity;
  }

  private growUsers(): void {
    const capacity = this.userCapacity * 2;
    invariant(capacity <= MAX_USER_SLOTS, "more users with open orders than a record can name");
    this.uId = grownF64(this.uId, capacity);
    this.uCount = grownI32(this.uCount, capacity);
    this.uHead = grownI32(this.uHead, capacity);
    this.userCapacity = capacity;
  }

  // ---------------------------------------------------------------- events

  private reject(
    sink: EventSink,
    time: number,
    command: CommandType | "unknown",
    c: { orderId?: unknown; userId?: unknown },
    reason: RejectReason,
  ): void {
    const orderId = isPositiveInteger(c.orderId) ? c.orderId : 0;
    const userId = isPositiveInteger(c.userId) ? c.userId : 0;
    sink.rejected(++this.seqNo, time, command, orderId, userId, reason);
  }

  private emitCancelled(
    sink: EventSink,
    time: number,
    orderId: number,
    userId: number,
    side: number,
    price: number,
    left: number,
    reason: CancelReason,
  ): void {
    sink.cancelled(++this.seqNo, time, orderId, userId, sideName(side), price, left, reason);
  }

  private emitLevel(sink: EventSink, time: number, side: number, level: number): void {
    const at = level << 2;
    sink.level(++this.seqNo, time, sideName(side), this.lf[at] ?? 0, this.lf[at + L_QTY] ?? 0);
  }

  // ---------------------------------------------------------------- invariants

  private afterCommand(): void {
    const bid = this.bids.best();
    const ask = this.asks.best();
    invariant(
      bid === NIL || ask === NIL || this.levelPrice(bid) < this.levelPrice(ask),
      "book crossed after a command",
    );
    if (this.checkInvariants) this.assertInvariants();
  }

  /**
   * The full check (O(book)): sides sorted and uncrossed, level totals equal the sum of
   * their orders, queues FIFO by arrival (when ranks are kept, i.e. with checkInvariants),
   * every index consistent. Throws InvariantError.
   */
  assertInvariants(): void {
    let seen = 0;
    for (const side of [BUY, SELL]) {
      const ladder = side === BUY ? this.bids : this.asks;
      let previousKey = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < ladder.length; i++) {
        const key = ladder.keys[i] ?? 0;
        const level = ladder.levels[i] ?? NIL;
        const price = this.levelPrice(level);
        invariant(key > previousKey, "side not strictly sorted");
        invariant(key === (side === BUY ? price : -price), "ladder key does not match price");
        invariant(ladder.find(price, this.lf) === level, "price index does not match the ladder");
        previousKey = key;
        let total = 0;
        let count = 0;
        let rank = 0;
        let prev = NIL;
        let slot = this.li[(level << 3) + L_HEAD] ?? NIL;
        for (; slot !== NIL; slot = this.oi[(slot << 3) + I_NEXT] ?? NIL) {
          const meta = this.orderMeta(slot);
          invariant(((meta >> 1) & 3) === KIND_RESTING, "non-resting order in a level");
          invariant(this.oi[(slot << 3) + I_PREV] === prev, "broken level links");
          invariant(this.oi[(slot << 3) + I_LEVEL] === level, "order points at the wrong level");
          invariant((meta & 1) === side, "order on the wrong side");
          const left = this.orderLeft(slot);
          invariant(left > 0 && Number.isSafeInteger(left), "resting quantity not positive");
          if (this.checkInvariants) {
            const r = this.cRank[slot] ?? 0;
            invariant(r > rank, "level queue not in arrival order (FIFO)");
            rank = r;
          }
          invariant(this.findOrder(this.orderId(slot)) === slot, "order index broken");
          total += left;
          count += 1;
          prev = slot;
        }
        invariant(this.li[(level << 3) + L_TAIL] === prev, "level tail broken");
        invariant(count > 0, "empty level left in the book");
        invariant(count === this.li[(level << 3) + L_COUNT], "level count differs from its orders");
        invariant(total === this.levelQty(level), "level total differs from its orders' sum");
        seen += count;
      }
    }
    const bid = this.bestBid();
    const ask = this.bestAsk();
    invariant(bid === 0 || ask === 0 || bid < ask, "book crossed");
    for (const list of [this.gteStops, this.lteStops]) {
      for (let i = 0; i < list.length; i++) {
        const slot = list[i] ?? NIL;
        invariant(((this.orderMeta(slot) >> 1) & 3) === KIND_STOP, "non-stop order in stops");
        invariant(this.findOrder(this.orderId(slot)) === slot, "stop index broken");
        if (i > 0) invariant(this.firesBefore(slot, list[i - 1] ?? NIL), "stops out of order");
        if (this.last !== 0) {
          const stop = this.cStop[slot] ?? 0;
          invariant(
            this.triggerOf(slot) === GTE ? stop > this.last : stop < this.last,
            "a reached stop was not fired",
          );
        }
      }
      seen += list.length;
    }
    let users = 0;
    for (let user = 0; user < this.userHigh; user++) users += this.uCount[user] ?? 0;
    invariant(users === this.liveOrders, "per-user open order counts differ from the book");
    invariant(seen === this.liveOrders, "order count differs from the book");
    invariant(seen === this.orderIndex.size, "order index size differs from the book");
    invariant(seen <= this.market.maxOrders, "more orders than maxOrders");
  }

  // ---------------------------------------------------------------- snapshot

  /** Everything that decides future events, as a JSON-safe object. */
  snapshot(): EngineSnapshot {
    const bids: OpenOrder[] = [];
    const asks: OpenOrder[] = [];
    for (const side of [BUY, SELL]) {
      const ladder = side === BUY ? this.bids : this.asks;
      const out = side === BUY ? bids : asks;
      for (let i = ladder.length - 1; i >= 0; i--) {
        const level = ladder.levels[i] ?? NIL;
        let slot = this.li[(level << 3) + L_HEAD] ?? NIL;
        for (; slot !== NIL; slot = this.oi[(slot << 3) + I_NEXT] ?? NIL) {
          out.push(this.describe(slot));
        }
      }
    }
    const stops: OpenOrder[] = [];
    for (const list of [this.gteStops, this.lteStops]) {
      for (let i = list.length - 1; i >= 0; i--) stops.push(this.describe(list[i] ?? NIL));
    }
    return {
      format: "spotx.engine.snapshot",
      version: 1,
      config: { ...this.market.config },
      seq: this.seqNo,
      lastPrice: this.last,
      halted: this.isHalted,
      ...(this.isDelisted ? { delisted: true } : {}),
      bids,
      asks,
      stops,
      triggers: this.armedTriggers(),
    };
  }

  /** Rebuilds an engine from a snapshot; it then emits exactly what the original would. */
  static fromSnapshot(snapshot: EngineSnapshot, options: EngineOptions = {}): MatchingEngine {
    if (snapshot.format !== "spotx.engine.snapshot" || snapshot.version !== 1) {
      throw new InvariantError("not a spotx engine snapshot (version 1)");
    }
    const engine = new MatchingEngine(snapshot.config, {
      ...options,
      initialCapacity: Math.max(
        options.initialCapacity ?? 1024,
        snapshot.bids.length + snapshot.asks.length + snapshot.stops.length,
      ),
    });
    invariant(isNonNegativeInteger(snapshot.seq), "snapshot seq");
    invariant(isNonNegativeInteger(snapshot.lastPrice), "snapshot lastPrice");
    invariant(typeof snapshot.halted === "boolean", "snapshot halted");
    engine.seqNo = snapshot.seq;
    engine.last = snapshot.lastPrice;
    engine.isHalted = snapshot.halted;
    invariant(
      snapshot.delisted === undefined ||
        (snapshot.delisted === true && snapshot.halted) ||
        snapshot.delisted === false,
      "snapshot delisted",
    );
    engine.isDelisted = snapshot.delisted === true;
    for (const [expected, orders] of [
      ["buy", snapshot.bids],
      ["sell", snapshot.asks],
    ] as const) {
      let previous = 0;
      for (const order of orders) {
        invariant(order.side === expected && order.stopPrice === 0, "resting order misplaced");
        invariant(
          order.timeInForce === "gtc" || order.timeInForce === "poc",
          "resting order must be gtc or poc",
        );
        invariant(
          previous === 0 ||
            (expected === "buy" ? order.price <= previous : order.price >= previous),
          "resting orders not in priority order",
        );
        previous = order.price;
        const slot = engine.restoreOrder(order, KIND_RESTING, 0);
        const level = engine.levelFor(sideCode(order.side), order.price);
        const qtyAt = (level << 2) + L_QTY;
        engine.lf[qtyAt] = (engine.lf[qtyAt] ?? 0) + order.left;
        engine.append(slot, level);
      }
    }
    let previousTrigger: StopTrigger = "gte";
    for (const order of snapshot.stops) {
      invariant(order.trigger === "gte" || order.trigger === "lte", "stop without trigger");
      invariant(previousTrigger === "gte" || order.trigger === "lte", "stops not grouped");
      previousTrigger = order.trigger;
      invariant(isPositiveInteger(order.stopPrice), "stop price");
      const slot = engine.restoreOrder(order, KIND_STOP, order.trigger === "gte" ? GTE : LTE);
      engine.cPrice[slot] = order.price;
      engine.cStop[slot] = order.stopPrice;
      engine.cRank[slot] = engine.nextRank++;
      engine.insertStop(slot);
    }
    for (const t of snapshot.triggers ?? []) {
      invariant(isPositiveInteger(t.triggerId), "snapshot trigger id");
      invariant(!engine.triggerIndex.has(t.triggerId), "duplicate trigger id in snapshot");
      invariant(isPositiveInteger(t.userId), "snapshot trigger user id");
      invariant(isPositiveInteger(t.price) && t.price <= engine.market.maxPrice, "trigger price");
      invariant(t.trigger === "gte" || t.trigger === "lte", "trigger rule");
      engine.insertTrigger({ ...t, gte: t.trigger === "gte", rank: engine.nextTriggerRank++ });
    }
    engine.afterCommand();
    engine.assertInvariants();
    return engine;
  }

  private restoreOrder(order: OpenOrder, kind: number, trigger: number): number {
    invariant(isPositiveInteger(order.orderId), "snapshot order id");
    invariant(this.findOrder(order.orderId) === NIL, "duplicate order id in snapshot");
    invariant(isPositiveInteger(order.userId), "snapshot user id");
    invariant(isPositiveInteger(order.price) && order.price <= this.market.maxPrice, "price");
    invariant(isPositiveInteger(order.left) && order.left <= this.market.maxQuantity, "left");
    invariant(isNonNegativeInteger(order.stpGroup), "snapshot stp group");
    invariant(this.liveOrders < this.market.maxOrders, "snapshot holds more than maxOrders");
    const side = sideCode(order.side);
    const tif = tifCode(order.timeInForce);
    const stp = order.stpAct === null ? STP_NONE : stpCode(order.stpAct);
    invariant(side !== NIL && tif !== NIL && stp !== NIL, "snapshot order fields");
    const slot = this.allocOrder(
      order.orderId,
      order.userId,
      order.stpGroup,
      stp,
      side,
      order.left,
      tif,
    );
    // Snapshots written before `amount` was kept know only what is left.
    const amount = order.amount ?? order.left;
    invariant(isPositiveInteger(amount) && amount >= order.left, "snapshot amount");
    this.cAmount[slot] = amount;
    const at = (slot << 3) + I_META;
    this.oi[at] = ((this.oi[at] ?? 0) & ~FLAGS_MASK) | flags(side, kind, tif, stp, trigger);
    return slot;
  }

  private describe(slot: number): OpenOrder {
    const meta = this.orderMeta(slot);
    const stp = (meta >> 5) & 3;
    const isStop = ((meta >> 1) & 3) === KIND_STOP;
    return {
      orderId: this.orderId(slot),
      userId: this.orderUser(slot),
      side: sideName(meta & 1),
      price: this.orderPrice(slot),
      left: this.orderLeft(slot),
      amount: this.cAmount[slot] ?? this.orderLeft(slot),
      timeInForce: tifName((meta >> 3) & 3),
      stpAct: stpName(stp),
      stpGroup: this.cGroup[slot] ?? 0,
      stopPrice: isStop ? (this.cStop[slot] ?? 0) : 0,
      trigger: isStop ? (((meta >> 7) & 1) === GTE ? "gte" : "lte") : null,
    };
  }

  private sideDepth(ladder: PriceLadder, limit: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = ladder.length - 1; i >= 0 && out.length < limit; i--) {
      const level = ladder.levels[i] ?? NIL;
      out.push([this.levelPrice(level), this.levelQty(level)]);
    }
    return out;
  }
}

function grownF64(array: Float64Array, capacity: number): Float64Array {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}

function grownI32(array: Int32Array, capacity: number): Int32Array {
  const grown = new Int32Array(capacity);
  grown.set(array);
  return grown;
}
