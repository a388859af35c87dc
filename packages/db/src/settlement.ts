// Settlement: applies the matching engine's events for one market to PostgreSQL — trades
// become balanced transfers between buyer, seller and the fee accounts, orders get their
// fills, holds and statuses. A batch is one transaction, applied only past the market's last
// applied sequence number, so redelivered events are no-ops and a gap is reported.
//
// The batch is computed in memory first (with assertions at every step) and then written with
// a handful of set-based statements, whatever its size: that is what makes it fast.
import { sql } from "drizzle-orm";
import type { Database, Transaction } from "./client";
import { invariant, LedgerError } from "./errors";
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
import { feeFor, lotsToBaseMinor, quoteMinorFor } from "./units";

export type Side = "buy" | "sell";
export type OrderStatus = "pending" | "open" | "closed" | "cancelled" | "rejected";
export type FinishAs = "open" | "filled" | "cancelled" | "ioc" | "poc" | "fok" | "stp" | "rejected";

export type TradeEvent = {
  kind: "trade";
  /** The engine's per-market sequence number of this event. */
  seq: bigint;
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
  /** The order left the book: its unused hold is released. `filled` closes it, the rest cancel it. */
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
  | { ok: false; error: "SEQUENCE_GAP"; lastSeq: bigint; expectedSeq: bigint; gotSeq: bigint };

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

/** The in-memory effect of a batch of events, built with assertions before anything is written. */
class SettlementPlan {
  readonly transfers: PendingTransfer[] = [];
  readonly trades: SettledTrade[] = [];
  readonly deltas = new Map<string, Delta>();

  constructor(
    private readonly market: MarketSpec,
    private readonly orders: Map<bigint, OrderState>,
  ) {}

  private order(id: bigint): OrderState {
    const order = this.orders.get(id);
    if (!order) throw new LedgerError("ORDER_NOT_FOUND", `order ${id} does not exist`);
    invariant(
      order.market === this.market.symbol,
      () => `order ${id} is not in ${this.market.symbol}`,
    );
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
        const order = this.order(event.orderId);
        if (order.status === "pending") {
          order.status = "open";
          order.changed = true;
        }
        return;
      }
      case "order_finished":
        return this.finish(
          this.order(event.orderId),
          event.finishAs,
          event.status ?? (event.finishAs === "filled" ? "closed" : "cancelled"),
          null,
        );
      case "order_rejected":
        return this.finish(this.order(event.orderId), "rejected", "rejected", event.reason);
      case "noop":
        return;
    }
  }

  /** Ends an order (once) and releases what it still holds. Ending an ended order is a no-op. */
  finish(order: OrderState, finishAs: FinishAs, status: OrderStatus, reason: string | null) {
    if (ended(order.status)) return;
    invariant(
      ended(status) && finishAs !== "open",
      () => `finishing order ${order.id} as ${status}`,
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

  private trade(event: TradeEvent) {
    const market = this.market;
    const maker = this.order(event.makerOrderId);
    const taker = this.order(event.takerOrderId);
    const tradeRef = `${market.symbol} trade ${event.tradeId}`;
    invariant(maker.id !== taker.id, () => `${tradeRef} matches order ${maker.id} with itself`);
    invariant(maker.userId === event.makerUserId, () => `${tradeRef}: maker user mismatch`);
    invariant(taker.userId === event.takerUserId, () => `${tradeRef}: taker user mismatch`);
    invariant(taker.side === event.takerSide, () => `${tradeRef}: taker side mismatch`);
    invariant(maker.side !== taker.side, () => `${tradeRef}: both orders ${maker.side}`);
    invariant(
      !ended(maker.status),
      () => `${tradeRef}: maker order ${maker.id} already ${maker.status}`,
    );
    invariant(
      !ended(taker.status),
      () => `${tradeRef}: taker order ${taker.id} already ${taker.status}`,
    );
    invariant(event.priceTicks > 0n && event.qtyLots > 0n, () => `${tradeRef}: empty trade`);

    const buy = taker.side === "buy" ? taker : maker;
    const sell = taker.side === "buy" ? maker : taker;
    if (buy.type === "limit") {
      invariant(event.priceTicks <= (buy.priceTicks ?? 0n), () => `${tradeRef}: above buy limit`);
    }
    if (sell.type === "limit") {
      invariant(event.priceTicks >= (sell.priceTicks ?? 0n), () => `${tradeRef}: below sell limit`);
    }
    const quote = quoteMinorFor(event.priceTicks, event.qtyLots, market);
    invariant(
      quote === event.quoteAmount,
      () => `${tradeRef}: quote amount ${event.quoteAmount}, expected ${quote}`,
    );
    const base = lotsToBaseMinor(event.qtyLots, market);

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
      invariant(
        order.holdRemaining >= 0n,
        () => `${tradeRef}: order ${order.id} spends ${spent} beyond its hold`,
      );
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
      invariant(
        byQuote ? order.filledQuote <= order.amount : order.filledBaseLots <= order.amount,
        () => `${tradeRef}: order ${order.id} overfilled`,
      );
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
  }>(sql`
    SELECT id, user_id, market, side, type, price_ticks, amount, filled_base_lots, filled_quote,
           fee, fee_asset, hold_asset, hold_remaining, status, finish_as, reject_reason
      FROM orders WHERE id = ANY(${sql.param(ids)}::bigint[])
     ORDER BY id
       FOR UPDATE`);
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

type LockedBalance = {
  account_id: bigint;
  user_id: bigint;
  asset: string;
  available: bigint;
  locked: bigint;
};

/** Locks the balance rows of the given (user, asset) pairs in account order, creating missing ones. */
async function lockBalances(tx: Transaction, pairs: Delta[]): Promise<Map<string, LockedBalance>> {
  const query = () =>
    tx.execute<LockedBalance>(sql`
      SELECT b.account_id, b.user_id, b.asset, b.available, b.locked
        FROM balances b
        JOIN unnest(${sql.param(pairs.map((p) => p.userId))}::bigint[],
                    ${sql.param(pairs.map((p) => p.asset))}::text[]) AS p(user_id, asset)
          ON b.user_id = p.user_id AND b.asset = p.asset
       ORDER BY b.account_id
         FOR UPDATE OF b`);
  let rows = (await query()).rows;
  if (rows.length < pairs.length) {
    await userAccountIds(tx, pairs);
    rows = (await query()).rows;
  }
  invariant(rows.length === pairs.length, "balance rows missing after creating accounts");
  return new Map(rows.map((r) => [accountKey(r.user_id, r.asset), r]));
}

/** Applies events (already sequenced by the caller) inside `tx`; returns what changed. */
async function applyEvents(
  tx: Transaction,
  market: MarketSpec,
  events: readonly SettlementEvent[],
): Promise<SettlementChanges> {
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
  const plan = new SettlementPlan(market, orders);
  for (const event of events) plan.apply(event);

  const changedOrders = [...orders.values()].filter((o) => o.changed);
  const deltas = [...plan.deltas.values()];
  let balances: Balance[] = [];

  if (deltas.length > 0) {
    const locked = await lockBalances(tx, deltas);
    const accountIds: bigint[] = [];
    const available: bigint[] = [];
    const lockedAmounts: bigint[] = [];
    for (const delta of deltas) {
      const row = locked.get(accountKey(delta.userId, delta.asset));
      invariant(row, "locked balance row missing");
      const nextAvailable = row.available + delta.available;
      const nextLocked = row.locked + delta.locked;
      invariant(
        nextAvailable >= 0n && nextLocked >= 0n,
        () =>
          `settlement would make user ${delta.userId}'s ${delta.asset} negative ` +
          `(available ${row.available}${delta.available >= 0n ? "+" : ""}${delta.available}, ` +
          `locked ${row.locked}${delta.locked >= 0n ? "+" : ""}${delta.locked})`,
      );
      accountIds.push(row.account_id);
      available.push(nextAvailable);
      lockedAmounts.push(nextLocked);
    }

    const fees = await tx.execute<{ id: bigint; asset: string }>(sql`
      SELECT id, asset FROM accounts
       WHERE kind = 'fees' AND user_id IS NULL AND asset IN (${market.base}, ${market.quote})`);
    const feeAccount = new Map(fees.rows.map((r) => [r.asset, r.id]));
    const accountOf = (owner: Owner, asset: string): bigint => {
      const id =
        "userId" in owner
          ? locked.get(accountKey(owner.userId, asset))?.account_id
          : feeAccount.get(asset);
      invariant(id !== undefined, () => `no account for ${JSON.stringify(owner, String)} ${asset}`);
      return id;
    };

    const entryRefs: string[] = [];
    const entryIdx: number[] = [];
    const entryAccounts: bigint[] = [];
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
    const written = await tx.execute<{ transfers: bigint; entries: bigint; trades: bigint }>(sql`
      WITH t AS (
        INSERT INTO transfers (kind, ref)
        SELECT * FROM unnest(${sql.param(plan.transfers.map((t) => t.kind))}::transfer_kind[],
                             ${sql.param(plan.transfers.map((t) => t.ref))}::text[])
        RETURNING id, ref
      ), e AS (
        INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
        SELECT t.id, x.idx, x.account_id, x.asset, x.bucket, x.amount
          FROM unnest(${sql.param(entryRefs)}::text[], ${sql.param(entryIdx)}::smallint[],
                      ${sql.param(entryAccounts)}::bigint[], ${sql.param(entryAssets)}::text[],
                      ${sql.param(entryBuckets)}::ledger_bucket[], ${sql.param(entryAmounts)}::bigint[])
               AS x(ref, idx, account_id, asset, bucket, amount)
          JOIN t ON t.ref = x.ref
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
      )
      SELECT (SELECT count(*) FROM t) AS transfers, (SELECT count(*) FROM e) AS entries,
             (SELECT count(*) FROM tr) AS trades`);
    const counts = written.rows[0];
    invariant(
      counts &&
        Number(counts.transfers) === plan.transfers.length &&
        Number(counts.entries) === entryRefs.length &&
        Number(counts.trades) === trades.length,
      () =>
        `settlement wrote ${JSON.stringify(counts, String)}, planned ${plan.transfers.length}/${entryRefs.length}/${trades.length}`,
    );

    const updated = await tx.execute<{
      user_id: bigint;
      asset: string;
      available: bigint;
      locked: bigint;
      update_id: bigint;
    }>(sql`
      UPDATE balances b
         SET available = x.available, locked = x.locked,
             update_id = b.update_id + 1, updated_at = now()
        FROM unnest(${sql.param(accountIds)}::bigint[], ${sql.param(available)}::bigint[],
                    ${sql.param(lockedAmounts)}::bigint[]) AS x(account_id, available, locked)
       WHERE b.account_id = x.account_id
      RETURNING b.user_id, b.asset, b.available, b.locked, b.update_id`);
    invariant(updated.rows.length === accountIds.length, "not every balance was updated");
    balances = updated.rows.map((r) => ({
      userId: r.user_id,
      asset: r.asset,
      available: r.available,
      locked: r.locked,
      updateId: r.update_id,
    }));
  } else {
    invariant(plan.transfers.length === 0, "transfers without balance changes");
  }

  if (changedOrders.length > 0) {
    const o = changedOrders;
    await tx.execute(sql`
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
       WHERE o.id = x.id`);
  }

  return {
    orders: changedOrders.map(toChange),
    balances,
    trades: plan.trades,
  };
}

/**
 * Applies a market's events in one transaction. Events at or below the market's last applied
 * sequence are skipped (redelivery); the rest must continue it without a hole, else nothing is
 * applied and the gap is returned as an error value for the caller to alarm on.
 */
export async function applySettlementBatch(
  db: Database,
  market: string,
  events: readonly SettlementEvent[],
): Promise<BatchResult> {
  for (let i = 1; i < events.length; i++) {
    const previous = events[i - 1];
    const current = events[i];
    invariant(
      previous && current && current.seq > previous.seq,
      () => `settlement batch for ${market} is not in strictly increasing sequence order`,
    );
  }
  return retryTransaction(() =>
    db.transaction(async (tx): Promise<BatchResult> => {
      const found = await tx.execute<{ last_seq: bigint }>(
        sql`SELECT last_seq FROM market_sequences WHERE market = ${market} FOR UPDATE`,
      );
      const lastSeq = found.rows[0]?.last_seq;
      if (lastSeq === undefined) {
        throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${market}`);
      }
      const fresh = events.filter((e) => e.seq > lastSeq);
      const empty = { orders: [], balances: [], trades: [] };
      if (fresh.length === 0) {
        return { ok: true, applied: 0, skipped: events.length, lastSeq, changes: empty };
      }
      for (const [i, event] of fresh.entries()) {
        const expectedSeq = lastSeq + 1n + BigInt(i);
        if (event.seq !== expectedSeq) {
          return { ok: false, error: "SEQUENCE_GAP", lastSeq, expectedSeq, gotSeq: event.seq };
        }
      }
      const spec = await loadMarket(tx, market);
      const changes = await applyEvents(tx, spec, fresh);
      const newLast = lastSeq + BigInt(fresh.length);
      await tx.execute(
        sql`UPDATE market_sequences SET last_seq = ${newLast}, updated_at = now() WHERE market = ${market}`,
      );
      return {
        ok: true,
        applied: fresh.length,
        skipped: events.length - fresh.length,
        lastSeq: newLast,
        changes,
      };
    }),
  );
}

/** Settles one trade: a batch of one (see applySettlementBatch). */
export async function settleTrade(db: Database, trade: TradeSettlement): Promise<BatchResult> {
  const { market, ...event } = trade;
  return applySettlementBatch(db, market, [{ kind: "trade", ...event }]);
}

/**
 * Ends an order outside the engine's sequence (e.g. an order the engine never saw) and releases
 * its remaining hold. Ending an order that already ended changes nothing.
 */
export async function finishOrder(
  db: Database,
  input:
    | { orderId: bigint; finishAs: Exclude<FinishAs, "open" | "rejected"> }
    | { orderId: bigint; finishAs: "rejected"; reason: string },
): Promise<OrderChange> {
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      const found = await tx.execute<{ market: string }>(
        sql`SELECT market FROM orders WHERE id = ${input.orderId}`,
      );
      const market = found.rows[0]?.market;
      if (market === undefined) {
        throw new LedgerError("ORDER_NOT_FOUND", `order ${input.orderId} does not exist`);
      }
      const spec = await loadMarket(tx, market);
      const event: SettlementEvent =
        input.finishAs === "rejected"
          ? { kind: "order_rejected", seq: 0n, orderId: input.orderId, reason: input.reason }
          : { kind: "order_finished", seq: 0n, orderId: input.orderId, finishAs: input.finishAs };
      const changes = await applyEvents(tx, spec, [event]);
      const change = changes.orders[0];
      if (change) return change;
      // Already ended: report it as it stands.
      const orders = await lockOrders(tx, [input.orderId]);
      const order = orders.get(input.orderId);
      invariant(order, `order ${input.orderId} vanished`);
      return toChange(order);
    }),
  );
}
