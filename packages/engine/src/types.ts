// The engine's vocabulary: market configuration, commands in, events out. Every number is a
// safe integer: prices in ticks, base amounts in lots, quote amounts in quote minor units.

export type Side = "buy" | "sell";
export type OrderType = "limit" | "market";
/** gate.io `time_in_force`: good-till-cancelled, immediate-or-cancel, post-only, fill-or-kill. */
export type TimeInForce = "gtc" | "ioc" | "poc" | "fok";
/** gate.io `stp_act`: cancel newest (the taker), cancel oldest (the maker), cancel both. */
export type StpAct = "cn" | "co" | "cb";
/** When a stop order fires: last trade price ≥ stopPrice ("gte") or ≤ stopPrice ("lte"). */
export type StopTrigger = "gte" | "lte";

/**
 * One market. Decimal sizes are strings so that the edge (`MarketScale`) converts them
 * exactly; limits are engine integers.
 *
 * The integer model: a price is a count of ticks, a base amount a count of lots, a quote
 * amount a count of the quote asset's ledger minor units (10^-quoteDecimals). One tick × one
 * lot is `quotePerTickLot` quote minor units, which must be a whole number, so the quote
 * amount of any fill, `price × quantity × quotePerTickLot`, is exact and never rounded. With
 * tick 0.01 and lot 0.000001 one tick × lot is 10^-8 quote, so the quote asset must be kept
 * at ≥ 8 decimals (USDT at 6 would make a 0.000001 BTC fill at 30000.01 = 0.03000001 USDT
 * unrepresentable); the constructor refuses such a config with that message.
 */
export interface MarketConfig {
  /** gate.io currency pair id, e.g. "BTC_USDT". */
  symbol: string;
  /** Price step in quote per base, e.g. "0.01" (gate.io `precision` 2). May be "0.05". */
  tickSize: string;
  /** Amount step in base, e.g. "0.000001" (gate.io `amount_precision` 6). */
  lotSize: string;
  /** Decimals at which the ledger keeps the base asset (lot must be a whole number of them). */
  baseDecimals: number;
  /** Decimals at which the ledger keeps the quote asset (see the integer model above). */
  quoteDecimals: number;
  /** Smallest order quantity in lots (gate.io `min_base_amount`); default 1. */
  minQuantity?: number;
  /** Smallest order value in quote minor units (gate.io `min_quote_amount`); 0 for none. */
  minNotional: number;
  /** Highest accepted price in ticks. */
  maxPrice: number;
  /** Largest order quantity in lots. */
  maxQuantity: number;
  /** Largest market-buy spend in quote minor units; default maxPrice × maxQuantity × quotePerTickLot. */
  maxQuoteAmount?: number;
  /** Reject limit prices more than this many basis points away from the last trade; 0 = off. */
  priceBandBps: number;
  /** Most open orders (resting and untriggered stops) one user may hold in this market. */
  maxOpenOrdersPerUser: number;
  /** Most orders the book holds at once (resting and stops); default and upper bound 2^24 − 2 (lower if maxQuantity needs: maxOrders × maxQuantity ≤ 2^53 − 1). */
  maxOrders?: number;
  /**
   * The tick an operator set after listing, in ticks (default 1): limit and stop prices must be
   * a multiple of it. The unit (`tickSize`) never changes once a market lists, so stored prices
   * keep their meaning; only the step coarsens (docs/decisions/006).
   */
  priceStep?: number;
  /** The lot an operator set after listing, in lots (default 1): quantities are multiples of it. */
  quantityStep?: number;
}

/**
 * Place an order. `orderId` is assigned outside the engine (the database) and is a positive
 * safe integer (≤ 2^53 − 1) passed as a number; `userId` a positive safe integer.
 *
 * - limit: `price` (ticks), `quantity` (lots), `timeInForce` (default "gtc").
 * - market sell: `quantity` (lots). Market buy: `quoteAmount` (quote minor units to spend).
 *   Market orders are always "ioc".
 * - stop-limit: a limit order with `stopPrice` (ticks) and optional `trigger` (default "gte"
 *   for buys, "lte" for sells); held until the last trade price reaches it.
 */
export interface PlaceCommand {
  type: "place";
  /** Milliseconds, from the caller; the engine has no clock. */
  time: number;
  orderId: number;
  userId: number;
  side: Side;
  orderType: OrderType;
  price?: number;
  quantity?: number;
  quoteAmount?: number;
  timeInForce?: TimeInForce;
  stopPrice?: number;
  trigger?: StopTrigger;
  /** Self-trade prevention; absent means the order may trade with its own user's orders. */
  stpAct?: StpAct;
  /** Orders sharing a non-zero group never trade with each other when `stpAct` is set. */
  stpGroup?: number;
  /** Opaque client text (gate.io `text`), echoed on `accepted`. */
  text?: string;
}

export interface CancelCommand {
  type: "cancel";
  time: number;
  orderId: number;
  userId: number;
}

/** Cancel every open order (resting and stop) of a user, or only one side. */
export interface CancelAllCommand {
  type: "cancelAll";
  time: number;
  userId: number;
  side?: Side;
}

/**
 * Change a resting order. `price` (ticks) and/or its size: `quantity`, the new REMAINING
 * quantity in lots, or `amount`, the order's new WHOLE amount in lots as gate.io means it (what
 * is left becomes `amount` − filled; an amount at or below what has filled cancels the order,
 * as a cancel would). Not both. A decrease of the size alone keeps time priority; a price
 * change or an increase loses it. A new price that crosses the book trades like a new order of
 * the same time in force (post-only orders are refused instead).
 */
export interface AmendCommand {
  type: "amend";
  time: number;
  orderId: number;
  userId: number;
  price?: number;
  quantity?: number;
  amount?: number;
}

/**
 * Arm a price trigger (gate.io's price-triggered order, spot `/spot/price_orders`): nothing is
 * placed or held; when the last trade price reaches `price` ("gte": at or above, "lte": at or
 * below) the engine emits `fired` once, in sequence, and forgets it. `triggerId` is assigned
 * outside (the database) and is unique among armed triggers. If the last price already
 * satisfies the rule when armed, it fires at once.
 */
export interface ArmCommand {
  type: "arm";
  time: number;
  triggerId: number;
  userId: number;
  /** Ticks. */
  price: number;
  trigger: StopTrigger;
}

/** Forget an armed trigger (cancelled or expired); no event when it is gone already. */
export interface DisarmCommand {
  type: "disarm";
  time: number;
  triggerId: number;
  userId: number;
}

/** Stop accepting orders (cancels and quantity decreases still pass) until `resume`. */
export interface HaltCommand {
  type: "halt";
  time: number;
}

export interface ResumeCommand {
  type: "resume";
  time: number;
}

/**
 * The market's changeable rules, all engine integers. Fees are not the engine's business: it
 * only echoes them on `rulesChanged`, so settlement switches rates at exactly this sequence point.
 */
export interface MarketRulesChange {
  /** Ticks (≥ 1): prices must be multiples of it. */
  priceStep: number;
  /** Lots (≥ 1): quantities must be multiples of it. */
  quantityStep: number;
  /** Lots (≥ 1). */
  minQuantity: number;
  /** Quote minor units (≥ 0). */
  minNotional: number;
  /** Basis points (≥ 0; 0 = no band). */
  priceBandBps: number;
  /** Parts per million, echoed on `rulesChanged`; absent: unchanged. */
  makerFeePpm?: number;
  takerFeePpm?: number;
}

/**
 * Change the market's rules (an operator's action). Emits `rulesChanged`, then cancels (reason
 * `market_rules`), by ascending order id, every resting or stop order whose price, stop price or
 * remaining quantity is not a multiple of the new steps; everything else keeps resting (the
 * minimums and the band apply to new orders and amends only). A config `resolveMarket` refuses
 * is rejected `INVALID_PARAM` and changes nothing.
 */
export interface RulesCommand {
  type: "rules";
  time: number;
  rules: MarketRulesChange;
}

/**
 * Close the market for good (an operator's delisting): it halts, every resting order and every
 * untriggered stop is cancelled with reason "delisted", every armed price trigger is forgotten,
 * then `delisted` is emitted. From then on places and arms are refused (MARKET_CLOSED), a resume
 * changes nothing, and a second delist emits nothing.
 */
export interface DelistCommand {
  type: "delist";
  time: number;
}

export type Command =
  | PlaceCommand
  | CancelCommand
  | CancelAllCommand
  | AmendCommand
  | ArmCommand
  | DisarmCommand
  | HaltCommand
  | ResumeCommand
  | DelistCommand
  | RulesCommand;

export type CommandType = Command["type"];

/** Why a command was refused. Stable strings; `GATE_LABELS` maps them to gate.io labels. */
export type RejectReason =
  | "INVALID_PARAM"
  | "MARKET_HALTED"
  | "MARKET_CLOSED"
  | "DUPLICATE_ORDER_ID"
  | "TICK_SIZE"
  | "PRICE_TOO_HIGH"
  | "LOT_SIZE"
  | "AMOUNT_TOO_LARGE"
  | "AMOUNT_TOO_LITTLE"
  | "PRICE_BAND"
  | "TOO_MANY_OPEN_ORDERS"
  | "BOOK_FULL"
  | "POC_FILL_IMMEDIATELY"
  | "ORDER_NOT_FOUND";

/**
 * Why an accepted order stopped; matches gate.io `finish_as` except "user" (= "cancelled"),
 * "delisted", and "market_rules" (a rules change left its price or amount off the new tick or
 * lot; gate.io has no such value, so its wire says "cancelled").
 */
export type CancelReason = "user" | "ioc" | "fok" | "stp" | "poc" | "delisted" | "market_rules";

interface EventBase {
  /** The market's sequence number: 1 for the first event ever, then strictly +1. */
  seq: number;
  /** The time of the command that produced the event. */
  time: number;
}

export interface AcceptedEvent extends EventBase {
  type: "accepted";
  orderId: number;
  userId: number;
  side: Side;
  orderType: OrderType;
  /** Ticks; 0 for market orders. */
  price: number;
  /** Lots; 0 for a market buy. */
  quantity: number;
  /** Quote minor units a market buy may spend; 0 otherwise. */
  quoteAmount: number;
  timeInForce: TimeInForce;
  /** Ticks; 0 unless a stop order. */
  stopPrice: number;
  trigger: StopTrigger | null;
  stpAct: StpAct | null;
  stpGroup: number;
  text: string | null;
}

export interface RejectedEvent extends EventBase {
  type: "rejected";
  /** The refused command's type; "unknown" when it had none the engine knows. */
  command: CommandType | "unknown";
  /** 0 when the command has no order id (cancelAll, or a malformed one). */
  orderId: number;
  userId: number;
  reason: RejectReason;
  message: string;
}

/**
 * One fill. `quoteAmount = price × quantity × quotePerTickLot` quote minor units, exactly
 * (the buyer pays it, the seller receives it; fees are not the engine's business).
 * `makerLeft` is the maker's remaining lots (0: filled, gone from the book); `takerLeft` the
 * taker's remaining lots, or remaining quote minor units for a market buy.
 */
export interface TradeEvent extends EventBase {
  type: "trade";
  makerOrderId: number;
  takerOrderId: number;
  makerUserId: number;
  takerUserId: number;
  price: number;
  quantity: number;
  quoteAmount: number;
  takerSide: Side;
  makerLeft: number;
  takerLeft: number;
}

/**
 * An accepted order ended without filling completely. `left` is the unfilled remainder in
 * lots (quote minor units for a market buy). `price` is 0 for market orders.
 */
export interface CancelledEvent extends EventBase {
  type: "cancelled";
  orderId: number;
  userId: number;
  side: Side;
  price: number;
  left: number;
  reason: CancelReason;
}

export interface AmendedEvent extends EventBase {
  type: "amended";
  orderId: number;
  userId: number;
  side: Side;
  price: number;
  /** The new remaining quantity in lots. */
  quantity: number;
  oldPrice: number;
  oldQuantity: number;
  /** True when the order kept its place in the queue (quantity decrease at the same price). */
  keptPriority: boolean;
}

/** A stop order fired; its matching events follow (no second `accepted`). */
export interface TriggeredEvent extends EventBase {
  type: "triggered";
  orderId: number;
  userId: number;
  side: Side;
  stopPrice: number;
  lastPrice: number;
}

/** An armed price trigger was reached by the last trade price; it is no longer armed. */
export interface FiredEvent extends EventBase {
  type: "fired";
  triggerId: number;
  userId: number;
  /** The trigger's price, ticks. */
  price: number;
  trigger: StopTrigger;
  lastPrice: number;
}

/**
 * An L2 level's new total in lots (0: the level is gone). Applying these in order to an
 * empty book reproduces the engine's aggregated depth exactly.
 */
export interface LevelEvent extends EventBase {
  type: "level";
  side: Side;
  price: number;
  quantity: number;
}

export interface HaltedEvent extends EventBase {
  type: "halted";
}

export interface ResumedEvent extends EventBase {
  type: "resumed";
}

/** The market's rules changed (a `rules` command); any `market_rules` cancels follow it. */
export interface RulesChangedEvent extends EventBase {
  type: "rulesChanged";
  priceStep: number;
  quantityStep: number;
  minQuantity: number;
  minNotional: number;
  priceBandBps: number;
  /** null: the command left the fee unchanged. */
  makerFeePpm: number | null;
  takerFeePpm: number | null;
}

/**
 * The market was delisted: its book is empty (each order's `cancelled`, reason "delisted",
 * came before this event), its price triggers are forgotten (`disarmed` counts them), and it
 * accepts no order again.
 */
export interface DelistedEvent extends EventBase {
  type: "delisted";
  /** Orders cancelled by the delisting (resting and stops). */
  cancelled: number;
  /** Armed price triggers forgotten by the delisting. */
  disarmed: number;
}

export type EngineEvent =
  | AcceptedEvent
  | RejectedEvent
  | TradeEvent
  | CancelledEvent
  | AmendedEvent
  | TriggeredEvent
  | FiredEvent
  | LevelEvent
  | HaltedEvent
  | ResumedEvent
  | DelistedEvent
  | RulesChangedEvent;

/** L2 depth, best level first; each entry is [price in ticks, total quantity in lots]. */
export interface Depth {
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

/** A live order as the engine holds it. */
export interface OpenOrder {
  orderId: number;
  userId: number;
  side: Side;
  price: number;
  /** Remaining lots. */
  left: number;
  /** The whole amount in lots (filled = amount − left); absent in older snapshots (= left). */
  amount?: number;
  timeInForce: TimeInForce;
  stpAct: StpAct | null;
  stpGroup: number;
  /** 0 for a resting order; the stop price for an untriggered stop order. */
  stopPrice: number;
  trigger: StopTrigger | null;
}
