// Settlement: applies the matching engine's events for one market to PostgreSQL — trades
// become balanced transfers between buyer, seller and the fee accounts, orders get their
// fills, holds and statuses. A batch is one transaction, applied only past the market's last
// applied sequence number, so redelivered events are no-ops and a gap is reported.
//
// The batch is computed in memory first (with assertions at every step) and then written with
// a handful of set-based statements, whatever its size: that is what makes it fast.
//
// Every event is checked against the orders as the engine would have made it (a trade at the
// resting maker's price, within the taker's limit, never beyond a hold; endings consistent with
// the fills). An event that could not have happened is refused as a whole batch with
// SETTLEMENT_REJECTED: the consumer stops the market's settlement and raises the alarm, rather
// than writing money movements the engine never made. Every ending of an order comes from this
// stream: there is no other path that ends an order.
import { sql } from "drizzle-orm";
import { batchCandles } from "./candles";
import type { Database } from "./client";
import { invariant, LedgerError } from "./errors";
import {
  INT8_MAX,
  requireAmount,
  requireBigint,
  requireDate,
  requireId,
  requireMarketSymbol,
  requireObject,
  requireOneOf,
  requireText,
} from "./input";
import {
  accountKey,
  assertBalanced,
  type Balance,
  type Bucket,
  retryTransaction,
  type TransferKind,
} from "./ledger";
import { type MarketSpec, toSpec } from "./markets";
import { feeFor, lotsToBaseMinor, quoteMinorFor } from "./units";

export type Side = "buy" | "sell";
export type OrderStatus = "pending" | "open" | "closed" | "cancelled" | "rejected";
export type FinishAs =
  | "open"
  | "filled"
  | "cancelled"
  | "ioc"
  | "poc"
  | "fok"
  | "stp"
  | "rejected"
  /** Cancelled by the market's delisting. */
  | "delisted"
  /** Cancelled by a rules change: off the new tick or lot (decisions/006). */
  | "market_rules";

export type TradeEvent = {
  kind: "trade";
  /** The engine's per-market sequence number of this event. */
  seq: bigint;
  /** Unique per market (the pipeline uses the trade event's seq); the same id again is a no-op. */
  tradeId: bigint;
  makerOrderId: bigint;
  takerOrderId: bigint;
  makerUserId: bigint;
  takerUserId: bigint;
  takerSide: Side;
  priceTicks: bigint;
  qtyLots: bigint;
  /** priceTicks × qtyLots in quote minor units; checked against the market's scales. */
  quoteAmount: bigint;
  time: Date;
};

/** Every sequenced engine event of a market, as settlement sees it. */
export type SettlementEvent =
  | TradeEvent
  /** The engine accepted the order into the book: pending → open. */
  | { kind: "order_accepted"; seq: bigint; orderId: bigint }
  /**
   * The order left the book: its unused hold is released. `filled` closes it (only for an order
   * filled completely, or a market buy that bought something and stopped at dust); the rest
   * cancel it.
   */
  | {
      kind: "order_finished";
      seq: bigint;
      orderId: bigint;
      finishAs: Exclude<FinishAs, "open" | "rejected">;
      status?: "closed" | "cancelled";
    }
  /** The engine refused the order (halted market, price band, …): its whole hold is released. */
  | { kind: "order_rejected"; seq: bigint; orderId: bigint; reason: string }
  /**
   * The engine amended a resting order: it now rests at `priceTicks` with `leftLots` left, its
   * whole amount becomes filled + left, and its hold what that still needs (the surplus, with
   * whatever the amend request reserved beyond it, is released).
   */
  | { kind: "order_amended"; seq: bigint; orderId: bigint; priceTicks: bigint; leftLots: bigint }
  /** The engine refused an amend: what the request reserved is released; the order stands. */
  | { kind: "amend_rejected"; seq: bigint; orderId: bigint }
  /**
   * The engine fired a price-triggered order's trigger: the price order, if still open (not
   * cancelled or expired meanwhile), becomes `triggered`; its order is placed after the batch.
   */
  | { kind: "price_order_fired"; seq: bigint; priceOrderId: bigint }
  /**
   * The engine delisted the market (its orders' `order_finished` … `delisted` came before): the
   * market becomes `closed` and its waiting price orders end `cancelled`, in the batch's write.
   */
  | { kind: "market_delisted"; seq: bigint }
  /**
   * The market's rules changed (the engine's `rulesChanged`): the row takes the new tick, lot,
   * minimums, band and fees in this batch's transaction, so the trades before it settle at the
   * old fees and those after it (in this batch too) at the new ones. Null fees: unchanged.
   */
  | {
      kind: "market_rules";
      seq: bigint;
      priceStepTicks: bigint;
      amountStepLots: bigint;
      minBaseLots: bigint;
      minQuoteAmount: bigint;
      priceBandBps: number;
      makerFeePpm: number | null;
      takerFeePpm: number | null;
    }
  /** Any other sequenced event (book deltas…): it only advances the sequence. */
  | { kind: "noop"; seq: bigint };

/** The rules a batch leaves the market with (the last `market_rules` event of the batch). */
export type AppliedMarketRules = Omit<
  Extract<SettlementEvent, { kind: "market_rules" }>,
  "kind" | "makerFeePpm" | "takerFeePpm"
> & { makerFeePpm: number; takerFeePpm: number };

/** The input of settleTrade: one trade with its market. */
export type TradeSettlement = Omit<TradeEvent, "kind"> & { market: string };

export type OrderChange = {
  id: bigint;
  userId: bigint;
  market: string;
  side: Side;
  type: "limit" | "market";
  filledBaseLots: bigint;
  filledQuote: bigint;
  fee: bigint;
  feeAsset: string;
  holdAsset: string;
  holdRemaining: bigint;
  status: OrderStatus;
  finishAs: FinishAs;
  /** Hold released to available by this batch when the order ended. */
  released: bigint;
};

export type SettledTrade = {
  market: string;
  tradeId: bigint;
  seq: bigint;
  buyerUserId: bigint;
  sellerUserId: bigint;
  buyOrderId: bigint;
  sellOrderId: bigint;
  takerSide: Side;
  priceTicks: bigint;
  qtyLots: bigint;
  baseAmount: bigint;
  quoteAmount: bigint;
  /** In base minor units. */
  buyerFee: bigint;
  /** In quote minor units. */
  sellerFee: bigint;
  time: Date;
};

/** What a batch changed, for the user-private pushes (orders, balances, fills). */
export type SettlementChanges = {
  orders: OrderChange[];
  balances: Balance[];
  trades: SettledTrade[];
  /** Price orders this batch marked `triggered`: their orders are to be placed now. */
  triggered: bigint[];
  /** The market's new rules when the batch applied a rules change (caches to refresh). */
  rules?: AppliedMarketRules;
};

export type BatchResult =
  | { ok: true; applied: number; skipped: number; lastSeq: bigint; changes: SettlementChanges }
  | { ok: false; error: "SEQUENCE_GAP"; lastSeq: bigint; expectedSeq: bigint; gotSeq: bigint }
  | { ok: false; error: "STALE_EPOCH"; lastEpoch: bigint; gotEpoch: bigint };

export type BatchOptions = {
  /**
   * The engine owner's epoch (the etcd revision of its ownership of the market). A batch from
   * an older epoch than one already applied is refused (STALE_EPOCH) and changes nothing; a
   * newer one is recorded with the batch, shutting out the older owner.
   */
  epoch?: bigint;
  /** The events-topic offset of the batch's last message, stored with the batch. */
  offset?: bigint;
};

// ---------------------------------------------------------------------------------------------

/** An order as a batch works on it: what it reports as a change, plus what only matching needs. */
type OrderState = OrderChange & {
  /** amend_pending as read: the write's guard against an amend request in between. */
  readAmendPending: boolean;
  priceTicks: bigint | null;
  amount: bigint;
  holdAmount: bigint;
  amends: number;
  amendPending: boolean;
  amendReserved: bigint;
  rejectReason: string | null;
  changed: boolean;
};

type Owner = { userId: bigint } | { system: "fees" };
type PendingEntry = { owner: Owner; asset: string; bucket: Bucket; amount: bigint };
type PendingTransfer = { kind: TransferKind; ref: string; entries: PendingEntry[] };
type Delta = { userId: bigint; asset: string; available: bigint; locked: bigint };

const ended = (status: OrderStatus) => status !== "pending" && status !== "open";

/** A trade already settled under its id: what must match for a redelivery to be a no-op. */
type KnownTrade = {
  makerOrderId: bigint;
  takerOrderId: bigint;
  priceTicks: bigint;
  qtyLots: bigint;
};

/** The in-memory effect of a batch of events, built with checks before anything is written. */
class SettlementPlan {
  readonly transfers: PendingTransfer[] = [];
  readonly trades: SettledTrade[] = [];
  readonly deltas = new Map<string, Delta>();
  /** Price orders fired in this batch, with the sequence of their `fired` event. */
  readonly fired: { id: bigint; seq: bigint }[] = [];
  /** The batch carries the market's delisting. */
  delisted = false;
  /** The rules of the batch's last rules change, written to the market's row with the batch. */
  rules: AppliedMarketRules | null = null;

  constructor(
    /** The market as the batch found it; a rules change replaces it from its event on. */
    private market: MarketSpec,
    private readonly orders: Map<bigint, OrderState>,
    /** Trade ids settled before this batch (and, as it goes, by this batch). */
    private readonly knownTrades: Map<bigint, KnownTrade>,
  ) {}

  /** Refuses the whole batch: the event could not have come from the engine. */
  private reject(event: SettlementEvent, reason: string): never {
    throw new LedgerError(
      "SETTLEMENT_REJECTED",
      `${this.market.symbol} seq ${event.seq} (${event.kind}): ${reason}`,
    );
  }

  private order(event: SettlementEvent, id: bigint): OrderState {
    const order = this.orders.get(id);
    if (!order) this.reject(event, `order ${id} does not exist`);
    if (order.market !== this.market.symbol) {
      this.reject(event, `order ${id} is in ${order.market}, not ${this.market.symbol}`);
    }
    return order;
  }

  private delta(userId: bigint, asset: string, available: bigint, locked: bigint) {
    const key = accountKey(userId, asset);
    const delta = this.deltas.get(key) ?? { userId, asset, available: 0n, locked: 0n };
    delta.available += available;
    delta.locked += locked;
    this.deltas.set(key, delta);
  }

  private post(kind: TransferKind, ref: string, entries: PendingEntry[]) {
    // The double-entry check in code (zero entries dropped), before the database's trigger
    // checks the same rule again.
    const pending = entries.filter((e) => e.amount !== 0n);
    assertBalanced(
      ref,
      pending.map((e) => ({ ...e, accountId: 0n })),
    );
    for (const entry of pending) {
      if ("userId" in entry.owner) {
        const available = entry.bucket === "available" ? entry.amount : 0n;
        const locked = entry.bucket === "locked" ? entry.amount : 0n;
        this.delta(entry.owner.userId, entry.asset, available, locked);
      }
    }
    this.transfers.push({ kind, ref, entries: pending });
  }

  apply(event: SettlementEvent) {
    switch (event.kind) {
      case "trade":
        return this.trade(event);
      case "order_accepted": {
        const order = this.order(event, event.orderId);
        if (order.status === "pending") {
          order.status = "open";
          order.changed = true;
        }
        return;
      }
      case "order_finished": {
        const order = this.order(event, event.orderId);
        const status = event.status ?? (event.finishAs === "filled" ? "closed" : "cancelled");
        if ((status === "closed") !== (event.finishAs === "filled")) {
          this.reject(event, `finish_as ${event.finishAs} does not go with status ${status}`);
        }
        if (ended(order.status)) return this.endedAgain(event, order, status, event.finishAs);
        const marketBuy = order.type === "market" && order.side === "buy";
        if (event.finishAs === "filled") {
          // A market buy stops when what is left cannot buy one lot: filled, dust released.
          const complete = marketBuy
            ? order.filledBaseLots > 0n
            : order.filledBaseLots === order.amount;
          if (!complete) {
            this.reject(
              event,
              `order ${order.id} ends filled with ${order.filledBaseLots} of ${order.amount} filled`,
            );
          }
        }
        if (event.finishAs === "fok" && order.filledBaseLots > 0n) {
          this.reject(event, `fill-or-kill order ${order.id} ends killed after trading`);
        }
        return this.finish(order, event.finishAs, status, null);
      }
      case "order_rejected": {
        const order = this.order(event, event.orderId);
        if (ended(order.status)) return this.endedAgain(event, order, "rejected", "rejected");
        if (order.status !== "pending" || order.filledBaseLots > 0n) {
          this.reject(event, `order ${order.id} is rejected after the engine accepted it`);
        }
        return this.finish(order, "rejected", "rejected", event.reason);
      }
      case "order_amended":
        return this.amended(event);
      case "price_order_fired":
        this.fired.push({ id: event.priceOrderId, seq: event.seq });
        return;
      case "market_rules": {
        const { kind: _kind, ...change } = event;
        const rules: AppliedMarketRules = {
          ...change,
          makerFeePpm: event.makerFeePpm ?? this.market.makerFeePpm,
          takerFeePpm: event.takerFeePpm ?? this.market.takerFeePpm,
        };
        // Every later trade of the batch pays the new rates.
        this.market = {
          ...this.market,
          priceStepTicks: rules.priceStepTicks,
          amountStepLots: rules.amountStepLots,
          minBaseLots: rules.minBaseLots,
          minQuoteAmount: rules.minQuoteAmount,
          makerFeePpm: rules.makerFeePpm,
          takerFeePpm: rules.takerFeePpm,
        };
        this.rules = rules;
        return;
      }
      case "market_delisted":
        this.delisted = true;
        return;
      case "amend_rejected": {
        // The engine refuses an amend of an order that already ended (nothing left to return)
        // or that it never had: either way nothing of the ledger moves.
        const order = this.orders.get(event.orderId);
        if (!order || order.market !== this.market.symbol || ended(order.status)) return;
        this.returnHold(order, order.amendReserved, `order:${order.id}:amend-return:${event.seq}`);
        order.amendReserved = 0n;
        order.amendPending = false;
        order.changed = true;
        return;
      }
      case "noop":
        return;
    }
  }

  /** Moves `amount` of an order's hold back to available (the order keeps living). */
  private returnHold(order: OrderState, amount: bigint, ref: string) {
    invariant(amount <= order.holdRemaining, () => `order ${order.id} returns more than it holds`);
    if (amount === 0n) return;
    this.post("order_release", ref, [
      {
        owner: { userId: order.userId },
        asset: order.holdAsset,
        bucket: "locked",
        amount: -amount,
      },
      {
        owner: { userId: order.userId },
        asset: order.holdAsset,
        bucket: "available",
        amount,
      },
    ]);
    order.holdRemaining -= amount;
    order.holdAmount -= amount;
  }

  private amended(event: Extract<SettlementEvent, { kind: "order_amended" }>) {
    const order = this.order(event, event.orderId);
    const no = (reason: string) => this.reject(event, `amend of order ${order.id}: ${reason}`);
    if (ended(order.status)) no(`the order already ended ${order.status}`);
    if (order.type !== "limit") no("only a resting limit order can be amended");
    if (event.leftLots <= 0n) no(`${event.leftLots} lots left`);
    const needs =
      order.side === "buy"
        ? quoteMinorFor(event.priceTicks, event.leftLots, this.market)
        : lotsToBaseMinor(event.leftLots, this.market);
    if (needs > order.holdRemaining) {
      no(`it needs a hold of ${needs}, beyond the ${order.holdRemaining} it holds`);
    }
    this.returnHold(order, order.holdRemaining - needs, `order:${order.id}:amend:${event.seq}`);
    order.priceTicks = event.priceTicks;
    order.amount = order.filledBaseLots + event.leftLots;
    order.amends += 1;
    order.amendReserved = 0n;
    order.amendPending = false;
    if (order.status === "pending") order.status = "open";
    order.changed = true;
  }

  /** The same ending delivered again is a no-op; a different one contradicts the stream. */
  private endedAgain(
    event: SettlementEvent,
    order: OrderState,
    status: OrderStatus,
    finishAs: FinishAs,
  ) {
    if (order.status !== status || order.finishAs !== finishAs) {
      this.reject(
        event,
        `order ${order.id} already ended ${order.status}/${order.finishAs}, now ${status}/${finishAs}`,
      );
    }
  }

  /** Ends an open order and releases what it still holds. */
  private finish(
    order: OrderState,
    finishAs: FinishAs,
    status: OrderStatus,
    reason: string | null,
  ) {
    invariant(
      !ended(order.status) && ended(status) && finishAs !== "open",
      () => `finishing order ${order.id} (${order.status}) as ${status}`,
    );
    const release = order.holdRemaining;
    if (release > 0n) {
      this.post("order_release", `order:${order.id}:release`, [
        {
          owner: { userId: order.userId },
          asset: order.holdAsset,
          bucket: "locked",
          amount: -release,
        },
        {
          owner: { userId: order.userId },
          asset: order.holdAsset,
          bucket: "available",
          amount: release,
        },
      ]);
    }
    order.holdRemaining = 0n;
    order.released += release;
    order.amendReserved = 0n;
    order.amendPending = false;
    order.status = status;
    order.finishAs = finishAs;
    order.rejectReason = reason;
    order.changed = true;
  }

  /** Refuses a trade the engine could not have made; returns the buy and sell orders. */
  private checkTrade(event: TradeEvent, maker: OrderState, taker: OrderState) {
    const market = this.market;
    const no = (reason: string) => this.reject(event, `trade ${event.tradeId}: ${reason}`);
    if (maker.id === taker.id) no(`matches order ${maker.id} with itself`);
    if (maker.userId !== event.makerUserId) no(`maker ${maker.id} belongs to another user`);
    if (taker.userId !== event.takerUserId) no(`taker ${taker.id} belongs to another user`);
    if (taker.side !== event.takerSide) no(`taker ${taker.id} is a ${taker.side}`);
    if (maker.side === taker.side) no(`both orders are ${maker.side}s`);
    if (ended(maker.status)) no(`maker ${maker.id} already ${maker.status}`);
    if (ended(taker.status)) no(`taker ${taker.id} already ${taker.status}`);
    // The maker rested in the book: a limit order, and the trade is at its price.
    if (maker.type !== "limit" || maker.priceTicks === null) {
      no(`maker ${maker.id} is a market order, which never rests`);
    }
    if (event.priceTicks !== maker.priceTicks) {
      no(`price ${event.priceTicks} is not the maker's ${maker.priceTicks}`);
    }
    // The taker crossed: a limit taker's price is at or through the maker's.
    if (taker.type === "limit") {
      const limit = taker.priceTicks ?? 0n;
      if (taker.side === "buy" ? event.priceTicks > limit : event.priceTicks < limit) {
        no(`price ${event.priceTicks} is beyond the taker's limit ${limit}`);
      }
    }
    const quote = quoteMinorFor(event.priceTicks, event.qtyLots, market);
    if (quote !== event.quoteAmount) no(`quote amount ${event.quoteAmount}, expected ${quote}`);
    const base = lotsToBaseMinor(event.qtyLots, market);
    const buy = taker.side === "buy" ? taker : maker;
    const sell = taker.side === "buy" ? maker : taker;
    for (const order of [buy, sell]) {
      const byQuote = order.type === "market" && order.side === "buy";
      if (!byQuote && order.filledBaseLots + event.qtyLots > order.amount) {
        no(
          `order ${order.id} would fill ${order.filledBaseLots + event.qtyLots} of ${order.amount}`,
        );
      }
      const spends = order === buy ? quote : base;
      if (spends > order.holdRemaining) {
        no(`order ${order.id} would spend ${spends}, beyond the ${order.holdRemaining} it holds`);
      }
    }
    return { buy, sell, quote, base };
  }

  private trade(event: TradeEvent) {
    const market = this.market;
    const known = this.knownTrades.get(event.tradeId);
    if (known) {
      // Redelivered under a new sequence number: a no-op if it is the same trade.
      if (
        known.makerOrderId !== event.makerOrderId ||
        known.takerOrderId !== event.takerOrderId ||
        known.priceTicks !== event.priceTicks ||
        known.qtyLots !== event.qtyLots
      ) {
        this.reject(event, `trade id ${event.tradeId} was already used for another trade`);
      }
      return;
    }
    const maker = this.order(event, event.makerOrderId);
    const taker = this.order(event, event.takerOrderId);
    const { buy, sell, quote, base } = this.checkTrade(event, maker, taker);
    this.knownTrades.set(event.tradeId, event);

    // Each side pays its fee in the asset it receives, at its role's rate, rounded up.
    const buyerPpm = taker === buy ? market.takerFeePpm : market.makerFeePpm;
    const sellerPpm = taker === sell ? market.takerFeePpm : market.makerFeePpm;
    const buyerFee = feeFor(base, buyerPpm);
    const sellerFee = feeFor(quote, sellerPpm);

    this.post("trade", `trade:${market.symbol}:${event.tradeId}`, [
      { owner: { userId: buy.userId }, asset: market.quote, bucket: "locked", amount: -quote },
      {
        owner: { userId: sell.userId },
        asset: market.quote,
        bucket: "available",
        amount: quote - sellerFee,
      },
      { owner: { system: "fees" }, asset: market.quote, bucket: "available", amount: sellerFee },
      { owner: { userId: sell.userId }, asset: market.base, bucket: "locked", amount: -base },
      {
        owner: { userId: buy.userId },
        asset: market.base,
        bucket: "available",
        amount: base - buyerFee,
      },
      { owner: { system: "fees" }, asset: market.base, bucket: "available", amount: buyerFee },
    ]);

    for (const [order, spent, fee] of [
      [buy, quote, buyerFee],
      [sell, base, sellerFee],
    ] as const) {
      order.holdRemaining -= spent;
      invariant(order.holdRemaining >= 0n, () => `order ${order.id} spent beyond its hold`);
      order.filledBaseLots += event.qtyLots;
      order.filledQuote += quote;
      order.fee += fee;
      if (order.status === "pending") order.status = "open";
      order.changed = true;
    }
    this.trades.push({
      market: market.symbol,
      tradeId: event.tradeId,
      seq: event.seq,
      buyerUserId: buy.userId,
      sellerUserId: sell.userId,
      buyOrderId: buy.id,
      sellOrderId: sell.id,
      takerSide: event.takerSide,
      priceTicks: event.priceTicks,
      qtyLots: event.qtyLots,
      baseAmount: base,
      quoteAmount: quote,
      buyerFee,
      sellerFee,
      time: event.time,
    });

    // A fully filled order ends here, releasing a buy's leftover hold (filled below its limit).
    for (const order of [buy, sell]) {
      const byQuote = order.type === "market" && order.side === "buy";
      const done = byQuote ? order.holdRemaining === 0n : order.filledBaseLots === order.amount;
      if (done) this.finish(order, "filled", "closed", null);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function toChange(o: OrderState): OrderChange {
  return {
    id: o.id,
    userId: o.userId,
    market: o.market,
    side: o.side,
    type: o.type,
    filledBaseLots: o.filledBaseLots,
    filledQuote: o.filledQuote,
    fee: o.fee,
    feeAsset: o.feeAsset,
    holdAsset: o.holdAsset,
    holdRemaining: o.holdRemaining,
    status: o.status,
    finishAs: o.finishAs,
    released: o.released,
  };
}

// ---------------------------------------------------------------------------------------------
// The batch's I/O: one read, one write. Both are planned for each batch, never prepared: a batch
// goes from one event to thousands, and a generic plan made for ten rows (or made while the
// tables were small) reads a hundred thousand badly — settlement once slowed as trades
// accumulated because of exactly that.

/** What a batch reads before it is planned: one statement, one consistent snapshot. */
type BatchState = {
  sequence: { lastSeq: bigint; lastEpoch: bigint; lastOffset: bigint | null } | null;
  market: MarketSpec | null;
  orders: Map<bigint, OrderState>;
  known: Map<bigint, KnownTrade>;
  /** Account ids of the batch's users in the market's two assets, by accountKey. */
  accounts: Map<string, bigint>;
};

type OrderJson = {
  id: string;
  user_id: string;
  market: string;
  side: Side;
  type: "limit" | "market";
  price_ticks: string | null;
  amount: string;
  filled_base_lots: string;
  filled_quote: string;
  fee: string;
  fee_asset: string;
  hold_asset: string;
  hold_remaining: string;
  status: OrderStatus;
  finish_as: FinishAs;
  reject_reason: string | null;
  hold_amount: string;
  amends: number;
  amend_pending: boolean;
  amend_reserved: string;
};

const big = (value: string) => BigInt(value);

async function readBatch(
  db: Database,
  market: string,
  events: readonly SettlementEvent[],
): Promise<BatchState> {
  const orderIds = new Set<bigint>();
  const tradeIds: bigint[] = [];
  for (const event of events) {
    if (event.kind === "trade") {
      orderIds.add(event.makerOrderId);
      orderIds.add(event.takerOrderId);
      tradeIds.push(event.tradeId);
    } else if (
      event.kind !== "noop" &&
      event.kind !== "price_order_fired" &&
      event.kind !== "market_delisted" &&
      event.kind !== "market_rules"
    ) {
      orderIds.add(event.orderId);
    }
  }
  const ids = sql.param([...orderIds]);
  // int8 travels as text inside JSON: never through a float.
  const found = await db.execute<{
    sequence: { last_seq: string; last_epoch: string; last_offset: string | null } | null;
    market: Record<string, string | number> | null;
    orders: OrderJson[];
    known: [string, string, string, string, string][];
    accounts: [string, string, string][];
  }>(sql`
    SELECT
      (SELECT json_build_object('last_seq', last_seq::text, 'last_epoch', last_epoch::text,
                                'last_offset', last_offset::text)
         FROM market_sequences WHERE market = ${market}) AS sequence,
      (SELECT json_build_object(
                'symbol', m.symbol, 'base', m.base, 'quote', m.quote,
                'base_decimals', b.decimals, 'quote_decimals', q.decimals,
                'price_precision', m.price_precision, 'amount_precision', m.amount_precision,
                'status', m.status, 'min_base_lots', m.min_base_lots::text,
                'min_quote_amount', m.min_quote_amount::text,
                'maker_fee_ppm', m.maker_fee_ppm, 'taker_fee_ppm', m.taker_fee_ppm)
         FROM markets m JOIN assets b ON b.symbol = m.base JOIN assets q ON q.symbol = m.quote
        WHERE m.symbol = ${market}) AS market,
      (SELECT coalesce(json_agg(json_build_object(
                'id', id::text, 'user_id', user_id::text, 'market', market, 'side', side,
                'type', type, 'price_ticks', price_ticks::text, 'amount', amount::text,
                'filled_base_lots', filled_base_lots::text, 'filled_quote', filled_quote::text,
                'fee', fee::text, 'fee_asset', fee_asset, 'hold_asset', hold_asset,
                'hold_remaining', hold_remaining::text, 'status', status,
                'finish_as', finish_as, 'reject_reason', reject_reason,
                'hold_amount', hold_amount::text, 'amends', amends,
                'amend_pending', amend_pending, 'amend_reserved', amend_reserved::text)), '[]'::json)
         FROM orders WHERE id = ANY(${ids}::bigint[])) AS orders,
      (SELECT coalesce(json_agg(json_build_array(id::text, maker_order_id::text,
                                                  taker_order_id::text, price_ticks::text,
                                                  qty_lots::text)), '[]'::json)
         FROM trades
        WHERE market = ${market} AND id = ANY(${sql.param(tradeIds)}::bigint[])) AS known,
      (SELECT coalesce(json_agg(json_build_array(b.account_id::text, b.user_id::text, b.asset)),
                       '[]'::json)
         FROM balances b
        WHERE b.user_id IN (SELECT user_id FROM orders WHERE id = ANY(${ids}::bigint[]))
          AND b.asset IN (SELECT base FROM markets WHERE symbol = ${market}
                          UNION ALL SELECT quote FROM markets WHERE symbol = ${market})) AS accounts`);
  const row = found.rows[0];
  invariant(row, "the settlement read returned no row");
  const m = row.market;
  return {
    sequence: row.sequence && {
      lastSeq: big(row.sequence.last_seq),
      lastEpoch: big(row.sequence.last_epoch),
      lastOffset: row.sequence.last_offset === null ? null : big(row.sequence.last_offset),
    },
    market:
      m === null
        ? null
        : toSpec({
            symbol: String(m.symbol),
            base: String(m.base),
            quote: String(m.quote),
            base_decimals: Number(m.base_decimals),
            quote_decimals: Number(m.quote_decimals),
            price_precision: Number(m.price_precision),
            amount_precision: Number(m.amount_precision),
            status: m.status === "halted" || m.status === "closed" ? m.status : "trading",
            min_base_lots: big(String(m.min_base_lots)),
            min_quote_amount: big(String(m.min_quote_amount)),
            maker_fee_ppm: Number(m.maker_fee_ppm),
            taker_fee_ppm: Number(m.taker_fee_ppm),
          }),
    orders: new Map(
      row.orders.map((o) => [
        big(o.id),
        {
          id: big(o.id),
          userId: big(o.user_id),
          market: o.market,
          side: o.side,
          type: o.type,
          priceTicks: o.price_ticks === null ? null : big(o.price_ticks),
          amount: big(o.amount),
          filledBaseLots: big(o.filled_base_lots),
          filledQuote: big(o.filled_quote),
          fee: big(o.fee),
          feeAsset: o.fee_asset,
          holdAsset: o.hold_asset,
          holdRemaining: big(o.hold_remaining),
          holdAmount: big(o.hold_amount),
          amends: o.amends,
          amendPending: o.amend_pending,
          readAmendPending: o.amend_pending,
          amendReserved: big(o.amend_reserved),
          status: o.status,
          finishAs: o.finish_as,
          rejectReason: o.reject_reason,
          released: 0n,
          changed: false,
        },
      ]),
    ),
    known: new Map(
      row.known.map(([id, maker, taker, price, qty]) => [
        big(id),
        {
          makerOrderId: big(maker),
          takerOrderId: big(taker),
          priceTicks: big(price),
          qtyLots: big(qty),
        },
      ]),
    ),
    accounts: new Map(
      row.accounts.map(([accountId, userId, asset]) => [
        accountKey(big(userId), asset),
        big(accountId),
      ]),
    ),
  };
}

/** A user balance's net change in a batch; `accountId` null for an account the batch opens. */
type AccountDelta = Delta & { accountId: bigint | null };

/** The sequence advance a batch writes, and the offsets and epochs recorded with it. */
type SequenceAdvance = {
  /** The last applied sequence the batch was planned on: the write's guard. */
  expectedSeq: bigint;
  firstSeq: bigint;
  lastSeq: bigint;
  epoch: bigint;
  batchEpoch: bigint | null;
  /** The offset the sequence row keeps, and the one recorded with this batch. */
  offset: bigint | null;
  batchOffset: bigint | null;
};

/** Why a guarded write wrote nothing. */
type Moved = { moved: "sequence" | "accounts" | "balances" | "orders" };

const GUARD_FAILED = "SX001";

/**
 * Writes a planned batch in one statement (no explicit transaction: a statement is atomic), in
 * this order of effect: the sequence advance, guarded by the sequence the batch was planned on
 * (a concurrent writer of the market makes it match nothing); the accounts the batch opens; the
 * transfers, their entries, the trades, the order changes, the candles and the batch's
 * append-only record; last the balances, each moved by its net change on its row's latest
 * version, locked in account order as every ledger writer locks them, and re-checked there
 * (never negative, never past int8). Any guard that fails raises (spotx_settlement_check), so
 * the statement writes nothing; the caller reads the world again and re-plans.
 */
async function writeBatch(
  db: Database,
  market: MarketSpec,
  plan: SettlementPlan,
  changed: readonly OrderState[],
  deltas: readonly AccountDelta[],
  sequence: SequenceAdvance,
): Promise<{ balances: Balance[]; triggered: bigint[] } | Moved> {
  const accountOf = (owner: Owner, asset: string) =>
    "userId" in owner ? { userId: owner.userId, asset } : null;
  const entryRefs: string[] = [];
  const entryIdx: number[] = [];
  const entryUsers: (bigint | null)[] = [];
  const entryAssets: string[] = [];
  const entryBuckets: Bucket[] = [];
  const entryAmounts: bigint[] = [];
  for (const transfer of plan.transfers) {
    transfer.entries.forEach((entry, idx) => {
      entryRefs.push(transfer.ref);
      entryIdx.push(idx);
      entryUsers.push(accountOf(entry.owner, entry.asset)?.userId ?? null);
      entryAssets.push(entry.asset);
      entryBuckets.push(entry.bucket);
      entryAmounts.push(entry.amount);
    });
  }
  const trades = plan.trades;
  const rulesRows = plan.rules ? [plan.rules] : [];
  const o = changed;
  const opened = deltas.filter((d) => d.accountId === null);
  const held = deltas.filter((d) => d.accountId !== null);
  const candles = batchCandles(
    trades.map((t) => ({
      seq: t.seq,
      priceTicks: t.priceTicks,
      baseAmount: t.baseAmount,
      quoteAmount: t.quoteAmount,
      time: t.time,
    })),
  );
  const go = sql`EXISTS (SELECT 1 FROM s)`;
  try {
    const result = await db.execute<{
      balances: [string, string, string, string, string][] | null;
      triggered: string[] | null;
    }>(
      sql`
      WITH s AS (
        UPDATE market_sequences
           SET last_seq = ${sequence.lastSeq}, last_epoch = ${sequence.epoch},
               last_offset = ${sequence.offset}::bigint, updated_at = now()
         WHERE market = ${market.symbol} AND last_seq = ${sequence.expectedSeq}
        RETURNING market
      ), batch AS (
        INSERT INTO settlement_batches (market, first_seq, last_seq, epoch, events_offset)
        SELECT market, ${sequence.firstSeq}, ${sequence.lastSeq}, ${sequence.batchEpoch}::bigint,
               ${sequence.batchOffset}::bigint
          FROM s
        RETURNING 1
      ), na AS (
        INSERT INTO accounts (kind, user_id, asset)
        SELECT 'user', x.user_id, x.asset
          FROM unnest(${sql.param(opened.map((d) => d.userId))}::bigint[],
                      ${sql.param(opened.map((d) => d.asset))}::text[]) AS x(user_id, asset)
         WHERE ${go}
        ON CONFLICT ON CONSTRAINT accounts_identity DO NOTHING
        RETURNING id, user_id, asset
      ), nb AS (
        INSERT INTO balances (account_id, user_id, asset, available, locked, update_id)
        SELECT na.id, na.user_id, na.asset, x.available, x.locked, 1
          FROM na
          JOIN unnest(${sql.param(opened.map((d) => d.userId))}::bigint[],
                      ${sql.param(opened.map((d) => d.asset))}::text[],
                      ${sql.param(opened.map((d) => d.available))}::bigint[],
                      ${sql.param(opened.map((d) => d.locked))}::bigint[])
               AS x(user_id, asset, available, locked)
            ON x.user_id = na.user_id AND x.asset = na.asset
        RETURNING user_id, asset, available, locked, update_id
      ), known AS (
        SELECT account_id AS id, user_id, asset FROM balances
         WHERE account_id = ANY(${sql.param(held.map((d) => d.accountId))}::bigint[])
        UNION ALL SELECT id, user_id, asset FROM na
      ), f AS MATERIALIZED (
        SELECT id, asset FROM accounts
         WHERE kind = 'fees' AND user_id IS NULL AND asset IN (${market.base}, ${market.quote})
      ), t AS (
        INSERT INTO transfers (kind, ref)
        SELECT * FROM unnest(${sql.param(plan.transfers.map((t) => t.kind))}::transfer_kind[],
                             ${sql.param(plan.transfers.map((t) => t.ref))}::text[])
         WHERE ${go}
        RETURNING id, ref
      ), e AS (
        INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
        SELECT t.id, x.idx, coalesce(k.id, f.id), x.asset, x.bucket, x.amount
          FROM unnest(${sql.param(entryRefs)}::text[], ${sql.param(entryIdx)}::smallint[],
                      ${sql.param(entryUsers)}::bigint[], ${sql.param(entryAssets)}::text[],
                      ${sql.param(entryBuckets)}::ledger_bucket[], ${sql.param(entryAmounts)}::bigint[])
               AS x(ref, idx, user_id, asset, bucket, amount)
          JOIN t ON t.ref = x.ref
          LEFT JOIN known k ON x.user_id IS NOT NULL AND k.user_id = x.user_id AND k.asset = x.asset
          LEFT JOIN f ON x.user_id IS NULL AND f.asset = x.asset
        RETURNING account_id
      ), tr AS (
        INSERT INTO trades (market, id, seq, maker_order_id, taker_order_id, maker_user_id,
                            taker_user_id, taker_side, price_ticks, qty_lots, quote_amount,
                            buyer_fee, seller_fee, transfer_id, created_at)
        SELECT ${market.symbol}, x.id, x.seq, x.maker_order_id, x.taker_order_id, x.maker_user_id,
               x.taker_user_id, x.taker_side, x.price_ticks, x.qty_lots, x.quote_amount,
               x.buyer_fee, x.seller_fee, t.id, x.created_at
          FROM unnest(${sql.param(trades.map((t) => `trade:${market.symbol}:${t.tradeId}`))}::text[],
                      ${sql.param(trades.map((t) => t.tradeId))}::bigint[],
                      ${sql.param(trades.map((t) => t.seq))}::bigint[],
                      ${sql.param(trades.map((t) => (t.takerSide === "buy" ? t.sellOrderId : t.buyOrderId)))}::bigint[],
                      ${sql.param(trades.map((t) => (t.takerSide === "buy" ? t.buyOrderId : t.sellOrderId)))}::bigint[],
                      ${sql.param(trades.map((t) => (t.takerSide === "buy" ? t.sellerUserId : t.buyerUserId)))}::bigint[],
                      ${sql.param(trades.map((t) => (t.takerSide === "buy" ? t.buyerUserId : t.sellerUserId)))}::bigint[],
                      ${sql.param(trades.map((t) => t.takerSide))}::order_side[],
                      ${sql.param(trades.map((t) => t.priceTicks))}::bigint[],
                      ${sql.param(trades.map((t) => t.qtyLots))}::bigint[],
                      ${sql.param(trades.map((t) => t.quoteAmount))}::bigint[],
                      ${sql.param(trades.map((t) => t.buyerFee))}::bigint[],
                      ${sql.param(trades.map((t) => t.sellerFee))}::bigint[],
                      ${sql.param(trades.map((t) => t.time.toISOString()))}::timestamptz[])
               AS x(ref, id, seq, maker_order_id, taker_order_id, maker_user_id, taker_user_id,
                    taker_side, price_ticks, qty_lots, quote_amount, buyer_fee, seller_fee, created_at)
          JOIN t ON t.ref = x.ref
        RETURNING 1
      ), ou AS (
        UPDATE orders o
           SET filled_base_lots = x.filled_base_lots, filled_quote = x.filled_quote, fee = x.fee,
               hold_remaining = x.hold_remaining, status = x.status, finish_as = x.finish_as,
               reject_reason = x.reject_reason, price_ticks = x.price_ticks, amount = x.amount,
               hold_amount = x.hold_amount, amends = x.amends, amend_pending = x.amend_pending,
               amend_reserved = x.amend_reserved, updated_at = now()
          FROM unnest(${sql.param(o.map((r) => r.id))}::bigint[],
                      ${sql.param(o.map((r) => r.filledBaseLots))}::bigint[],
                      ${sql.param(o.map((r) => r.filledQuote))}::bigint[],
                      ${sql.param(o.map((r) => r.fee))}::bigint[],
                      ${sql.param(o.map((r) => r.holdRemaining))}::bigint[],
                      ${sql.param(o.map((r) => r.status))}::order_status[],
                      ${sql.param(o.map((r) => r.finishAs))}::order_finish_as[],
                      ${sql.param(o.map((r) => r.rejectReason))}::text[],
                      ${sql.param(o.map((r) => r.priceTicks))}::bigint[],
                      ${sql.param(o.map((r) => r.amount))}::bigint[],
                      ${sql.param(o.map((r) => r.holdAmount))}::bigint[],
                      ${sql.param(o.map((r) => r.amends))}::int[],
                      ${sql.param(o.map((r) => r.amendPending))}::boolean[],
                      ${sql.param(o.map((r) => r.amendReserved))}::bigint[],
                      ${sql.param(o.map((r) => r.readAmendPending))}::boolean[])
               AS x(id, filled_base_lots, filled_quote, fee, hold_remaining, status, finish_as,
                    reject_reason, price_ticks, amount, hold_amount, amends, amend_pending,
                    amend_reserved, read_amend_pending)
         WHERE o.id = x.id AND ${go}
           -- An amend request (the API's only write to a live order) committed since the read
           -- flips amend_pending on: then nothing is written and the batch is planned again.
           AND o.amend_pending = x.read_amend_pending
        RETURNING 1
      ), mr AS (
        -- A rules change: the row takes the new rules with the sequence advance. listed_rules
        -- keeps, the first time, what the market listed with (SET reads the row as it was).
        UPDATE markets m
           SET price_step_ticks = x.price_step_ticks, amount_step_lots = x.amount_step_lots,
               min_base_lots = x.min_base_lots, min_quote_amount = x.min_quote_amount,
               price_band_bps = x.price_band_bps, maker_fee_ppm = x.maker_fee_ppm,
               taker_fee_ppm = x.taker_fee_ppm,
               listed_rules = coalesce(m.listed_rules, jsonb_build_object(
                 'minBaseLots', m.min_base_lots::text, 'minQuoteAmount', m.min_quote_amount::text,
                 'priceBandBps', m.price_band_bps))
          FROM unnest(${sql.param(rulesRows.map((r) => r.priceStepTicks))}::bigint[],
                      ${sql.param(rulesRows.map((r) => r.amountStepLots))}::bigint[],
                      ${sql.param(rulesRows.map((r) => r.minBaseLots))}::bigint[],
                      ${sql.param(rulesRows.map((r) => r.minQuoteAmount))}::bigint[],
                      ${sql.param(rulesRows.map((r) => r.priceBandBps))}::int[],
                      ${sql.param(rulesRows.map((r) => r.makerFeePpm))}::int[],
                      ${sql.param(rulesRows.map((r) => r.takerFeePpm))}::int[])
               AS x(price_step_ticks, amount_step_lots, min_base_lots, min_quote_amount,
                    price_band_bps, maker_fee_ppm, taker_fee_ppm)
         WHERE m.symbol = ${market.symbol} AND ${go}
        RETURNING 1
      ), pu AS (
        UPDATE price_orders p SET status = 'triggered', fired_seq = x.seq
          FROM unnest(${sql.param(plan.fired.map((f) => f.id))}::bigint[],
                      ${sql.param(plan.fired.map((f) => f.seq))}::bigint[]) AS x(id, seq)
         WHERE p.id = x.id AND p.market = ${market.symbol} AND p.status = 'open' AND ${go}
        RETURNING p.id
      ), md AS (
        UPDATE markets SET status = 'closed'
         WHERE symbol = ${market.symbol} AND ${plan.delisted} AND ${go}
        RETURNING 1
      ), pd AS (
        -- A delisted market's waiting price orders end with it (one that fired already is being
        -- placed, and that placement is refused: it ends failed).
        UPDATE price_orders SET status = 'cancelled', finished_at = now(),
               reason = 'the market was delisted'
         WHERE market = ${market.symbol} AND status = 'open' AND ${plan.delisted} AND ${go}
        RETURNING id
      ), c AS (
        INSERT INTO candles AS c (market, interval, start_time, open, high, low, close,
                                  base_amount, quote_amount, trades, last_seq, updated_at)
        SELECT ${market.symbol}, x.interval, x.start_time, x.open, x.high, x.low, x.close,
               x.base_amount, x.quote_amount, x.trades, x.last_seq, now()
          FROM unnest(${sql.param(candles.map((x) => x.interval))}::text[],
                      ${sql.param(candles.map((x) => x.start.toISOString()))}::timestamptz[],
                      ${sql.param(candles.map((x) => x.open))}::bigint[],
                      ${sql.param(candles.map((x) => x.high))}::bigint[],
                      ${sql.param(candles.map((x) => x.low))}::bigint[],
                      ${sql.param(candles.map((x) => x.close))}::bigint[],
                      ${sql.param(candles.map((x) => x.base))}::bigint[],
                      ${sql.param(candles.map((x) => x.quote))}::bigint[],
                      ${sql.param(candles.map((x) => x.trades))}::int[],
                      ${sql.param(candles.map((x) => x.lastSeq))}::bigint[])
               AS x(interval, start_time, open, high, low, close, base_amount, quote_amount,
                    trades, last_seq)
         WHERE ${go}
        ON CONFLICT (market, interval, start_time) DO UPDATE
           SET high = greatest(c.high, EXCLUDED.high),
               low = least(c.low, EXCLUDED.low),
               close = CASE WHEN EXCLUDED.last_seq > c.last_seq THEN EXCLUDED.close ELSE c.close END,
               base_amount = c.base_amount + EXCLUDED.base_amount,
               quote_amount = c.quote_amount + EXCLUDED.quote_amount,
               trades = c.trades + EXCLUDED.trades,
               last_seq = greatest(c.last_seq, EXCLUDED.last_seq),
               updated_at = now()
        RETURNING 1
      ), d AS (
        SELECT * FROM unnest(${sql.param(held.map((d) => d.accountId))}::bigint[],
                             ${sql.param(held.map((d) => d.available))}::bigint[],
                             ${sql.param(held.map((d) => d.locked))}::bigint[])
                   AS d(account_id, available, locked)
         WHERE ${go}
      ), h AS MATERIALIZED (
        SELECT b.account_id, d.available, d.locked FROM balances b
          JOIN d ON d.account_id = b.account_id
         ORDER BY b.account_id
           FOR UPDATE OF b
      ), b AS (
        UPDATE balances
           SET available = balances.available + h.available,
               locked = balances.locked + h.locked,
               update_id = balances.update_id + 1, updated_at = now()
          FROM h
         WHERE balances.account_id = h.account_id
           AND h.available >= -balances.available
           AND h.available <= ${INT8_MAX}::int8 - balances.available
           AND h.locked >= -balances.locked
           AND h.locked <= ${INT8_MAX}::int8 - balances.locked
        RETURNING balances.user_id, balances.asset, balances.available, balances.locked,
                  balances.update_id
      )
      SELECT spotx_settlement_check((SELECT count(*) FROM s) = 1, 'sequence')
         AND spotx_settlement_check((SELECT count(*) FROM na) = ${opened.length}, 'accounts')
         AND spotx_settlement_check((SELECT count(*) FROM b) = ${held.length}, 'balances')
         AND spotx_settlement_check((SELECT count(*) FROM ou) = ${o.length}, 'orders')
         AND spotx_settlement_check(
               (SELECT count(*) FROM batch) = 1
               AND (SELECT count(*) FROM t) = ${plan.transfers.length}
               AND (SELECT count(*) FROM e) = ${entryRefs.length}
               AND (SELECT count(*) FROM e WHERE account_id IS NULL) = 0
               AND (SELECT count(*) FROM tr) = ${trades.length}
               AND (SELECT count(*) FROM mr) = ${rulesRows.length}
               AND (SELECT count(*) FROM md) = ${plan.delisted ? 1 : 0}
               AND (SELECT count(*) FROM c) = ${candles.length}, 'written') AS checked,
             (SELECT json_agg(json_build_array(user_id::text, asset, available::text,
                                               locked::text, update_id::text))
                FROM (SELECT * FROM b UNION ALL SELECT * FROM nb) AS moved) AS balances,
             (SELECT json_agg(id::text) FROM pu) AS triggered`,
    );
    const row = result.rows[0];
    invariant(row, "the settlement write returned no row");
    return {
      balances: (row.balances ?? []).map(([userId, asset, available, locked, updateId]) => ({
        userId: BigInt(userId),
        asset,
        available: BigInt(available),
        locked: BigInt(locked),
        updateId: BigInt(updateId),
      })),
      triggered: (row.triggered ?? []).map((id) => BigInt(id)),
    };
  } catch (error) {
    const guard = guardFailed(error);
    if (guard === "written") {
      invariant(false, `settlement wrote other row counts than it planned for ${market.symbol}`);
    }
    if (guard !== null) return { moved: guard };
    throw error;
  }
}

/** Which guard of the write failed (its DETAIL), or null when the error is another. */
function guardFailed(error: unknown): Moved["moved"] | "written" | null {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Object && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; detail?: unknown; cause?: unknown };
    if (e.code === GUARD_FAILED) {
      const what = e.detail;
      return what === "sequence" ||
        what === "accounts" ||
        what === "balances" ||
        what === "orders" ||
        what === "written"
        ? what
        : null;
    }
    current = e.cause;
  }
  return null;
}

/**
 * Why a balance could not take its change, from the rows as they are now: past int8 is the
 * batch's fault (SETTLEMENT_REJECTED); below zero is a broken invariant (settlement only takes
 * from `locked` what its own orders still hold). Undefined when every change fits now (the row
 * moved between the guard and this look: plan again).
 */
async function refusedBalance(
  db: Database,
  market: string,
  deltas: readonly AccountDelta[],
): Promise<LedgerError | undefined> {
  const held = deltas.filter((d) => d.accountId !== null);
  const found = await db.execute<{ account_id: bigint; available: bigint; locked: bigint }>(sql`
    SELECT account_id, available, locked FROM balances
     WHERE account_id = ANY(${sql.param(held.map((d) => d.accountId))}::bigint[])`);
  const now = new Map(found.rows.map((r) => [r.account_id, r]));
  for (const delta of held) {
    const current = delta.accountId === null ? undefined : now.get(delta.accountId);
    invariant(current, () => `balance of user ${delta.userId} in ${delta.asset} is missing`);
    const available = current.available + delta.available;
    const locked = current.locked + delta.locked;
    if (available > INT8_MAX || locked > INT8_MAX) {
      return new LedgerError(
        "SETTLEMENT_REJECTED",
        `${market}: user ${delta.userId}'s ${delta.asset} balance would exceed the largest amount a balance holds`,
      );
    }
    invariant(
      available >= 0n && locked >= 0n,
      () =>
        `settlement would make user ${delta.userId}'s ${delta.asset} negative ` +
        `(available ${current.available}${delta.available >= 0n ? "+" : ""}${delta.available}, ` +
        `locked ${current.locked}${delta.locked >= 0n ? "+" : ""}${delta.locked})`,
    );
  }
  return undefined;
}

const FINISH_AS = [
  "filled",
  "cancelled",
  "ioc",
  "poc",
  "fok",
  "stp",
  "delisted",
  "market_rules",
] as const;

/** A whole number in [min, max] (rates and bands travel as numbers). */
function requireInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `${what} must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** Checks one event's shape (types and ranges); INVALID_PARAM_VALUE names what is wrong. */
function parseEvent(raw: unknown): SettlementEvent {
  const e = requireObject(raw, "settlement event");
  const kind = requireOneOf(
    e.kind,
    [
      "trade",
      "order_accepted",
      "order_finished",
      "order_rejected",
      "order_amended",
      "amend_rejected",
      "price_order_fired",
      "market_delisted",
      "market_rules",
      "noop",
    ] as const,
    "event kind",
  );
  const seq = requireBigint(e.seq, "seq", { min: 1n });
  switch (kind) {
    case "trade":
      return {
        kind,
        seq,
        tradeId: requireId(e.tradeId, "tradeId"),
        makerOrderId: requireId(e.makerOrderId, "makerOrderId"),
        takerOrderId: requireId(e.takerOrderId, "takerOrderId"),
        makerUserId: requireId(e.makerUserId, "makerUserId"),
        takerUserId: requireId(e.takerUserId, "takerUserId"),
        takerSide: requireOneOf(e.takerSide, ["buy", "sell"] as const, "takerSide"),
        priceTicks: requireAmount(e.priceTicks, "priceTicks"),
        qtyLots: requireAmount(e.qtyLots, "qtyLots"),
        quoteAmount: requireAmount(e.quoteAmount, "quoteAmount"),
        time: requireDate(e.time, "time"),
      };
    case "order_accepted":
      return { kind, seq, orderId: requireId(e.orderId, "orderId") };
    case "order_finished":
      return {
        kind,
        seq,
        orderId: requireId(e.orderId, "orderId"),
        finishAs: requireOneOf(e.finishAs, FINISH_AS, "finishAs"),
        ...(e.status === undefined
          ? {}
          : { status: requireOneOf(e.status, ["closed", "cancelled"] as const, "status") }),
      };
    case "order_rejected":
      return {
        kind,
        seq,
        orderId: requireId(e.orderId, "orderId"),
        reason: requireText(e.reason, "reason", 1_000),
      };
    case "order_amended":
      return {
        kind,
        seq,
        orderId: requireId(e.orderId, "orderId"),
        priceTicks: requireAmount(e.priceTicks, "priceTicks"),
        leftLots: requireAmount(e.leftLots, "leftLots"),
      };
    case "amend_rejected":
      return { kind, seq, orderId: requireId(e.orderId, "orderId") };
    case "price_order_fired":
      return { kind, seq, priceOrderId: requireId(e.priceOrderId, "priceOrderId") };
    case "market_delisted":
      return { kind, seq };
    case "market_rules": {
      const fee = (value: unknown, name: string) =>
        value === null || value === undefined ? null : requireInteger(value, name, 0, 100_000);
      return {
        kind,
        seq,
        priceStepTicks: requireAmount(e.priceStepTicks, "priceStepTicks"),
        amountStepLots: requireAmount(e.amountStepLots, "amountStepLots"),
        minBaseLots: requireAmount(e.minBaseLots, "minBaseLots"),
        minQuoteAmount: requireAmount(e.minQuoteAmount, "minQuoteAmount"),
        priceBandBps: requireInteger(e.priceBandBps, "priceBandBps", 1, 1_000_000),
        makerFeePpm: fee(e.makerFeePpm, "makerFeePpm"),
        takerFeePpm: fee(e.takerFeePpm, "takerFeePpm"),
      };
    }
    case "noop":
      return { kind, seq };
  }
}

/**
 * Applies a market's events in one transaction. Events at or below the market's last applied
 * sequence are skipped (redelivery); the rest must continue it without a hole, else nothing is
 * applied and the gap is returned as an error value for the caller to alarm on. With an
 * `epoch`, a batch from an older engine owner is refused (STALE_EPOCH); `offset` is stored
 * with the batch. The batch's trades are folded into `candles` in the same transaction.
 * Throws SETTLEMENT_REJECTED (nothing written) for an event the engine could not have made.
 */
export async function applySettlementBatch(
  db: Database,
  market: string,
  events: readonly SettlementEvent[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  requireMarketSymbol(market);
  if (!Array.isArray(events)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "a settlement batch is an array of events");
  }
  const opts = requireObject(options, "options");
  const epoch =
    opts.epoch === undefined ? undefined : requireBigint(opts.epoch, "epoch", { min: 0n });
  const offset =
    opts.offset === undefined ? undefined : requireBigint(opts.offset, "offset", { min: 0n });
  const parsed = events.map(parseEvent);
  for (let i = 1; i < parsed.length; i++) {
    const previous = parsed[i - 1];
    const current = parsed[i];
    if (!previous || !current || current.seq <= previous.seq) {
      throw new LedgerError(
        "INVALID_PARAM_VALUE",
        `settlement batch for ${market} is not in strictly increasing sequence order`,
      );
    }
  }
  for (let attempt = 1; ; attempt++) {
    const outcome = await retryTransaction(() => settleOnce(db, market, parsed, { epoch, offset }));
    if (!("moved" in outcome)) return outcome;
    // Another writer advanced the market, an account appeared, or a balance moved between the
    // read and the write: nothing was written; read again and plan again.
    if (attempt >= MAX_PLANS) {
      throw new Error(
        `settlement of ${market} found the market moving under it ${attempt} times (last: ${outcome.moved})`,
      );
    }
  }
}

/** How often one batch is read and planned again before the caller is told. */
const MAX_PLANS = 20;

/** One read, one plan, one guarded write; `moved` when the write found the world changed. */
async function settleOnce(
  db: Database,
  market: string,
  parsed: readonly SettlementEvent[],
  options: { epoch: bigint | undefined; offset: bigint | undefined },
): Promise<BatchResult | Moved> {
  const { epoch, offset } = options;
  const state = await readBatch(db, market, parsed);
  const row = state.sequence;
  if (row === null || state.market === null) {
    throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${market}`);
  }
  const lastSeq = row.lastSeq;
  if (epoch !== undefined && epoch < row.lastEpoch) {
    return { ok: false, error: "STALE_EPOCH", lastEpoch: row.lastEpoch, gotEpoch: epoch };
  }
  const nextEpoch = epoch !== undefined && epoch > row.lastEpoch ? epoch : row.lastEpoch;
  const fresh = parsed.filter((e) => e.seq > lastSeq);
  const empty = { orders: [], balances: [], trades: [], triggered: [] };
  if (fresh.length === 0) {
    // All replays: nothing to apply, but a newer owner or a later offset is still recorded.
    const nextOffset =
      offset !== undefined && (row.lastOffset === null || offset > row.lastOffset)
        ? offset
        : row.lastOffset;
    if (nextEpoch !== row.lastEpoch || nextOffset !== row.lastOffset) {
      const updated = await db.execute(sql`
        UPDATE market_sequences SET last_epoch = ${nextEpoch}, last_offset = ${nextOffset},
                                    updated_at = now()
         WHERE market = ${market} AND last_seq = ${lastSeq} AND last_epoch <= ${nextEpoch}`);
      if (updated.rowCount === 0) return { moved: "sequence" };
    }
    return { ok: true, applied: 0, skipped: parsed.length, lastSeq, changes: empty };
  }
  for (const [i, event] of fresh.entries()) {
    const expectedSeq = lastSeq + 1n + BigInt(i);
    if (event.seq !== expectedSeq) {
      return { ok: false, error: "SEQUENCE_GAP", lastSeq, expectedSeq, gotSeq: event.seq };
    }
  }
  const spec = state.market;
  const plan = new SettlementPlan(spec, state.orders, state.known);
  for (const event of fresh) plan.apply(event);
  const changed = [...state.orders.values()].filter((o) => o.changed);
  const deltas: AccountDelta[] = [];
  for (const delta of plan.deltas.values()) {
    for (const amount of [delta.available, delta.locked]) {
      if (amount > INT8_MAX || amount < -INT8_MAX) {
        throw new LedgerError(
          "SETTLEMENT_REJECTED",
          `${market}: user ${delta.userId}'s ${delta.asset} balance would exceed the largest amount a balance holds`,
        );
      }
    }
    const accountId = state.accounts.get(accountKey(delta.userId, delta.asset)) ?? null;
    // An account the batch opens can only receive: a user with nothing in an asset holds none.
    invariant(
      accountId !== null || (delta.available >= 0n && delta.locked >= 0n),
      () => `user ${delta.userId} would go negative in ${delta.asset}, where they have no account`,
    );
    deltas.push({ ...delta, accountId });
  }
  deltas.sort((a, b) => (accountOrder(a) < accountOrder(b) ? -1 : 1));
  const newLast = lastSeq + BigInt(fresh.length);
  const written = await writeBatch(db, spec, plan, changed, deltas, {
    expectedSeq: lastSeq,
    firstSeq: lastSeq + 1n,
    lastSeq: newLast,
    epoch: nextEpoch,
    batchEpoch: epoch ?? null,
    offset: offset ?? row.lastOffset,
    batchOffset: offset ?? null,
  });
  if ("moved" in written) {
    if (written.moved === "balances") {
      const refused = await refusedBalance(db, market, deltas);
      if (refused) throw refused;
    }
    return written;
  }
  return {
    ok: true,
    applied: fresh.length,
    skipped: parsed.length - fresh.length,
    lastSeq: newLast,
    changes: {
      orders: changed.map(toChange),
      trades: plan.trades,
      balances: written.balances,
      triggered: written.triggered,
      ...(plan.rules ? { rules: plan.rules } : {}),
    },
  };
}

/** Balance rows are written in account order; accounts a batch opens come last. */
function accountOrder(delta: AccountDelta): bigint {
  return delta.accountId ?? INT8_MAX;
}

/** Settles one trade: a batch of one (see applySettlementBatch). */
export async function settleTrade(db: Database, trade: TradeSettlement): Promise<BatchResult> {
  const { market, ...event } = requireObject(trade, "trade") as TradeSettlement;
  return applySettlementBatch(db, market, [{ ...event, kind: "trade" }]);
}
