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
import { foldCandles } from "./candles";
import type { Database, Transaction } from "./client";
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
  userAccountIds,
} from "./ledger";
import { loadMarket, type MarketSpec } from "./markets";
import { executePrepared } from "./prepared";
import { feeFor, lotsToBaseMinor, quoteMinorFor } from "./units";

export type Side = "buy" | "sell";
export type OrderStatus = "pending" | "open" | "closed" | "cancelled" | "rejected";
export type FinishAs = "open" | "filled" | "cancelled" | "ioc" | "poc" | "fok" | "stp" | "rejected";

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
  /** Any other sequenced event (book deltas…): it only advances the sequence. */
  | { kind: "noop"; seq: bigint };

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
  priceTicks: bigint | null;
  amount: bigint;
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

  constructor(
    private readonly market: MarketSpec,
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
      case "noop":
        return;
    }
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

// The two lookups by id below are planned for each batch, not prepared: a prepared statement's
// generic plan is made once per connection, and made while a fresh exchange's tables are small
// it scanned the whole market's trades by trades_market_created (estimated 12 rows) long after
// there were 100,000 — settlement slowed as the tables grew (2,188 trades/s at 150,000 trades in
// the ledger bench). Planned with the batch's ids, they look the rows up by primary key.
async function lockOrders(tx: Transaction, ids: bigint[]): Promise<Map<bigint, OrderState>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.execute<{
    id: bigint;
    user_id: bigint;
    market: string;
    side: Side;
    type: "limit" | "market";
    price_ticks: bigint | null;
    amount: bigint;
    filled_base_lots: bigint;
    filled_quote: bigint;
    fee: bigint;
    fee_asset: string;
    hold_asset: string;
    hold_remaining: bigint;
    status: OrderStatus;
    finish_as: FinishAs;
    reject_reason: string | null;
  }>(
    sql`
    SELECT id, user_id, market, side, type, price_ticks, amount, filled_base_lots, filled_quote,
           fee, fee_asset, hold_asset, hold_remaining, status, finish_as, reject_reason
      FROM orders WHERE id = ANY(${sql.param(ids)}::bigint[])
     ORDER BY id
       FOR UPDATE`,
  );
  return new Map(
    rows.rows.map((r) => [
      r.id,
      {
        id: r.id,
        userId: r.user_id,
        market: r.market,
        side: r.side,
        type: r.type,
        priceTicks: r.price_ticks,
        amount: r.amount,
        filledBaseLots: r.filled_base_lots,
        filledQuote: r.filled_quote,
        fee: r.fee,
        feeAsset: r.fee_asset,
        holdAsset: r.hold_asset,
        holdRemaining: r.hold_remaining,
        status: r.status,
        finishAs: r.finish_as,
        rejectReason: r.reject_reason,
        released: 0n,
        changed: false,
      },
    ]),
  );
}

/** A user balance's net change in a batch, on its account. */
type AccountDelta = Delta & { accountId: bigint };

/**
 * Applies events (already sequenced by the caller) inside `tx`: writes the transfers, entries,
 * trades, order changes and candles, and returns what changed with the balance changes still to
 * apply — the caller applies them last (applyBalanceDeltas), so the batch holds balance row
 * locks only for its final statement and the commit, not while it writes the rest.
 */
async function applyEvents(
  tx: Transaction,
  market: MarketSpec,
  events: readonly SettlementEvent[],
): Promise<{ changes: Omit<SettlementChanges, "balances">; deltas: AccountDelta[] }> {
  const orderIds = new Set<bigint>();
  for (const event of events) {
    if (event.kind === "trade") {
      orderIds.add(event.makerOrderId);
      orderIds.add(event.takerOrderId);
    } else if (event.kind !== "noop") {
      orderIds.add(event.orderId);
    }
  }
  const orders = await lockOrders(
    tx,
    [...orderIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const plan = new SettlementPlan(market, orders, await knownTrades(tx, market.symbol, events));
  for (const event of events) plan.apply(event);

  const changedOrders = [...orders.values()].filter((o) => o.changed);
  const deltas: AccountDelta[] = [];

  if (plan.deltas.size > 0) {
    // Account ids only (created for a user receiving an asset for the first time): the balance
    // rows themselves are not read here, and not locked until the batch's last statement.
    const accounts = await userAccountIds(tx, [...plan.deltas.values()]);
    for (const delta of plan.deltas.values()) {
      const accountId = accounts.get(accountKey(delta.userId, delta.asset));
      invariant(accountId !== undefined, "account of a balance change missing");
      for (const amount of [delta.available, delta.locked]) {
        if (amount > INT8_MAX || amount < -INT8_MAX) {
          throw new LedgerError(
            "SETTLEMENT_REJECTED",
            `${market.symbol}: user ${delta.userId}'s ${delta.asset} balance would exceed the largest amount a balance holds`,
          );
        }
      }
      deltas.push({ ...delta, accountId });
    }
    deltas.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));

    // A fee account (one per asset, made with the asset) is found by the statement below.
    const accountOf = (owner: Owner, asset: string): bigint | null => {
      if (!("userId" in owner)) return null;
      const id = accounts.get(accountKey(owner.userId, asset));
      invariant(id !== undefined, () => `no account for user ${owner.userId} in ${asset}`);
      return id;
    };

    const entryRefs: string[] = [];
    const entryIdx: number[] = [];
    const entryAccounts: (bigint | null)[] = [];
    const entryAssets: string[] = [];
    const entryBuckets: Bucket[] = [];
    const entryAmounts: bigint[] = [];
    for (const transfer of plan.transfers) {
      transfer.entries.forEach((entry, idx) => {
        entryRefs.push(transfer.ref);
        entryIdx.push(idx);
        entryAccounts.push(accountOf(entry.owner, entry.asset));
        entryAssets.push(entry.asset);
        entryBuckets.push(entry.bucket);
        entryAmounts.push(entry.amount);
      });
    }
    const trades = plan.trades;
    const o = changedOrders;
    // Planned for each batch (not prepared): its size goes from one event to thousands, and a
    // plan made for ten rows joins a thousand badly.
    const written = await tx.execute<{
      transfers: bigint;
      entries: bigint;
      trades: bigint;
      orders: bigint;
    }>(
      sql`
      WITH f AS MATERIALIZED (
        SELECT id, asset FROM accounts
         WHERE kind = 'fees' AND user_id IS NULL AND asset IN (${market.base}, ${market.quote})
      ), t AS (
        INSERT INTO transfers (kind, ref)
        SELECT * FROM unnest(${sql.param(plan.transfers.map((t) => t.kind))}::transfer_kind[],
                             ${sql.param(plan.transfers.map((t) => t.ref))}::text[])
        RETURNING id, ref
      ), e AS (
        INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
        SELECT t.id, x.idx, coalesce(x.account_id, f.id), x.asset, x.bucket, x.amount
          FROM unnest(${sql.param(entryRefs)}::text[], ${sql.param(entryIdx)}::smallint[],
                      ${sql.param(entryAccounts)}::bigint[], ${sql.param(entryAssets)}::text[],
                      ${sql.param(entryBuckets)}::ledger_bucket[], ${sql.param(entryAmounts)}::bigint[])
               AS x(ref, idx, account_id, asset, bucket, amount)
          JOIN t ON t.ref = x.ref
          LEFT JOIN f ON x.account_id IS NULL AND f.asset = x.asset
        RETURNING 1
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
        ${orderUpdate(o)}
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM t) AS transfers, (SELECT count(*) FROM e) AS entries,
             (SELECT count(*) FROM tr) AS trades, (SELECT count(*) FROM ou) AS orders`,
    );
    const counts = written.rows[0];
    invariant(
      counts &&
        Number(counts.transfers) === plan.transfers.length &&
        Number(counts.entries) === entryRefs.length &&
        Number(counts.trades) === trades.length &&
        Number(counts.orders) === o.length,
      () =>
        `settlement wrote ${JSON.stringify(counts, String)}, planned ${plan.transfers.length}/${entryRefs.length}/${trades.length}/${o.length}`,
    );
  } else {
    invariant(plan.transfers.length === 0, "transfers without balance changes");
    if (changedOrders.length > 0) await tx.execute(orderUpdate(changedOrders));
  }

  await foldCandles(tx, market.symbol, plan.trades);

  return { changes: { orders: changedOrders.map(toChange), trades: plan.trades }, deltas };
}

/** The statement writing the batch's order changes (fills, holds, endings). */
function orderUpdate(o: OrderState[]) {
  return sql`
    UPDATE orders o
       SET filled_base_lots = x.filled_base_lots, filled_quote = x.filled_quote, fee = x.fee,
           hold_remaining = x.hold_remaining, status = x.status, finish_as = x.finish_as,
           reject_reason = x.reject_reason, updated_at = now()
      FROM unnest(${sql.param(o.map((r) => r.id))}::bigint[],
                  ${sql.param(o.map((r) => r.filledBaseLots))}::bigint[],
                  ${sql.param(o.map((r) => r.filledQuote))}::bigint[],
                  ${sql.param(o.map((r) => r.fee))}::bigint[],
                  ${sql.param(o.map((r) => r.holdRemaining))}::bigint[],
                  ${sql.param(o.map((r) => r.status))}::order_status[],
                  ${sql.param(o.map((r) => r.finishAs))}::order_finish_as[],
                  ${sql.param(o.map((r) => r.rejectReason))}::text[])
           AS x(id, filled_base_lots, filled_quote, fee, hold_remaining, status, finish_as, reject_reason)
     WHERE o.id = x.id`;
}

/**
 * The batch's last statement: records the sequence advance (and its append-only batch row) and
 * moves every balance by its net change — an increment on the row's latest version, so a
 * placement that held from the same balance a moment ago is neither waited for beforehand nor
 * overwritten. Rows are locked in account order (as every ledger writer locks them), and the
 * update re-checks the row can take the change: a balance that would pass int8 refuses the
 * batch (SETTLEMENT_REJECTED); one that would go negative is a broken invariant — settlement
 * only takes from `locked` what its own (locked) orders still hold.
 */
async function finishBatch(
  tx: Transaction,
  market: string,
  sequence: {
    firstSeq: bigint;
    lastSeq: bigint;
    epoch: bigint;
    batchEpoch: bigint | null;
    /** The offset the sequence row keeps, and the one recorded with this batch. */
    offset: bigint | null;
    batchOffset: bigint | null;
  },
  deltas: readonly AccountDelta[],
): Promise<Balance[]> {
  const result = await tx.execute<{
    balances: [string, string, string, string, string][] | null;
  }>(
    sql`
    WITH s AS (
      UPDATE market_sequences
         SET last_seq = ${sequence.lastSeq}, last_epoch = ${sequence.epoch},
             last_offset = ${sequence.offset}::bigint, updated_at = now()
       WHERE market = ${market}
      RETURNING market
    ), batch AS (
      INSERT INTO settlement_batches (market, first_seq, last_seq, epoch, events_offset)
      SELECT market, ${sequence.firstSeq}, ${sequence.lastSeq}, ${sequence.batchEpoch}::bigint,
             ${sequence.batchOffset}::bigint
        FROM s
      RETURNING 1
    ), d AS (
      SELECT * FROM unnest(${sql.param(deltas.map((d) => d.accountId))}::bigint[],
                           ${sql.param(deltas.map((d) => d.available))}::bigint[],
                           ${sql.param(deltas.map((d) => d.locked))}::bigint[])
                 AS d(account_id, available, locked)
    ), held AS MATERIALIZED (
      SELECT b.account_id, d.available, d.locked FROM balances b
        JOIN d ON d.account_id = b.account_id
       ORDER BY b.account_id
         FOR UPDATE OF b
    ), b AS (
      UPDATE balances
         SET available = balances.available + held.available,
             locked = balances.locked + held.locked,
             update_id = balances.update_id + 1, updated_at = now()
        FROM held
       WHERE balances.account_id = held.account_id
         AND held.available >= -balances.available
         AND held.available <= ${INT8_MAX}::int8 - balances.available
         AND held.locked >= -balances.locked
         AND held.locked <= ${INT8_MAX}::int8 - balances.locked
      RETURNING balances.user_id, balances.asset, balances.available, balances.locked,
                balances.update_id
    )
    SELECT (SELECT count(*) FROM batch) AS batches,
           (SELECT json_agg(json_build_array(user_id::text, asset, available::text, locked::text,
                                             update_id::text)) FROM b) AS balances`,
  );
  const row = result.rows[0];
  invariant(row, "the settlement's last statement returned no row");
  const balances: Balance[] = (row.balances ?? []).map(
    ([userId, asset, available, locked, updateId]) => ({
      userId: BigInt(userId),
      asset,
      available: BigInt(available),
      locked: BigInt(locked),
      updateId: BigInt(updateId),
    }),
  );
  if (balances.length < deltas.length) {
    // Say which change the row could not take (the rows are ours until the rollback).
    const moved = new Set(balances.map((b) => accountKey(b.userId, b.asset)));
    const refused = deltas.filter((d) => !moved.has(accountKey(d.userId, d.asset)));
    const found = await tx.execute<{ account_id: bigint; available: bigint; locked: bigint }>(sql`
      SELECT account_id, available, locked FROM balances
       WHERE account_id = ANY(${sql.param(refused.map((d) => d.accountId))}::bigint[])`);
    const now = new Map(found.rows.map((r) => [r.account_id, r]));
    for (const delta of refused) {
      const current = now.get(delta.accountId);
      invariant(current, () => `balance of user ${delta.userId} in ${delta.asset} is missing`);
      const available = current.available + delta.available;
      const locked = current.locked + delta.locked;
      if (available > INT8_MAX || locked > INT8_MAX) {
        throw new LedgerError(
          "SETTLEMENT_REJECTED",
          `${market}: user ${delta.userId}'s ${delta.asset} balance would exceed the largest amount a balance holds`,
        );
      }
      invariant(
        false,
        `settlement would make user ${delta.userId}'s ${delta.asset} negative ` +
          `(available ${current.available}${delta.available >= 0n ? "+" : ""}${delta.available}, ` +
          `locked ${current.locked}${delta.locked >= 0n ? "+" : ""}${delta.locked})`,
      );
    }
  }
  return balances;
}

/** The batch's trade ids that were settled before, with what identifies each trade. */
async function knownTrades(
  tx: Transaction,
  market: string,
  events: readonly SettlementEvent[],
): Promise<Map<bigint, KnownTrade>> {
  const ids = events.flatMap((e) => (e.kind === "trade" ? [e.tradeId] : []));
  if (ids.length === 0) return new Map();
  const found = await tx.execute<{
    id: bigint;
    maker_order_id: bigint;
    taker_order_id: bigint;
    price_ticks: bigint;
    qty_lots: bigint;
  }>(
    sql`
    SELECT id, maker_order_id, taker_order_id, price_ticks, qty_lots FROM trades
     WHERE market = ${market} AND id = ANY(${sql.param(ids)}::bigint[])`,
  );
  return new Map(
    found.rows.map((r) => [
      r.id,
      {
        makerOrderId: r.maker_order_id,
        takerOrderId: r.taker_order_id,
        priceTicks: r.price_ticks,
        qtyLots: r.qty_lots,
      },
    ]),
  );
}

const FINISH_AS = ["filled", "cancelled", "ioc", "poc", "fok", "stp"] as const;

/** Checks one event's shape (types and ranges); INVALID_PARAM_VALUE names what is wrong. */
function parseEvent(raw: unknown): SettlementEvent {
  const e = requireObject(raw, "settlement event");
  const kind = requireOneOf(
    e.kind,
    ["trade", "order_accepted", "order_finished", "order_rejected", "noop"] as const,
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
  return retryTransaction(() =>
    db.transaction(async (tx): Promise<BatchResult> => {
      const found = await executePrepared<{
        last_seq: bigint;
        last_epoch: bigint;
        last_offset: bigint | null;
      }>(
        tx,
        sql`SELECT last_seq, last_epoch, last_offset FROM market_sequences WHERE market = ${market} FOR UPDATE`,
      );
      const row = found.rows[0];
      if (row === undefined) {
        throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${market}`);
      }
      const lastSeq = row.last_seq;
      if (epoch !== undefined && epoch < row.last_epoch) {
        return { ok: false, error: "STALE_EPOCH", lastEpoch: row.last_epoch, gotEpoch: epoch };
      }
      const nextEpoch = epoch !== undefined && epoch > row.last_epoch ? epoch : row.last_epoch;
      const fresh = parsed.filter((e) => e.seq > lastSeq);
      const empty = { orders: [], balances: [], trades: [] };
      if (fresh.length === 0) {
        // All replays: nothing to apply, but a newer owner or a later offset is still recorded.
        const nextOffset =
          offset !== undefined && (row.last_offset === null || offset > row.last_offset)
            ? offset
            : row.last_offset;
        if (nextEpoch !== row.last_epoch || nextOffset !== row.last_offset) {
          await tx.execute(sql`
            UPDATE market_sequences SET last_epoch = ${nextEpoch}, last_offset = ${nextOffset},
                                        updated_at = now()
             WHERE market = ${market}`);
        }
        return { ok: true, applied: 0, skipped: parsed.length, lastSeq, changes: empty };
      }
      for (const [i, event] of fresh.entries()) {
        const expectedSeq = lastSeq + 1n + BigInt(i);
        if (event.seq !== expectedSeq) {
          return { ok: false, error: "SEQUENCE_GAP", lastSeq, expectedSeq, gotSeq: event.seq };
        }
      }
      const spec = await loadMarket(tx, market);
      const { changes, deltas } = await applyEvents(tx, spec, fresh);
      const newLast = lastSeq + BigInt(fresh.length);
      // The sequence advance and its append-only record (which reconciliation checks against
      // each other: an edited sequence row would silently skip or replay events), then the
      // balances — in the batch's last statement.
      const balances = await finishBatch(
        tx,
        market,
        {
          firstSeq: lastSeq + 1n,
          lastSeq: newLast,
          epoch: nextEpoch,
          batchEpoch: epoch ?? null,
          offset: offset ?? row.last_offset,
          batchOffset: offset ?? null,
        },
        deltas,
      );
      return {
        ok: true,
        applied: fresh.length,
        skipped: parsed.length - fresh.length,
        lastSeq: newLast,
        changes: { ...changes, balances },
      };
    }),
  );
}

/** Settles one trade: a batch of one (see applySettlementBatch). */
export async function settleTrade(db: Database, trade: TradeSettlement): Promise<BatchResult> {
  const { market, ...event } = requireObject(trade, "trade") as TradeSettlement;
  return applySettlementBatch(db, market, [{ ...event, kind: "trade" }]);
}
