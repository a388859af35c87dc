// How events leave the engine. The engine calls an EventSink with plain arguments, so a hot
// consumer (the benchmark, a binary encoder) allocates nothing per event; EventCollector
// turns the same calls into the plain-object events of the public API.
import { REJECT_MESSAGES } from "./reasons";
import type {
  CancelReason,
  CommandType,
  EngineEvent,
  OrderType,
  RejectReason,
  Side,
  StopTrigger,
  StpAct,
  TimeInForce,
} from "./types";

/** One method per event type; arguments are the event's fields in declaration order. */
export interface EventSink {
  accepted(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    orderType: OrderType,
    price: number,
    quantity: number,
    quoteAmount: number,
    timeInForce: TimeInForce,
    stopPrice: number,
    trigger: StopTrigger | null,
    stpAct: StpAct | null,
    stpGroup: number,
    text: string | null,
  ): void;
  rejected(
    seq: number,
    time: number,
    command: CommandType | "unknown",
    orderId: number,
    userId: number,
    reason: RejectReason,
  ): void;
  trade(
    seq: number,
    time: number,
    makerOrderId: number,
    takerOrderId: number,
    makerUserId: number,
    takerUserId: number,
    price: number,
    quantity: number,
    quoteAmount: number,
    takerSide: Side,
    makerLeft: number,
    takerLeft: number,
  ): void;
  cancelled(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    price: number,
    left: number,
    reason: CancelReason,
  ): void;
  amended(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    price: number,
    quantity: number,
    oldPrice: number,
    oldQuantity: number,
    keptPriority: boolean,
  ): void;
  triggered(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    stopPrice: number,
    lastPrice: number,
  ): void;
  fired(
    seq: number,
    time: number,
    triggerId: number,
    userId: number,
    price: number,
    trigger: StopTrigger,
    lastPrice: number,
  ): void;
  level(seq: number, time: number, side: Side, price: number, quantity: number): void;
  halted(seq: number, time: number): void;
  resumed(seq: number, time: number): void;
  delisted(seq: number, time: number, cancelled: number, disarmed: number): void;
  rulesChanged(
    seq: number,
    time: number,
    priceStep: number,
    quantityStep: number,
    minQuantity: number,
    minNotional: number,
    priceBandBps: number,
    makerFeePpm: number | null,
    takerFeePpm: number | null,
  ): void;
}

/** Builds the plain-object events; `take()` hands them over and starts a new list. */
export class EventCollector implements EventSink {
  private events: EngineEvent[] = [];

  take(): EngineEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  accepted(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    orderType: OrderType,
    price: number,
    quantity: number,
    quoteAmount: number,
    timeInForce: TimeInForce,
    stopPrice: number,
    trigger: StopTrigger | null,
    stpAct: StpAct | null,
    stpGroup: number,
    text: string | null,
  ): void {
    this.events.push({
      type: "accepted",
      seq,
      time,
      orderId,
      userId,
      side,
      orderType,
      price,
      quantity,
      quoteAmount,
      timeInForce,
      stopPrice,
      trigger,
      stpAct,
      stpGroup,
      text,
    });
  }

  rejected(
    seq: number,
    time: number,
    command: CommandType | "unknown",
    orderId: number,
    userId: number,
    reason: RejectReason,
  ): void {
    this.events.push({
      type: "rejected",
      seq,
      time,
      command,
      orderId,
      userId,
      reason,
      message: REJECT_MESSAGES[reason],
    });
  }

  trade(
    seq: number,
    time: number,
    makerOrderId: number,
    takerOrderId: number,
    makerUserId: number,
    takerUserId: number,
    price: number,
    quantity: number,
    quoteAmount: number,
    takerSide: Side,
    makerLeft: number,
    takerLeft: number,
  ): void {
    this.events.push({
      type: "trade",
      seq,
      time,
      makerOrderId,
      takerOrderId,
      makerUserId,
      takerUserId,
      price,
      quantity,
      quoteAmount,
      takerSide,
      makerLeft,
      takerLeft,
    });
  }

  cancelled(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    price: number,
    left: number,
    reason: CancelReason,
  ): void {
    this.events.push({ type: "cancelled", seq, time, orderId, userId, side, price, left, reason });
  }

  amended(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    price: number,
    quantity: number,
    oldPrice: number,
    oldQuantity: number,
    keptPriority: boolean,
  ): void {
    this.events.push({
      type: "amended",
      seq,
      time,
      orderId,
      userId,
      side,
      price,
      quantity,
      oldPrice,
      oldQuantity,
      keptPriority,
    });
  }

  triggered(
    seq: number,
    time: number,
    orderId: number,
    userId: number,
    side: Side,
    stopPrice: number,
    lastPrice: number,
  ): void {
    this.events.push({ type: "triggered", seq, time, orderId, userId, side, stopPrice, lastPrice });
  }

  fired(
    seq: number,
    time: number,
    triggerId: number,
    userId: number,
    price: number,
    trigger: StopTrigger,
    lastPrice: number,
  ): void {
    this.events.push({ type: "fired", seq, time, triggerId, userId, price, trigger, lastPrice });
  }

  level(seq: number, time: number, side: Side, price: number, quantity: number): void {
    this.events.push({ type: "level", seq, time, side, price, quantity });
  }

  halted(seq: number, time: number): void {
    this.events.push({ type: "halted", seq, time });
  }

  resumed(seq: number, time: number): void {
    this.events.push({ type: "resumed", seq, time });
  }

  rulesChanged(
    seq: number,
    time: number,
    priceStep: number,
    quantityStep: number,
    minQuantity: number,
    minNotional: number,
    priceBandBps: number,
    makerFeePpm: number | null,
    takerFeePpm: number | null,
  ): void {
    this.events.push({
      type: "rulesChanged",
      seq,
      time,
      priceStep,
      quantityStep,
      minQuantity,
      minNotional,
      priceBandBps,
      makerFeePpm,
      takerFeePpm,
    });
  }

  delisted(seq: number, time: number, cancelled: number, disarmed: number): void {
    this.events.push({ type: "delisted", seq, time, cancelled, disarmed });
  }
}
