// One market's public data, folded from the engine's event messages: the L2 book, the last
// 100 trades, the 24 h ticker and the live candles — and, per batch, what to publish. Pure:
// no I/O, no clock (the caller passes `now`), integers inside (ticks, lots, minor units),
// decimal strings only in what it returns. The shell (market-data.ts) feeds it and publishes.
import { CANDLE_INTERVALS, type CandleInterval, candleStart } from "@spotx/db";
import {
  type BookDelta,
  type BookLevel,
  type BookSnapshot,
  baseText,
  type CandleMessage,
  changePercentText,
  type EventMessage,
  lotsText,
  type MarketPrecision,
  type MarketStatusMessage,
  priceText,
  quoteText,
  type TickerMessage,
  type TradeMessage,
} from "@spotx/protocol";

export const RECENT_TRADES = 100;
/** Levels per side in a snapshot (gate.io's deepest public book); deltas cover every level. */
export const SNAPSHOT_DEPTH = 400;
const MINUTE = 60_000;
const DAY_MINUTES = 1_440;

export type FeedMarket = MarketPrecision & { baseMinorPerLot: bigint };

export type Side = "buy" | "sell";

/** A public trade as kept: engine integers. */
export type RecentTrade = {
  id: number;
  time: number;
  takerSide: Side;
  price: number;
  lots: number;
};

/** A candle as kept (and as read from PostgreSQL's `candles`): prices in ticks. */
export type Candle = {
  interval: CandleInterval;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base minor units. */
  base: bigint;
  /** Quote minor units. */
  quote: bigint;
  trades: number;
  lastSeq: number;
};

/** Everything settlement had applied at one sequence number, read in one transaction. */
export type FeedBootstrap = {
  seq: number;
  epoch: bigint;
  /** Resting lots per price level. */
  levels: ReadonlyArray<{ side: Side; price: number; lots: number }>;
  /** The most recent trades, oldest first. */
  trades: readonly RecentTrade[];
  /** The latest candles of each interval (any order). */
  candles: readonly Candle[];
  /** The 1-minute candles of the last 24 hours (any order): the ticker's window. */
  minutes: readonly Candle[];
};

export type ApplyOutcome = "applied" | "replayed" | "stale-epoch" | "gap" | "stopped";

/** What one batch changed, ready for the wire. */
export type Publication = {
  market: string;
  delta: BookDelta | null;
  trades: TradeMessage[];
  ticker: TickerMessage | null;
  candles: CandleMessage[];
  statuses: MarketStatusMessage[];
};

type Minute = {
  start: number;
  open: number;
  high: number;
  low: number;
  base: bigint;
  quote: bigint;
};

function byPriceDescending(a: number, b: number) {
  return b - a;
}

export class MarketFeed {
  readonly market: FeedMarket;
  private lastSeq: number;
  private epoch: bigint;
  private gapAt: { expected: number; got: number } | null = null;
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private readonly recent: RecentTrade[];
  private lastPrice: number;
  private halted = false;
  /** Per interval: the latest two candles, oldest first (a late trade may land in the previous). */
  private readonly candles = new Map<CandleInterval, Candle[]>();
  /** 1-minute buckets in start order, for the rolling 24 h ticker. */
  private readonly minutes: Minute[] = [];

  // What changed since the last flush.
  private deltaFrom: number;
  private readonly changedBids = new Map<number, number>();
  private readonly changedAsks = new Map<number, number>();
  private readonly newTrades: RecentTrade[] = [];
  private readonly changedCandles = new Map<string, Candle>();
  private readonly statuses: MarketStatusMessage[] = [];
  private lastCommandTime = 0;
  private publishedTicker = "";
  /** The book or the trades moved since the ticker was last flushed. */
  private tickerMoved = false;

  constructor(market: FeedMarket, bootstrap: FeedBootstrap) {
    this.market = market;
    this.lastSeq = bootstrap.seq;
    this.deltaFrom = bootstrap.seq;
    this.epoch = bootstrap.epoch;
    for (const level of bootstrap.levels) {
      if (level.lots > 0)
        (level.side === "buy" ? this.bids : this.asks).set(level.price, level.lots);
    }
    this.recent = bootstrap.trades.slice(-RECENT_TRADES);
    this.lastPrice = this.recent[this.recent.length - 1]?.price ?? 0;
    for (const candle of [...bootstrap.candles].sort((a, b) => a.start - b.start)) {
      const list = this.candles.get(candle.interval) ?? [];
      list.push({ ...candle });
      this.candles.set(candle.interval, list.slice(-2));
    }
    for (const minute of [...bootstrap.minutes].sort((a, b) => a.start - b.start)) {
      this.minutes.push({
        start: minute.start,
        open: minute.open,
        high: minute.high,
        low: minute.low,
        base: minute.base,
        quote: minute.quote,
      });
    }
  }

  get symbol(): string {
    return this.market.symbol;
  }

  /** The last engine sequence number folded in. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Set once a message skipped sequence numbers: the feed stops rather than show a wrong book. */
  get gap(): { expected: number; got: number } | null {
    return this.gapAt;
  }

  /**
   * Folds one events-topic message. Events at or below the last sequence are replays (a
   * restarted engine owner, a redelivery) and change nothing; a message from an older owner
   * epoch is a zombie's and is dropped; a hole in the sequence stops the feed.
   */
  apply(message: EventMessage): ApplyOutcome {
    if (message.market !== this.market.symbol) {
      throw new Error(`${message.market} message fed to the ${this.market.symbol} feed`);
    }
    if (this.gapAt) return "stopped";
    const epoch = BigInt(message.epoch);
    if (epoch < this.epoch) return "stale-epoch";
    this.epoch = epoch;
    const fresh = message.events.filter((event) => event.seq > this.lastSeq);
    const first = fresh[0];
    if (!first) return "replayed";
    if (first.seq !== this.lastSeq + 1) {
      this.gapAt = { expected: this.lastSeq + 1, got: first.seq };
      return "gap";
    }
    for (const event of fresh) {
      switch (event.type) {
        case "level":
          this.setLevel(event.side, event.price, event.quantity);
          break;
        case "trade":
          this.trade(
            {
              id: event.seq,
              time: event.time,
              takerSide: event.takerSide,
              price: event.price,
              lots: event.quantity,
            },
            BigInt(event.quoteAmount),
          );
          break;
        case "halted":
        case "resumed":
          this.halted = event.type === "halted";
          this.statuses.push({
            market: this.market.symbol,
            halted: this.halted,
            reason: null,
            source: "engine",
            time: event.time,
          });
          break;
        case "delisted":
          // Closed for good: the book's levels went to zero with the cancels before this event.
          this.halted = true;
          this.statuses.push({
            market: this.market.symbol,
            halted: true,
            reason: "delisted",
            source: "engine",
            time: event.time,
            closed: true,
          });
          break;
        default:
          break;
      }
      this.lastSeq = event.seq;
    }
    this.lastCommandTime = Math.max(this.lastCommandTime, message.time);
    return "applied";
  }

  private setLevel(side: Side, price: number, lots: number) {
    const book = side === "buy" ? this.bids : this.asks;
    if (lots > 0) book.set(price, lots);
    else book.delete(price);
    (side === "buy" ? this.changedBids : this.changedAsks).set(price, lots);
  }

  /** `quote`: the engine's exact price × lots in quote minor units. */
  private trade(trade: RecentTrade, quote: bigint) {
    this.lastPrice = trade.price;
    this.recent.push(trade);
    if (this.recent.length > RECENT_TRADES) this.recent.shift();
    this.newTrades.push(trade);
    const base = BigInt(trade.lots) * this.market.baseMinorPerLot;
    for (const interval of CANDLE_INTERVALS) this.foldCandle(interval, trade, base, quote);
    this.foldMinute(trade, base, quote);
  }

  private foldCandle(interval: CandleInterval, trade: RecentTrade, base: bigint, quote: bigint) {
    const start = candleStart(interval, new Date(trade.time)).getTime();
    const list = this.candles.get(interval) ?? [];
    let candle = list.find((c) => c.start === start);
    if (!candle) {
      const latest = list[list.length - 1];
      // Older than the candles kept: PostgreSQL has it; the live view moves on.
      if (latest && start < latest.start) return;
      candle = {
        interval,
        start,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        base: 0n,
        quote: 0n,
        trades: 0,
        lastSeq: trade.id,
      };
      list.push(candle);
      if (list.length > 2) list.shift();
      this.candles.set(interval, list);
      // The previous candle's window has closed: say so once.
      if (latest) this.changedCandles.set(`${interval}:${latest.start}`, latest);
    }
    candle.high = Math.max(candle.high, trade.price);
    candle.low = Math.min(candle.low, trade.price);
    if (trade.id >= candle.lastSeq) {
      candle.close = trade.price;
      candle.lastSeq = trade.id;
    }
    candle.base += base;
    candle.quote += quote;
    candle.trades += 1;
    this.changedCandles.set(`${interval}:${start}`, candle);
  }

  private foldMinute(trade: RecentTrade, base: bigint, quote: bigint) {
    const start = Math.floor(trade.time / MINUTE) * MINUTE;
    let index = this.minutes.length - 1;
    while (index >= 0 && (this.minutes[index]?.start ?? 0) > start) index -= 1;
    let minute = this.minutes[index];
    if (!minute || minute.start !== start) {
      minute = {
        start,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        base: 0n,
        quote: 0n,
      };
      this.minutes.splice(index + 1, 0, minute);
    }
    minute.high = Math.max(minute.high, trade.price);
    minute.low = Math.min(minute.low, trade.price);
    minute.base += base;
    minute.quote += quote;
  }

  /** Best bid and ask in ticks, 0 for an empty side. */
  best(): { bid: number; ask: number } {
    let bid = 0;
    for (const price of this.bids.keys()) if (price > bid) bid = price;
    let ask = 0;
    for (const price of this.asks.keys()) if (ask === 0 || price < ask) ask = price;
    return { bid, ask };
  }

  /** The whole book, best first (for tests and comparisons; the wire gets `snapshot`). */
  levels(): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return {
      bids: [...this.bids].sort((a, b) => byPriceDescending(a[0], b[0])),
      asks: [...this.asks].sort((a, b) => a[0] - b[0]),
    };
  }

  snapshot(now: number, depth = SNAPSHOT_DEPTH): BookSnapshot {
    const { bids, asks } = this.levels();
    return {
      market: this.market.symbol,
      seq: this.lastSeq,
      time: now,
      bids: bids.slice(0, depth).map(([p, q]) => this.level(p, q)),
      asks: asks.slice(0, depth).map(([p, q]) => this.level(p, q)),
    };
  }

  private level(price: number, lots: number): BookLevel {
    return [priceText(price, this.market), lotsText(lots, this.market)];
  }

  recentTrades(): TradeMessage[] {
    return this.recent.map((t) => this.tradeMessage(t));
  }

  private tradeMessage(trade: RecentTrade): TradeMessage {
    return {
      id: trade.id,
      create_time: Math.floor(trade.time / 1000),
      create_time_ms: String(trade.time),
      side: trade.takerSide,
      currency_pair: this.market.symbol,
      amount: lotsText(trade.lots, this.market),
      price: priceText(trade.price, this.market),
    };
  }

  /**
   * The 24 h ticker at `now`, from the 1-minute buckets of the last 1,440 minutes (the current
   * one included): volumes are sums, high/low the extremes, the change is from the window's
   * first open to the last price. Buckets that left the window are dropped.
   */
  ticker(now: number): TickerMessage {
    const windowStart = Math.floor(now / MINUTE) * MINUTE - (DAY_MINUTES - 1) * MINUTE;
    while ((this.minutes[0]?.start ?? windowStart) < windowStart) this.minutes.shift();
    const m = this.market;
    const { bid, ask } = this.best();
    const first = this.minutes[0];
    let high = 0;
    let low = 0;
    let base = 0n;
    let quote = 0n;
    for (const minute of this.minutes) {
      if (minute.start > now) continue;
      high = Math.max(high, minute.high);
      low = low === 0 ? minute.low : Math.min(low, minute.low);
      base += minute.base;
      quote += minute.quote;
    }
    const last = this.lastPrice;
    const known = (ticks: number) => (ticks > 0 ? priceText(ticks, m) : "");
    return {
      currency_pair: m.symbol,
      last: known(last),
      lowest_ask: known(ask),
      highest_bid: known(bid),
      change_percentage:
        first && last > 0 ? changePercentText(BigInt(first.open), BigInt(last)) : "0",
      base_volume: baseText(base, m),
      quote_volume: quoteText(quote, m),
      // A quiet day: the range is the last price.
      high_24h: known(high || last),
      low_24h: known(low || last),
      time: now,
    };
  }

  /** The ticker when it differs from the last one published (the window slides with time). */
  tickerIfChanged(now: number): TickerMessage | null {
    const ticker = this.ticker(now);
    const { time: _time, ...values } = ticker;
    const key = JSON.stringify(values);
    if (key === this.publishedTicker) return null;
    this.publishedTicker = key;
    return ticker;
  }

  private candleMessage(candle: Candle, closed: boolean): CandleMessage {
    const m = this.market;
    return {
      market: m.symbol,
      interval: candle.interval,
      t: String(Math.floor(candle.start / 1000)),
      v: quoteText(candle.quote, m),
      c: priceText(candle.close, m),
      h: priceText(candle.high, m),
      l: priceText(candle.low, m),
      o: priceText(candle.open, m),
      a: baseText(candle.base, m),
      n: `${candle.interval}_${m.symbol}`,
      w: closed,
    };
  }

  /** The latest candle of each interval that has one, as on the wire. */
  currentCandles(): CandleMessage[] {
    const out: CandleMessage[] = [];
    for (const interval of CANDLE_INTERVALS) {
      const latest = this.candles.get(interval)?.at(-1);
      if (latest) out.push(this.candleMessage(latest, false));
    }
    return out;
  }

  /**
   * What changed since the last flush: one book delta covering every sequence number since the
   * previous delta (so `U` = previous `u` + 1 even across messages that moved no level), the new
   * trades, the ticker if it moved, the candles that changed, and halt/resume. Null when
   * nothing did. With `slow: false` the candles and the ticker are left for a later flush (they
   * keep accumulating): the shell publishes them less often than the book and the trades.
   */
  flush(now: number, options: { slow?: boolean } = {}): Publication | null {
    const slow = options.slow ?? true;
    const levelsChanged = this.changedBids.size + this.changedAsks.size > 0;
    const anything =
      levelsChanged ||
      this.newTrades.length > 0 ||
      this.statuses.length > 0 ||
      (slow && (this.changedCandles.size > 0 || this.tickerMoved));
    if (!anything) return null;
    let delta: BookDelta | null = null;
    if (levelsChanged) {
      delta = {
        market: this.market.symbol,
        U: this.deltaFrom + 1,
        u: this.lastSeq,
        time: this.lastCommandTime,
        bids: [...this.changedBids]
          .sort((a, b) => byPriceDescending(a[0], b[0]))
          .map(([p, q]) => this.level(p, q)),
        asks: [...this.changedAsks].sort((a, b) => a[0] - b[0]).map(([p, q]) => this.level(p, q)),
      };
      this.deltaFrom = this.lastSeq;
    }
    const candles: CandleMessage[] = [];
    if (slow) {
      for (const candle of this.changedCandles.values()) {
        const latest = this.candles.get(candle.interval)?.at(-1);
        candles.push(
          this.candleMessage(candle, latest !== undefined && candle.start < latest.start),
        );
      }
      candles.sort((a, b) => Number(a.t) - Number(b.t));
      this.changedCandles.clear();
    }
    const publication: Publication = {
      market: this.market.symbol,
      delta,
      trades: this.newTrades.map((t) => this.tradeMessage(t)),
      ticker: slow ? this.tickerIfChanged(now) : null,
      candles,
      statuses: [...this.statuses],
    };
    if (slow) this.tickerMoved = false;
    else if (levelsChanged || this.newTrades.length > 0) this.tickerMoved = true;
    this.changedBids.clear();
    this.changedAsks.clear();
    this.newTrades.length = 0;
    this.statuses.length = 0;
    this.lastCommandTime = 0;
    return publication;
  }

  /** Candles or the ticker may have changed since they were last flushed. */
  get slowPending(): boolean {
    return this.changedCandles.size > 0 || this.tickerMoved;
  }
}
