// A deliberately simple order book for property tests: plain objects in sorted arrays,
// recomputing everything (level totals, stop selection) the slow, obvious way. It follows
// the engine's written rules independently; the tests demand identical events.
import { REJECT_MESSAGES } from "../src/reasons";
import type {
  AmendCommand,
  CancelAllCommand,
  CancelCommand,
  CancelReason,
  Command,
  CommandType,
  EngineEvent,
  MarketConfig,
  PlaceCommand,
  RejectReason,
  Side,
  StopTrigger,
  StpAct,
  TimeInForce,
} from "../src/types";

interface ModelOrder {
  orderId: number;
  userId: number;
  side: Side;
  price: number;
  left: number;
  /** The whole amount in lots: filled = amount − left. */
  amount: number;
  tif: TimeInForce;
  stpAct: StpAct | null;
  stpGroup: number;
  stopPrice: number;
  trigger: StopTrigger | null;
  arrival: number;
}

const isPosInt = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v > 0;
const isNonNegInt = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export interface ModelLimits {
  quotePerTickLot: number;
  minQuantity: number;
  minNotional: number;
  maxPrice: number;
  maxQuantity: number;
  maxQuoteAmount: number;
  priceBandBps: number;
  maxOpenOrdersPerUser: number;
  maxOrders: number;
}

export class ReferenceBook {
  bids: ModelOrder[] = []; // best first: price high → low, then arrival
  asks: ModelOrder[] = []; // best first: price low → high, then arrival
  stops: ModelOrder[] = [];
  seq = 0;
  last = 0;
  halted = false;
  private arrival = 0;
  private out: EngineEvent[] = [];
  private time = 0;

  constructor(
    readonly config: MarketConfig,
    readonly limits: ModelLimits,
  ) {}

  process(command: Command): EngineEvent[] {
    this.out = [];
    const c = command as Command & { time?: unknown };
    this.time = isNonNegInt(c.time) ? c.time : 0;
    switch (command.type) {
      case "place":
        this.place(command);
        break;
      case "cancel":
        this.cancel(command);
        break;
      case "cancelAll":
        this.cancelAll(command);
        break;
      case "amend":
        this.amend(command);
        break;
      case "halt":
        this.halted = true;
        this.emit({ type: "halted" });
        break;
      case "resume":
        this.halted = false;
        this.emit({ type: "resumed" });
        break;
      default:
        this.emit({
          type: "rejected",
          command: "unknown",
          orderId: 0,
          userId: 0,
          reason: "INVALID_PARAM",
          message: REJECT_MESSAGES.INVALID_PARAM,
        });
    }
    return this.out;
  }

  // biome-ignore lint/suspicious/noExplicitAny: events are built field by field here
  private emit(event: any): void {
    this.seq += 1;
    this.out.push({ seq: this.seq, time: this.time, ...event });
  }

  private reject(
    command: CommandType,
    c: { orderId?: unknown; userId?: unknown },
    reason: RejectReason,
  ) {
    this.emit({
      type: "rejected",
      command,
      orderId: isPosInt(c.orderId) ? c.orderId : 0,
      userId: isPosInt(c.userId) ? c.userId : 0,
      reason,
      message: REJECT_MESSAGES[reason],
    });
  }

  private allOpen(): ModelOrder[] {
    return [...this.bids, ...this.asks, ...this.stops];
  }

  private find(orderId: number): ModelOrder | undefined {
    return this.allOpen().find((o) => o.orderId === orderId);
  }

  private openCount(userId: number): number {
    return this.allOpen().filter((o) => o.userId === userId).length;
  }

  private levelTotal(side: Side, price: number): number {
    const book = side === "buy" ? this.bids : this.asks;
    return book.filter((o) => o.price === price).reduce((sum, o) => sum + o.left, 0);
  }

  private emitLevel(side: Side, price: number): void {
    this.emit({ type: "level", side, price, quantity: this.levelTotal(side, price) });
  }

  private crosses(side: Side, price: number): boolean {
    if (side === "buy") {
      const best = this.asks[0];
      return best !== undefined && best.price <= price;
    }
    const best = this.bids[0];
    return best !== undefined && best.price >= price;
  }

  private inBand(price: number): boolean {
    const bps = this.limits.priceBandBps;
    if (bps === 0 || this.last === 0) return true;
    // |price - last| / last <= bps / 10000, in exact rationals via bigint.
    const diff = BigInt(Math.abs(price - this.last)) * 10000n;
    return diff <= BigInt(this.last) * BigInt(bps);
  }

  private rest(order: ModelOrder): void {
    this.arrival += 1;
    order.arrival = this.arrival;
    const book = order.side === "buy" ? this.bids : this.asks;
    book.push(order);
    book.sort((a, b) =>
      a.price !== b.price
        ? order.side === "buy"
          ? b.price - a.price
          : a.price - b.price
        : a.arrival - b.arrival,
    );
    this.emitLevel(order.side, order.price);
  }

  private removeFromBook(order: ModelOrder): void {
    const book = order.side === "buy" ? this.bids : this.asks;
    book.splice(book.indexOf(order), 1);
  }

  private cancelled(
    order: { orderId: number; userId: number; side: Side },
    price: number,
    left: number,
    reason: CancelReason,
  ) {
    this.emit({
      type: "cancelled",
      orderId: order.orderId,
      userId: order.userId,
      side: order.side,
      price,
      left,
      reason,
    });
  }

  private selfTrade(taker: ModelOrder, maker: ModelOrder): boolean {
    return (
      taker.stpAct !== null &&
      (maker.userId === taker.userId || (taker.stpGroup !== 0 && maker.stpGroup === taker.stpGroup))
    );
  }

  private place(c: PlaceCommand): void {
    const L = this.limits;
    if (this.halted) {
      this.reject("place", c, "MARKET_HALTED");
      return;
    }
    const isLimit = c.orderType === "limit";
    const isMarket = c.orderType === "market";
    const tif = c.timeInForce ?? (isMarket ? "ioc" : "gtc");
    const byQuote = isMarket && c.side === "buy";
    const hasStop = c.stopPrice !== undefined;
    const valid =
      isNonNegInt(c.time) &&
      isPosInt(c.orderId) &&
      isPosInt(c.userId) &&
      (c.side === "buy" || c.side === "sell") &&
      (isLimit || isMarket) &&
      ["gtc", "ioc", "poc", "fok"].includes(tif) &&
      (c.stpAct === undefined || ["cn", "co", "cb"].includes(c.stpAct)) &&
      (c.trigger === undefined || c.trigger === "gte" || c.trigger === "lte") &&
      isNonNegInt(c.stpGroup ?? 0) &&
      (c.text === undefined || typeof c.text === "string") &&
      !(c.trigger !== undefined && !hasStop) &&
      !(isMarket && (tif !== "ioc" || hasStop || c.price !== undefined)) &&
      !(byQuote && c.quantity !== undefined) &&
      !(isMarket && !byQuote && c.quoteAmount !== undefined) &&
      !(isLimit && c.quoteAmount !== undefined);
    if (!valid) {
      this.reject("place", c, "INVALID_PARAM");
      return;
    }
    if (this.find(c.orderId) !== undefined) {
      this.reject("place", c, "DUPLICATE_ORDER_ID");
      return;
    }
    if ((isLimit && !isPosInt(c.price)) || (hasStop && !isPosInt(c.stopPrice))) {
      this.reject("place", c, "TICK_SIZE");
      return;
    }
    const price = c.price ?? 0;
    const stopPrice = c.stopPrice ?? 0;
    if (price > L.maxPrice || stopPrice > L.maxPrice) {
      this.reject("place", c, "PRICE_TOO_HIGH");
      return;
    }
    const amount = byQuote ? c.quoteAmount : c.quantity;
    if (!isPosInt(amount)) {
      this.reject("place", c, "LOT_SIZE");
      return;
    }
    if (amount > (byQuote ? L.maxQuoteAmount : L.maxQuantity)) {
      this.reject("place", c, "AMOUNT_TOO_LARGE");
      return;
    }
    const tooLittle = byQuote
      ? amount < L.minNotional
      : amount < L.minQuantity || (isLimit && price * amount * L.quotePerTickLot < L.minNotional);
    if (tooLittle) {
      this.reject("place", c, "AMOUNT_TOO_LITTLE");
      return;
    }
    if (isLimit && !this.inBand(price)) {
      this.reject("place", c, "PRICE_BAND");
      return;
    }
    const mayRest = hasStop || (isLimit && (tif === "gtc" || tif === "poc"));
    if (mayRest && this.openCount(c.userId) >= L.maxOpenOrdersPerUser) {
      this.reject("place", c, "TOO_MANY_OPEN_ORDERS");
      return;
    }
    if (mayRest && this.allOpen().length >= L.maxOrders) {
      this.reject("place", c, "BOOK_FULL");
      return;
    }
    if (isLimit && !hasStop && tif === "poc" && this.crosses(c.side, price)) {
      this.reject("place", c, "POC_FILL_IMMEDIATELY");
      return;
    }
    const trigger: StopTrigger | null = hasStop
      ? (c.trigger ?? (c.side === "buy" ? "gte" : "lte"))
      : null;
    this.emit({
      type: "accepted",
      orderId: c.orderId,
      userId: c.userId,
      side: c.side,
      orderType: c.orderType,
      price,
      quantity: byQuote ? 0 : amount,
      quoteAmount: byQuote ? amount : 0,
      timeInForce: tif,
      stopPrice,
      trigger,
      stpAct: c.stpAct ?? null,
      stpGroup: c.stpGroup ?? 0,
      text: c.text ?? null,
    });
    const order: ModelOrder = {
      orderId: c.orderId,
      userId: c.userId,
      side: c.side,
      price,
      left: amount,
      amount,
      tif,
      stpAct: c.stpAct ?? null,
      stpGroup: c.stpGroup ?? 0,
      stopPrice,
      trigger,
      arrival: 0,
    };
    if (hasStop) {
      this.arrival += 1;
      order.arrival = this.arrival;
      this.stops.push(order);
    } else if (isMarket) {
      const { left, killed } = this.match(order, 0, byQuote);
      if (killed) this.cancelled(order, 0, left, "stp");
      else if (left > 0) this.cancelled(order, 0, left, "ioc");
    } else {
      this.execute(order);
    }
    this.runStops();
  }

  /** An accepted limit order: trades, then rests or is cancelled. */
  private execute(order: ModelOrder): void {
    if (order.tif === "poc") {
      if (this.crosses(order.side, order.price)) {
        this.cancelled(order, order.price, order.left, "poc");
        return;
      }
      this.rest(order);
      return;
    }
    if (order.tif === "fok" && !this.fillable(order)) {
      this.cancelled(order, order.price, order.left, "fok");
      return;
    }
    const { left, killed } = this.match(order, order.price, false);
    order.left = left;
    if (killed) {
      this.cancelled(order, order.price, left, "stp");
      return;
    }
    if (left === 0) return;
    if (order.tif === "gtc") {
      this.rest(order);
      return;
    }
    if (order.tif === "fok") throw new Error("model: fok not filled");
    this.cancelled(order, order.price, left, "ioc");
  }

  private fillable(taker: ModelOrder): boolean {
    const book = taker.side === "buy" ? this.asks : this.bids;
    let need = taker.left;
    for (const maker of book) {
      if (taker.side === "buy" ? maker.price > taker.price : maker.price < taker.price)
        return false;
      if (this.selfTrade(taker, maker)) {
        if (taker.stpAct === "co") continue;
        return false;
      }
      need -= maker.left;
      if (need <= 0) return true;
    }
    return false;
  }

  private match(
    taker: ModelOrder,
    limit: number,
    byQuote: boolean,
  ): { left: number; killed: boolean } {
    const book = taker.side === "buy" ? this.asks : this.bids;
    const makerSide: Side = taker.side === "buy" ? "sell" : "buy";
    const qptl = this.limits.quotePerTickLot;
    let left = taker.left;
    let killed = false;
    while (left > 0 && book.length > 0) {
      const first = book[0];
      if (first === undefined) break;
      const price = first.price;
      if (limit !== 0 && (taker.side === "buy" ? price > limit : price < limit)) break;
      const lotCost = price * qptl;
      if (byQuote && left < lotCost) break;
      const level = book.filter((o) => o.price === price);
      let touched = false;
      let done = false;
      for (const maker of level) {
        if (this.selfTrade(taker, maker)) {
          if (taker.stpAct === "co" || taker.stpAct === "cb") {
            this.removeFromBook(maker);
            touched = true;
            this.cancelled(maker, price, maker.left, "stp");
          }
          if (taker.stpAct === "cn" || taker.stpAct === "cb") {
            killed = true;
            done = true;
            break;
          }
          continue;
        }
        let quantity: number;
        if (byQuote) {
          const affordable = Number(BigInt(left) / BigInt(lotCost));
          if (affordable === 0) {
            done = true;
            break;
          }
          quantity = Math.min(affordable, maker.left);
        } else {
          quantity = Math.min(left, maker.left);
        }
        const quoteAmount = Number(BigInt(price) * BigInt(quantity) * BigInt(qptl));
        left -= byQuote ? quoteAmount : quantity;
        maker.left -= quantity;
        touched = true;
        this.last = price;
        if (maker.left === 0) this.removeFromBook(maker);
        this.emit({
          type: "trade",
          makerOrderId: maker.orderId,
          takerOrderId: taker.orderId,
          makerUserId: maker.userId,
          takerUserId: taker.userId,
          price,
          quantity,
          quoteAmount,
          takerSide: taker.side,
          makerLeft: maker.left,
          takerLeft: left,
        });
        if (left === 0) {
          done = true;
          break;
        }
      }
      if (touched) this.emitLevel(makerSide, price);
      if (done) break;
    }
    return { left, killed };
  }

  private runStops(): void {
    for (;;) {
      if (this.last === 0) return;
      const last = this.last;
      const gte = this.stops
        .filter((o) => o.trigger === "gte" && o.stopPrice <= last)
        .sort((a, b) => a.stopPrice - b.stopPrice || a.arrival - b.arrival);
      const lte = this.stops
        .filter((o) => o.trigger === "lte" && o.stopPrice >= last)
        .sort((a, b) => b.stopPrice - a.stopPrice || a.arrival - b.arrival);
      const next = gte[0] ?? lte[0];
      if (next === undefined) return;
      this.stops.splice(this.stops.indexOf(next), 1);
      this.emit({
        type: "triggered",
        orderId: next.orderId,
        userId: next.userId,
        side: next.side,
        stopPrice: next.stopPrice,
        lastPrice: last,
      });
      next.stopPrice = 0;
      next.trigger = null;
      this.execute(next);
    }
  }

  private cancel(c: CancelCommand): void {
    if (!isNonNegInt(c.time) || !isPosInt(c.orderId) || !isPosInt(c.userId)) {
      this.reject("cancel", c, "INVALID_PARAM");
      return;
    }
    const order = this.find(c.orderId);
    if (order === undefined || order.userId !== c.userId) {
      this.reject("cancel", c, "ORDER_NOT_FOUND");
      return;
    }
    this.cancelOpen(order);
  }

  private cancelOpen(order: ModelOrder): void {
    if (this.stops.includes(order)) {
      this.stops.splice(this.stops.indexOf(order), 1);
      this.cancelled(order, order.price, order.left, "user");
      return;
    }
    this.removeFromBook(order);
    this.cancelled(order, order.price, order.left, "user");
    this.emitLevel(order.side, order.price);
  }

  private cancelAll(c: CancelAllCommand): void {
    if (
      !isNonNegInt(c.time) ||
      !isPosInt(c.userId) ||
      (c.side !== undefined && c.side !== "buy" && c.side !== "sell")
    ) {
      this.reject("cancelAll", c, "INVALID_PARAM");
      return;
    }
    const mine = this.allOpen()
      .filter((o) => o.userId === c.userId && (c.side === undefined || o.side === c.side))
      .sort((a, b) => a.orderId - b.orderId);
    for (const order of mine) this.cancelOpen(order);
  }

  private amend(c: AmendCommand): void {
    const L = this.limits;
    if (
      !isNonNegInt(c.time) ||
      !isPosInt(c.orderId) ||
      !isPosInt(c.userId) ||
      (c.price === undefined && c.quantity === undefined && c.amount === undefined) ||
      (c.quantity !== undefined && c.amount !== undefined)
    ) {
      this.reject("amend", c, "INVALID_PARAM");
      return;
    }
    const order = this.find(c.orderId);
    if (order === undefined || order.userId !== c.userId) {
      this.reject("amend", c, "ORDER_NOT_FOUND");
      return;
    }
    if (this.stops.includes(order)) {
      this.reject("amend", c, "INVALID_PARAM");
      return;
    }
    const price = c.price ?? order.price;
    const filled = order.amount - order.left;
    if (c.amount !== undefined) {
      if (!isPosInt(c.amount)) {
        this.reject("amend", c, "LOT_SIZE");
        return;
      }
      if (c.amount <= filled) {
        this.cancelOpen(order);
        return;
      }
    }
    const quantity = c.amount !== undefined ? c.amount - filled : (c.quantity ?? order.left);
    if (!isPosInt(price)) {
      this.reject("amend", c, "TICK_SIZE");
      return;
    }
    if (price > L.maxPrice) {
      this.reject("amend", c, "PRICE_TOO_HIGH");
      return;
    }
    if (!isPosInt(quantity)) {
      this.reject("amend", c, "LOT_SIZE");
      return;
    }
    if (quantity > L.maxQuantity) {
      this.reject("amend", c, "AMOUNT_TOO_LARGE");
      return;
    }
    const repriced = price !== order.price;
    if (this.halted && (repriced || quantity > order.left)) {
      this.reject("amend", c, "MARKET_HALTED");
      return;
    }
    if (quantity < L.minQuantity || price * quantity * L.quotePerTickLot < L.minNotional) {
      this.reject("amend", c, "AMOUNT_TOO_LITTLE");
      return;
    }
    if (repriced && !this.inBand(price)) {
      this.reject("amend", c, "PRICE_BAND");
      return;
    }
    if (repriced && order.tif === "poc" && this.crosses(order.side, price)) {
      this.reject("amend", c, "POC_FILL_IMMEDIATELY");
      return;
    }
    const keptPriority = !repriced && quantity <= order.left;
    order.amount = filled + quantity;
    this.emit({
      type: "amended",
      orderId: order.orderId,
      userId: order.userId,
      side: order.side,
      price,
      quantity,
      oldPrice: order.price,
      oldQuantity: order.left,
      keptPriority,
    });
    if (!repriced) {
      if (quantity === order.left) return;
      const grows = quantity > order.left;
      order.left = quantity;
      if (grows) {
        // Back of the queue at the same price: a fresh arrival.
        this.removeFromBook(order);
        this.arrival += 1;
        order.arrival = this.arrival;
        const book = order.side === "buy" ? this.bids : this.asks;
        book.push(order);
        book.sort((a, b) =>
          a.price !== b.price
            ? order.side === "buy"
              ? b.price - a.price
              : a.price - b.price
            : a.arrival - b.arrival,
        );
      }
      this.emitLevel(order.side, order.price);
      return;
    }
    const oldPrice = order.price;
    this.removeFromBook(order);
    this.emitLevel(order.side, oldPrice);
    order.price = price;
    order.left = quantity;
    this.execute(order);
    this.runStops();
  }

  depth(): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const levels = (book: ModelOrder[]) => {
      const out: Array<[number, number]> = [];
      for (const o of book) {
        const lastLevel = out[out.length - 1];
        if (lastLevel !== undefined && lastLevel[0] === o.price) lastLevel[1] += o.left;
        else out.push([o.price, o.left]);
      }
      return out;
    };
    return { bids: levels(this.bids), asks: levels(this.asks) };
  }
}
