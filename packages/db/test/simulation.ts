// A random-operation driver with a simple reference model: it applies deposits, orders, trades,
// cancellations and withdrawals to the real ledger and to plain in-memory arithmetic, then
// compares the two. Used by the property test and by reconciliation's 10K-operation test.
import type { LockService } from "@spotx/platform/locks";
import { sql } from "drizzle-orm";
import type { Database } from "../src/client";
import { isLedgerError } from "../src/errors";
import { deposit } from "../src/ledger";
import type { MarketSpec } from "../src/markets";
import { placeOrderHold } from "../src/placement";
import { applySettlementBatch, type SettlementEvent } from "../src/settlement";
import { decideWithdrawal, requestWithdrawal } from "../src/withdrawals";

export type Asset = "base" | "quote";

export type Op =
  | { kind: "deposit"; user: number; asset: Asset; amount: bigint }
  | { kind: "limit"; user: number; side: "buy" | "sell"; priceTicks: bigint; lots: bigint }
  | { kind: "marketBuy"; user: number; spend: bigint }
  | { kind: "match"; pick: number; share: number }
  | { kind: "cancel"; pick: number }
  | { kind: "withdraw"; user: number; asset: Asset; amount: bigint }
  | { kind: "decide"; pick: number; approve: boolean };

type ModelOrder = {
  id: bigint;
  userId: bigint;
  side: "buy" | "sell";
  priceTicks: bigint;
  lots: bigint;
  filledLots: bigint;
  holdRemaining: bigint;
};

type ModelBalance = { available: bigint; locked: bigint };

/** ceil(amount × ppm / 10^6), written out plainly for the model. */
const modelFee = (amount: bigint, ppm: number) => {
  const product = amount * BigInt(ppm);
  return product / 1_000_000n + (product % 1_000_000n === 0n ? 0n : 1n);
};

export class LedgerSimulation {
  readonly balances = new Map<string, ModelBalance>();
  readonly fees = new Map<string, bigint>();
  readonly external = new Map<string, bigint>();
  private open: ModelOrder[] = [];
  private withdrawals: { id: bigint; userId: bigint; asset: string; amount: bigint }[] = [];
  private events: SettlementEvent[] = [];
  private seq = 0n;
  private tradeId = 0n;
  private refs = 0;
  operations = 0;

  constructor(
    private readonly db: Database,
    private readonly locks: LockService,
    private readonly market: MarketSpec,
    readonly users: bigint[],
    private readonly operatorId: bigint,
    private readonly tag: string,
  ) {}

  async start() {
    const found = await this.db.execute<{ last_seq: bigint }>(
      sql`SELECT last_seq FROM market_sequences WHERE market = ${this.market.symbol}`,
    );
    this.seq = found.rows[0]?.last_seq ?? 0n;
    const trades = await this.db.execute<{ max: bigint | null }>(
      sql`SELECT max(id) AS max FROM trades WHERE market = ${this.market.symbol}`,
    );
    this.tradeId = trades.rows[0]?.max ?? 0n;
  }

  private symbol(asset: Asset) {
    return asset === "base" ? this.market.base : this.market.quote;
  }

  private model(userId: bigint, asset: string): ModelBalance {
    const key = `${userId}:${asset}`;
    let balance = this.balances.get(key);
    if (!balance) {
      balance = { available: 0n, locked: 0n };
      this.balances.set(key, balance);
    }
    return balance;
  }

  private user(index: number): bigint {
    const id = this.users[index % this.users.length];
    if (id === undefined) throw new Error("no users");
    return id;
  }

  private ref() {
    this.refs += 1;
    return `${this.tag}:${this.refs}`;
  }

  private expectRefusal(error: unknown, label: string) {
    if (!isLedgerError(error, label as never)) throw error;
  }

  async apply(op: Op): Promise<void> {
    this.operations += 1;
    if (op.kind === "match" || op.kind === "cancel") return this.settlementOp(op);
    await this.flush();
    switch (op.kind) {
      case "deposit": {
        const asset = this.symbol(op.asset);
        const userId = this.user(op.user);
        await deposit(this.db, { userId, asset, amount: op.amount, ref: this.ref() });
        this.model(userId, asset).available += op.amount;
        this.external.set(asset, (this.external.get(asset) ?? 0n) - op.amount);
        return;
      }
      case "limit":
        return this.placeLimit(op);
      case "marketBuy":
        return this.marketBuy(op);
      case "withdraw": {
        const asset = this.symbol(op.asset);
        const userId = this.user(op.user);
        const balance = this.model(userId, asset);
        try {
          const { withdrawal } = await requestWithdrawal(this.db, {
            userId,
            asset,
            amount: op.amount,
            address: "sim",
            ref: this.ref(),
          });
          if (balance.available < op.amount) throw new Error("model expected BALANCE_NOT_ENOUGH");
          balance.available -= op.amount;
          balance.locked += op.amount;
          this.withdrawals.push({ id: withdrawal.id, userId, asset, amount: op.amount });
        } catch (error) {
          if (balance.available >= op.amount) throw error;
          this.expectRefusal(error, "BALANCE_NOT_ENOUGH");
        }
        return;
      }
      case "decide": {
        if (this.withdrawals.length === 0) return;
        const [w] = this.withdrawals.splice(op.pick % this.withdrawals.length, 1);
        if (!w) return;
        await decideWithdrawal(
          this.db,
          this.locks,
          op.approve
            ? { withdrawalId: w.id, operatorId: this.operatorId, decision: "approve" }
            : {
                withdrawalId: w.id,
                operatorId: this.operatorId,
                decision: "reject",
                reason: "sim",
              },
        );
        const balance = this.model(w.userId, w.asset);
        balance.locked -= w.amount;
        if (op.approve) this.external.set(w.asset, (this.external.get(w.asset) ?? 0n) + w.amount);
        else balance.available += w.amount;
        return;
      }
    }
  }

  private async placeLimit(op: Extract<Op, { kind: "limit" }>) {
    const userId = this.user(op.user);
    const { market } = this;
    const holdAsset = op.side === "buy" ? market.quote : market.base;
    const hold =
      op.side === "buy"
        ? op.priceTicks * op.lots * market.quoteMinorPerTickLot
        : op.lots * market.baseMinorPerLot;
    const balance = this.model(userId, holdAsset);
    try {
      const { order } = await placeOrderHold(this.db, {
        userId,
        market: market.symbol,
        side: op.side,
        type: "limit",
        priceTicks: op.priceTicks,
        amount: op.lots,
      });
      if (balance.available < hold) throw new Error("model expected BALANCE_NOT_ENOUGH");
      balance.available -= hold;
      balance.locked += hold;
      this.open.push({
        id: order.id,
        userId,
        side: op.side,
        priceTicks: op.priceTicks,
        lots: op.lots,
        filledLots: 0n,
        holdRemaining: hold,
      });
    } catch (error) {
      if (balance.available >= hold) throw error;
      this.expectRefusal(error, "BALANCE_NOT_ENOUGH");
    }
  }

  /** A market buy: placed, filled against the cheapest resting sells it can afford, ended. */
  private async marketBuy(op: Extract<Op, { kind: "marketBuy" }>) {
    const userId = this.user(op.user);
    const { market } = this;
    const balance = this.model(userId, market.quote);
    let orderId: bigint;
    try {
      const { order } = await placeOrderHold(this.db, {
        userId,
        market: market.symbol,
        side: "buy",
        type: "market",
        amount: op.spend,
      });
      if (balance.available < op.spend) throw new Error("model expected BALANCE_NOT_ENOUGH");
      orderId = order.id;
    } catch (error) {
      if (balance.available >= op.spend) throw error;
      this.expectRefusal(error, "BALANCE_NOT_ENOUGH");
      return;
    }
    balance.available -= op.spend;
    balance.locked += op.spend;
    const taker: ModelOrder = {
      id: orderId,
      userId,
      side: "buy",
      priceTicks: 0n,
      lots: 0n,
      filledLots: 0n,
      holdRemaining: op.spend,
    };
    const sells = this.open
      .filter((o) => o.side === "sell")
      .sort((a, b) => (a.priceTicks < b.priceTicks ? -1 : a.priceTicks > b.priceTicks ? 1 : 0));
    for (const maker of sells) {
      const perLot = maker.priceTicks * market.quoteMinorPerTickLot;
      const affordable = taker.holdRemaining / perLot;
      const lots =
        affordable < maker.lots - maker.filledLots ? affordable : maker.lots - maker.filledLots;
      if (lots <= 0n) break;
      this.trade(maker, taker, lots, false);
    }
    // A market buy that spent exactly everything was closed as filled by the ledger itself.
    if (taker.holdRemaining > 0n) {
      this.release(taker);
      this.events.push({ kind: "order_finished", seq: this.nextSeq(), orderId, finishAs: "ioc" });
    }
    await this.flush();
  }

  private nextSeq() {
    this.seq += 1n;
    return this.seq;
  }

  private release(order: ModelOrder) {
    const asset = order.side === "buy" ? this.market.quote : this.market.base;
    const balance = this.model(order.userId, asset);
    balance.locked -= order.holdRemaining;
    balance.available += order.holdRemaining;
    order.holdRemaining = 0n;
  }

  /** Books a trade in the model and queues its event; the maker's price is the trade price. */
  private trade(maker: ModelOrder, taker: ModelOrder, lots: bigint, takerIsLimit = true) {
    const { market } = this;
    const buy = maker.side === "buy" ? maker : taker;
    const sell = maker.side === "buy" ? taker : maker;
    const base = lots * market.baseMinorPerLot;
    const quote = maker.priceTicks * lots * market.quoteMinorPerTickLot;
    const buyerFee = modelFee(base, buy === taker ? market.takerFeePpm : market.makerFeePpm);
    const sellerFee = modelFee(quote, sell === taker ? market.takerFeePpm : market.makerFeePpm);
    this.model(buy.userId, market.quote).locked -= quote;
    this.model(buy.userId, market.base).available += base - buyerFee;
    this.model(sell.userId, market.base).locked -= base;
    this.model(sell.userId, market.quote).available += quote - sellerFee;
    this.fees.set(market.base, (this.fees.get(market.base) ?? 0n) + buyerFee);
    this.fees.set(market.quote, (this.fees.get(market.quote) ?? 0n) + sellerFee);
    buy.holdRemaining -= quote;
    sell.holdRemaining -= base;
    maker.filledLots += lots;
    taker.filledLots += lots;
    this.tradeId += 1n;
    this.events.push({
      kind: "trade",
      seq: this.nextSeq(),
      tradeId: this.tradeId,
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerUserId: maker.userId,
      takerUserId: taker.userId,
      takerSide: taker.side,
      priceTicks: maker.priceTicks,
      qtyLots: lots,
      quoteAmount: quote,
      time: new Date(),
    });
    for (const order of takerIsLimit ? [maker, taker] : [maker]) {
      if (order.filledLots === order.lots) {
        this.release(order); // the ledger closes a filled order and releases its surplus
        this.open = this.open.filter((o) => o !== order);
      }
    }
  }

  private async settlementOp(op: Extract<Op, { kind: "match" | "cancel" }>) {
    if (op.kind === "cancel") {
      if (this.open.length === 0) return;
      const [order] = this.open.splice(op.pick % this.open.length, 1);
      if (!order) return;
      this.release(order);
      this.events.push({
        kind: "order_finished",
        seq: this.nextSeq(),
        orderId: order.id,
        finishAs: "cancelled",
      });
      return;
    }
    const buys = this.open.filter((o) => o.side === "buy");
    const sells = this.open.filter((o) => o.side === "sell");
    const pairs: [ModelOrder, ModelOrder][] = [];
    for (const b of buys)
      for (const s of sells) if (b.priceTicks >= s.priceTicks) pairs.push([b, s]);
    const pair = pairs[op.pick % Math.max(1, pairs.length)];
    if (!pair) return;
    const [buy, sell] = pair;
    const [maker, taker] = buy.id < sell.id ? [buy, sell] : [sell, buy];
    const left = (o: ModelOrder) => o.lots - o.filledLots;
    const most = left(buy) < left(sell) ? left(buy) : left(sell);
    const lots = BigInt(Math.max(1, Math.ceil(Number(most) * op.share)));
    this.trade(maker, taker, lots > most ? most : lots);
  }

  /** Applies the queued settlement events as one batch. */
  async flush(): Promise<void> {
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    const result = await applySettlementBatch(this.db, this.market.symbol, events);
    if (!result.ok || result.applied !== events.length) {
      throw new Error(`settlement batch not applied: ${JSON.stringify(result, String)}`);
    }
  }

  /** Compares every simulated user's balances with the model; returns the differences. */
  async differences(): Promise<string[]> {
    await this.flush();
    const rows = await this.db.execute<{
      user_id: bigint;
      asset: string;
      available: bigint;
      locked: bigint;
    }>(sql`
      SELECT user_id, asset, available, locked FROM balances
       WHERE user_id = ANY(${sql.param(this.users)}::bigint[])`);
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const row of rows.rows) {
      const key = `${row.user_id}:${row.asset}`;
      seen.add(key);
      const model = this.balances.get(key) ?? { available: 0n, locked: 0n };
      if (model.available !== row.available || model.locked !== row.locked) {
        problems.push(
          `${key}: database ${row.available}/${row.locked}, model ${model.available}/${model.locked}`,
        );
      }
    }
    for (const [key, model] of this.balances) {
      if (!seen.has(key) && (model.available !== 0n || model.locked !== 0n)) {
        problems.push(`${key}: missing in database, model ${model.available}/${model.locked}`);
      }
    }
    return problems;
  }
}

/** A small deterministic PRNG (mulberry32), so a failing 10K run can be replayed. */
export function randomSource(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    big: (low: bigint, high: bigint) => low + BigInt(Math.floor(next() * Number(high - low + 1n))),
  };
}
