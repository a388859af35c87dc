// Market data's publishing shell: what a market's feed (market-data/feed.ts, the pure part)
// changed goes to the socket.io rooms through the Redis emitter, and the book, ticker and recent
// trades to Redis (short TTL, at most every `snapshotIntervalMs` per market) for late joiners and
// the REST API. The engine host owns the feeds — it folds each command's events into its market's
// feed as it applies them — and calls `publish` after each batch; this module owns the timers:
// the throttled candles and ticker, the Redis writes, and a heartbeat that keeps quiet markets'
// keys alive and moves the 24 h ticker's window. The Redis writes go through the pipeline's Redis
// breaker (no timeout, errors unchanged while closed): while Redis is away they fail at once
// instead of queueing, and the heartbeat rewrites the keys once it is back.
import { CANDLE_INTERVALS } from "@spotx/db";
import { processSingleton } from "@spotx/platform";
import { isServiceUnavailable, pipelineBreakers } from "@spotx/platform/breakers";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { Redis } from "@spotx/platform/redis";
import type { SocketEmitter } from "@spotx/platform/socket-emitter";
import type { Topology } from "@spotx/platform/topology";
import { MARKET_CHANNELS, type ServerToClientEvents } from "@spotx/protocol";
import type { MarketFeed, Publication } from "./market-data/feed";

export const marketDataMetrics = processSingleton("market-data.metrics", () => ({
  fanout: new prometheus.Counter({
    name: "spotx_socket_fanout_total",
    help: "socket.io messages published to market rooms through the Redis emitter, by event",
    labelNames: ["event"] as const,
    registers: [metrics.registry],
  }),
  fanoutLatency: new prometheus.Histogram({
    name: "spotx_socket_fanout_latency_ms",
    help: "From an engine command's time to the emit of what it changed (ms)",
    buckets: [1, 2, 5, 10, 20, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000],
    registers: [metrics.registry],
  }),
  stopped: new prometheus.Gauge({
    name: "spotx_market_data_stopped",
    help: "1 while a market's feed is stopped by a sequence gap (an alarm)",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
}));

export type MarketPublisherOptions = {
  redis: Redis;
  emitter: SocketEmitter<ServerToClientEvents>;
  names: Topology;
  log: Logger;
  /** The live feed of a market, or undefined once it is no longer this process's. */
  feedOf: (symbol: string) => MarketFeed | undefined;
  /** Every live feed (for the heartbeat). */
  feeds: () => Iterable<MarketFeed>;
  /** Lifetime of the Redis book/ticker/trades keys; they are refreshed every quarter of it. */
  snapshotTtlMs?: number;
  /** Least time between two Redis writes of one market. */
  snapshotIntervalMs?: number;
  /**
   * Least time between two book/trade publications of one market: a quiet market's change goes
   * out at once, and a busy market's changes within this window go out together — one delta
   * per room per window, whatever the number of batches, so the web servers' fan-out grows with
   * clients, not with commands.
   */
  coalesceMs?: number;
  /**
   * Least time between two publications of a market's candles and ticker (the book and the
   * trades go out with every batch): a chart or a ticker gains nothing from more than a few
   * updates a second, and 11 candle messages per batch were most of what market data published.
   */
  slowIntervalMs?: number;
};

type Throttle = { last: number; timer: NodeJS.Timeout | undefined };

export class MarketPublisher {
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  private readonly slowIntervalMs: number;
  private readonly coalesceMs: number;
  private readonly fastFlushes = new Map<string, Throttle>();
  private readonly pendingTimes = new Map<string, number[]>();
  private readonly writes = new Map<string, Throttle>();
  private readonly slowFlushes = new Map<string, Throttle>();
  private readonly heartbeat: NodeJS.Timeout;
  private stopping = false;

  constructor(private readonly options: MarketPublisherOptions) {
    this.ttlMs = options.snapshotTtlMs ?? 10_000;
    this.intervalMs = options.snapshotIntervalMs ?? 100;
    this.slowIntervalMs = options.slowIntervalMs ?? 250;
    this.coalesceMs = options.coalesceMs ?? 20;
    // The keys expire when no owner publishes (no stale book served for long); while one runs,
    // quiet markets are rewritten, and the sliding 24 h window can move the ticker.
    this.heartbeat = setInterval(
      () => {
        const now = Date.now();
        for (const feed of options.feeds()) {
          this.scheduleWrite(feed);
          const ticker = feed.tickerIfChanged(now);
          if (ticker)
            this.emitTo(options.names.rooms.market(feed.symbol, "ticker"), "ticker", ticker);
        }
      },
      Math.max(250, Math.floor(this.ttlMs / 4)),
    );
    this.heartbeat.unref();
  }

  /**
   * Publishes what the feed's latest batch changed: the book and the trades at once when the
   * market published nothing in the last `coalesceMs`, else together with whatever else changes
   * until that window ends; the candles and the ticker at most every `slowIntervalMs`; the Redis
   * keys within `snapshotIntervalMs`. `commandTimes` are the batch's command times, for the
   * fan-out latency metric.
   */
  publish(feed: MarketFeed, now: number, commandTimes: readonly number[] = []): void {
    const times = this.pendingTimes.get(feed.symbol) ?? [];
    times.push(...commandTimes);
    this.pendingTimes.set(feed.symbol, times);
    const state = this.fastFlushes.get(feed.symbol) ?? { last: 0, timer: undefined };
    this.fastFlushes.set(feed.symbol, state);
    if (state.timer) return; // the window's trailing flush takes this batch too
    const wait = state.last + this.coalesceMs - now;
    if (wait <= 0) {
      this.flushNow(feed, now, state);
      return;
    }
    state.timer = setTimeout(() => {
      state.timer = undefined;
      const current = this.options.feedOf(feed.symbol);
      if (current && !this.stopping) this.flushNow(current, Date.now(), state);
    }, wait);
  }

  private flushNow(feed: MarketFeed, now: number, state: Throttle) {
    state.last = now;
    this.flushFeed(feed, now);
    this.scheduleWrite(feed);
    const emitted = Date.now();
    for (const time of this.pendingTimes.get(feed.symbol) ?? []) {
      marketDataMetrics.fanoutLatency.observe(Math.max(0, emitted - time));
    }
    this.pendingTimes.delete(feed.symbol);
  }

  /** Writes the feed's keys at once (a market just taken over). */
  writeNow(feed: MarketFeed): Promise<void> {
    return this.writeSnapshot(feed);
  }

  /** Drops a market's timers (it is no longer this process's). */
  forget(symbol: string): void {
    clearTimeout(this.fastFlushes.get(symbol)?.timer);
    this.fastFlushes.delete(symbol);
    this.pendingTimes.delete(symbol);
    clearTimeout(this.writes.get(symbol)?.timer);
    this.writes.delete(symbol);
    clearTimeout(this.slowFlushes.get(symbol)?.timer);
    this.slowFlushes.delete(symbol);
  }

  stop(): void {
    this.stopping = true;
    clearInterval(this.heartbeat);
    for (const symbol of [
      ...this.writes.keys(),
      ...this.slowFlushes.keys(),
      ...this.fastFlushes.keys(),
    ]) {
      this.forget(symbol);
    }
  }

  private emitTo<E extends keyof ServerToClientEvents>(
    room: string | string[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ) {
    this.options.emitter.to(room).emit(event, ...args);
    marketDataMetrics.fanout.inc({ event });
  }

  /** Every room of a market: a halt concerns whoever watches any of its channels. */
  private marketRooms(symbol: string): string[] {
    const { names } = this.options;
    return [
      ...MARKET_CHANNELS.map((channel) => names.rooms.market(symbol, channel)),
      ...CANDLE_INTERVALS.map((interval) => names.rooms.candles(symbol, interval)),
    ];
  }

  private flushFeed(feed: MarketFeed, now: number) {
    const state = this.slowFlushes.get(feed.symbol) ?? { last: 0, timer: undefined };
    this.slowFlushes.set(feed.symbol, state);
    const slow = now - state.last >= this.slowIntervalMs;
    const publication = feed.flush(now, { slow });
    if (publication) this.emitPublication(publication);
    if (slow) {
      state.last = now;
      return;
    }
    if (state.timer || this.stopping || !feed.slowPending) return;
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        const current = this.options.feedOf(feed.symbol);
        if (current) this.flushFeed(current, Date.now());
      },
      Math.max(0, state.last + this.slowIntervalMs - now),
    );
  }

  private emitPublication(publication: Publication) {
    const { names } = this.options;
    const { market } = publication;
    if (publication.delta) {
      this.emitTo(names.rooms.market(market, "book"), "book.delta", publication.delta);
    }
    if (publication.trades.length > 0) {
      this.emitTo(names.rooms.market(market, "trades"), "trades", {
        market,
        trades: publication.trades,
      });
    }
    if (publication.ticker) {
      this.emitTo(names.rooms.market(market, "ticker"), "ticker", publication.ticker);
    }
    for (const candle of publication.candles) {
      this.emitTo(names.rooms.candles(market, candle.interval), "candle", candle);
    }
    for (const status of publication.statuses) {
      this.emitTo(this.marketRooms(market), "market.status", status);
    }
  }

  private async writeSnapshot(feed: MarketFeed): Promise<void> {
    const { redis, names, log } = this.options;
    const now = Date.now();
    try {
      await pipelineBreakers.redis.run(() =>
        redis
          .multi()
          .set(names.redis.book(feed.symbol), JSON.stringify(feed.snapshot(now)), "PX", this.ttlMs)
          .set(names.redis.ticker(feed.symbol), JSON.stringify(feed.ticker(now)), "PX", this.ttlMs)
          .set(
            names.redis.trades(feed.symbol),
            JSON.stringify(feed.recentTrades()),
            "PX",
            this.ttlMs,
          )
          .exec(),
      );
    } catch (error) {
      // The breaker's opening was logged once; its refusals would repeat it per write.
      const level = isServiceUnavailable(error) ? "debug" : "warn";
      log[level]({ err: error, market: feed.symbol }, "market data could not write to Redis");
    }
  }

  /** At most one write per market per interval, and always a trailing one after the last change. */
  private scheduleWrite(feed: MarketFeed) {
    const state = this.writes.get(feed.symbol) ?? { last: 0, timer: undefined };
    this.writes.set(feed.symbol, state);
    if (state.timer || this.stopping) return;
    const wait = Math.max(0, state.last + this.intervalMs - Date.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.last = Date.now();
      const current = this.options.feedOf(feed.symbol);
      if (current) void this.writeSnapshot(current);
    }, wait);
  }
}
