// Market data: follows the events topic (consumer group `marketdata`) and keeps each market's
// public view — L2 book, recent trades, 24 h ticker, candles — publishing what every batch
// changed to the socket.io rooms through the Redis emitter, and writing the book, ticker and
// recent trades to Redis (short TTL, at most every 100 ms per market) for late joiners.
//
// The state is exact after any restart: when partitions are assigned, they are paused, each of
// their markets is loaded from PostgreSQL as settlement left it (one REPEATABLE READ
// transaction, consistent at its last_seq), the partition is sought back to the oldest offset
// any of its markets still needs (never before settlement's committed offset), and only events
// past each market's last_seq are applied.
import type { Database } from "@spotx/db";
import { CANDLE_INTERVALS } from "@spotx/db";
import { processSingleton } from "@spotx/platform";
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  partitionCount,
  partitionForKey,
} from "@spotx/platform/kafka";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { Redis } from "@spotx/platform/redis";
import type { SocketEmitter } from "@spotx/platform/socket-emitter";
import type { Topology } from "@spotx/platform/topology";
import { decodeEvents, MARKET_CHANNELS, type ServerToClientEvents } from "@spotx/protocol";
import { loadMarketStarts, marketSymbols } from "./market-data/bootstrap";
import { MarketFeed, type Publication } from "./market-data/feed";

export const marketDataMetrics = processSingleton("market-data.metrics", () => ({
  messages: new prometheus.Counter({
    name: "spotx_market_data_messages_total",
    help: "Events-topic messages seen by market data (outcome=applied|replayed|stale-epoch|gap|stopped|undecodable)",
    labelNames: ["outcome"] as const,
    registers: [metrics.registry],
  }),
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
  lag: new prometheus.Gauge({
    name: "spotx_market_data_lag_messages",
    help: "Messages of the events topic's partition not yet read by market data",
    labelNames: ["partition"] as const,
    registers: [metrics.registry],
  }),
  stopped: new prometheus.Gauge({
    name: "spotx_market_data_stopped",
    help: "1 while a market's feed is stopped by a sequence gap (an alarm)",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
  bootstrapSeconds: new prometheus.Histogram({
    name: "spotx_market_data_bootstrap_seconds",
    help: "Time to load assigned partitions' markets from PostgreSQL",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics.registry],
  }),
}));

export type MarketDataOptions = {
  kafka: Kafka;
  db: Database;
  redis: Redis;
  emitter: SocketEmitter<ServerToClientEvents>;
  names: Topology;
  log: Logger;
  /** Lifetime of the Redis book/ticker/trades keys; they are refreshed every quarter of it. */
  snapshotTtlMs?: number;
  /** Least time between two Redis writes of one market. */
  snapshotIntervalMs?: number;
  /**
   * Least time between two publications of a market's candles and ticker (the book and the
   * trades go out with every batch): 11 candle messages per batch were most of what market data
   * published, and a chart or a ticker gains nothing from more than a few updates a second.
   */
  slowIntervalMs?: number;
};

export type MarketData = {
  /** The feed of a market on a partition this instance holds (tests, the console). */
  feed(symbol: string): MarketFeed | undefined;
  /** The next offset this instance will read, per live partition. */
  positions(): Map<number, bigint>;
  /** For /ready: not ready while any market's feed is stopped by a gap. */
  readiness(): { name: string; ok: boolean; detail?: string }[];
  stop(): Promise<void>;
};

type PartitionState = {
  partition: number;
  phase: "bootstrapping" | "live";
  feeds: Map<string, MarketFeed>;
  /** The next offset to read once live. */
  nextOffset: bigint;
  /** Markets seen in messages but not in the database: one re-bootstrap each, then ignored. */
  unknown: Set<string>;
};

type Throttle = { last: number; timer: NodeJS.Timeout | undefined };

export async function startMarketData(options: MarketDataOptions): Promise<MarketData> {
  const { kafka, db, redis, emitter, names, log } = options;
  const ttlMs = options.snapshotTtlMs ?? 10_000;
  const intervalMs = options.snapshotIntervalMs ?? 100;
  const slowIntervalMs = options.slowIntervalMs ?? 250;
  const topic = names.kafka.events.topic;
  const m = marketDataMetrics;

  const admin: Admin = kafka.admin();
  await admin.connect();
  const numPartitions = await partitionCount(admin, topic);
  const consumer: Consumer = kafka.consumer({
    groupId: names.kafka.groups.marketData,
    readUncommitted: false,
    // kafkajs sleeps this long when every partition is paused (during a bootstrap) and the
    // broker holds an idle fetch this long: short, so a resumed partition is read at once.
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });

  const partitions = new Map<number, PartitionState>();
  const writes = new Map<string, Throttle>();
  const slowFlushes = new Map<string, Throttle>();
  let generation = 0;
  let stopping = false;
  /** Set when kafkajs gave up on the consumer (a crash it does not restart from). */
  let dead: string | null = null;

  // ------------------------------------------------------------------ Redis snapshots

  async function writeSnapshot(feed: MarketFeed): Promise<void> {
    const now = Date.now();
    try {
      await redis
        .multi()
        .set(names.redis.book(feed.symbol), JSON.stringify(feed.snapshot(now)), "PX", ttlMs)
        .set(names.redis.ticker(feed.symbol), JSON.stringify(feed.ticker(now)), "PX", ttlMs)
        .set(names.redis.trades(feed.symbol), JSON.stringify(feed.recentTrades()), "PX", ttlMs)
        .exec();
    } catch (error) {
      log.warn({ err: error, market: feed.symbol }, "market data could not write to Redis");
    }
  }

  /** At most one write per market per interval, and always a trailing one after the last change. */
  function scheduleWrite(feed: MarketFeed) {
    const state = writes.get(feed.symbol) ?? { last: 0, timer: undefined };
    writes.set(feed.symbol, state);
    if (state.timer || stopping) return;
    const wait = Math.max(0, state.last + intervalMs - Date.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.last = Date.now();
      const current = feedOf(feed.symbol);
      if (current) void writeSnapshot(current);
    }, wait);
  }

  // The keys expire when market data is gone (no stale book served for long); while it runs,
  // quiet markets are rewritten, and the sliding 24 h window can move the ticker.
  const heartbeat = setInterval(
    () => {
      const now = Date.now();
      for (const state of partitions.values()) {
        if (state.phase !== "live") continue;
        for (const feed of state.feeds.values()) {
          scheduleWrite(feed);
          const ticker = feed.tickerIfChanged(now);
          if (ticker) emitTo(names.rooms.market(feed.symbol, "ticker"), "ticker", ticker);
        }
      }
    },
    Math.max(250, Math.floor(ttlMs / 4)),
  );

  function feedOf(symbol: string): MarketFeed | undefined {
    const partition = partitions.get(partitionForKey(topic, symbol, numPartitions));
    return partition?.phase === "live" ? partition.feeds.get(symbol) : undefined;
  }

  // ------------------------------------------------------------------ publishing

  function emitTo<E extends keyof ServerToClientEvents>(
    room: string | string[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ) {
    emitter.to(room).emit(event, ...args);
    m.fanout.inc({ event });
  }

  /** Every room of a market: a halt concerns whoever watches any of its channels. */
  function marketRooms(symbol: string): string[] {
    return [
      ...MARKET_CHANNELS.map((channel) => names.rooms.market(symbol, channel)),
      ...CANDLE_INTERVALS.map((interval) => names.rooms.candles(symbol, interval)),
    ];
  }

  /**
   * Publishes what the market's latest batch changed: the book and the trades at once, the
   * candles and the ticker at most every `slowIntervalMs` (the rest accumulates in the feed and
   * goes out with a trailing flush).
   */
  function flushFeed(feed: MarketFeed, now: number) {
    const state = slowFlushes.get(feed.symbol) ?? { last: 0, timer: undefined };
    slowFlushes.set(feed.symbol, state);
    const slow = now - state.last >= slowIntervalMs;
    const publication = feed.flush(now, { slow });
    if (publication) publish(publication);
    if (slow) {
      state.last = now;
      return;
    }
    if (state.timer || stopping || !feed.slowPending) return;
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        const current = feedOf(feed.symbol);
        if (current) flushFeed(current, Date.now());
      },
      Math.max(0, state.last + slowIntervalMs - now),
    );
  }

  function publish(publication: Publication) {
    const { market } = publication;
    if (publication.delta)
      emitTo(names.rooms.market(market, "book"), "book.delta", publication.delta);
    if (publication.trades.length > 0) {
      emitTo(names.rooms.market(market, "trades"), "trades", {
        market,
        trades: publication.trades,
      });
    }
    if (publication.ticker)
      emitTo(names.rooms.market(market, "ticker"), "ticker", publication.ticker);
    for (const candle of publication.candles) {
      emitTo(names.rooms.candles(market, candle.interval), "candle", candle);
    }
    for (const status of publication.statuses) emitTo(marketRooms(market), "market.status", status);
  }

  // ------------------------------------------------------------------ assignment and bootstrap

  /**
   * Where settlement's consumer group stands on each partition. Settlement commits an offset
   * only after PostgreSQL has committed what precedes it (and never past a market it stopped
   * on), so read BEFORE the database snapshot it bounds what that snapshot already reflects.
   */
  async function settlementPositions(): Promise<Map<number, bigint>> {
    const [offsets] = await admin.fetchOffsets({
      groupId: names.kafka.groups.settlement,
      topics: [topic],
    });
    const positions = new Map<number, bigint>();
    for (const { partition, offset } of offsets?.partitions ?? []) {
      if (BigInt(offset) >= 0n) positions.set(partition, BigInt(offset));
    }
    return positions;
  }

  async function bootstrap(assigned: number[], forGeneration: number): Promise<void> {
    const started = process.hrtime.bigint();
    const settled = await settlementPositions();
    const all = await marketSymbols(db);
    const mine = all.filter((s) => assigned.includes(partitionForKey(topic, s, numPartitions)));
    const starts = await loadMarketStarts(db, mine, Date.now());
    const watermarks = await admin.fetchTopicOffsets(topic);
    if (forGeneration !== generation || stopping) return; // a newer assignment took over
    for (const partition of assigned) {
      const state = partitions.get(partition);
      if (!state) continue;
      const marks = watermarks.find((w) => w.partition === partition);
      const low = BigInt(marks?.low ?? "0");
      const high = BigInt(marks?.high ?? "0");
      const settledTo = settled.get(partition) ?? null;
      // Each market resumes after the last message settlement applied for it. Nothing before
      // settlement's committed offset is needed either: every message there was applied (and
      // is in the snapshot) or was one this feed skips anyway (a replay, a zombie's) — which
      // keeps a market idle for weeks from sending the read back to the partition's start.
      // A market with nothing applied and no committed offset may have messages anywhere.
      const feeds = new Map<string, MarketFeed>();
      let from: bigint | null = null;
      for (const [symbol, start] of starts) {
        if (partitionForKey(topic, symbol, numPartitions) !== partition) continue;
        feeds.set(symbol, new MarketFeed(start.market, start.bootstrap));
        const after = start.lastOffset === null ? null : start.lastOffset + 1n;
        let resume = after ?? settledTo ?? low;
        if (after !== null && settledTo !== null && settledTo > after) resume = settledTo;
        if (from === null || resume < from) from = resume;
      }
      // A partition without markets only needs what comes next.
      const offset = from ?? settledTo ?? high;
      state.feeds = feeds;
      state.nextOffset = offset < low ? low : offset;
      state.phase = "live";
      for (const feed of feeds.values()) {
        m.stopped.set({ market: feed.symbol }, 0);
        void writeSnapshot(feed);
      }
      consumer.seek({ topic, partition, offset: String(state.nextOffset) });
      log.info(
        { partition, markets: [...feeds.keys()], offset: String(state.nextOffset) },
        "market data bootstrapped a partition",
      );
    }
    consumer.resume([{ topic, partitions: assigned }]);
    m.bootstrapSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  function startBootstrap(assigned: number[], forGeneration: number, attempt = 0) {
    bootstrap(assigned, forGeneration).catch((error: unknown) => {
      if (forGeneration !== generation || stopping) return;
      const delay = Math.min(5_000, 200 * 2 ** attempt);
      log.error(
        { err: error, partitions: assigned, retryInMs: delay },
        "market data bootstrap failed",
      );
      setTimeout(() => startBootstrap(assigned, forGeneration, attempt + 1), delay).unref();
    });
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const assigned = event.payload.memberAssignment[topic] ?? [];
    generation += 1;
    for (const [partition, state] of partitions) {
      if (!assigned.includes(partition)) {
        partitions.delete(partition);
        m.lag.remove({ partition: String(partition) });
        for (const feed of state.feeds.values()) {
          writes.delete(feed.symbol);
          clearTimeout(slowFlushes.get(feed.symbol)?.timer);
          slowFlushes.delete(feed.symbol);
        }
      }
    }
    if (assigned.length === 0) return;
    // Paused before the first fetch of this generation: nothing is read before the bootstrap.
    consumer.pause([{ topic, partitions: assigned }]);
    const kept: number[] = [];
    const fresh: number[] = [];
    for (const partition of assigned) {
      const state = partitions.get(partition);
      if (state?.phase === "live") {
        // Still ours and exact: carry on from where it was (kafkajs would restart elsewhere).
        consumer.seek({ topic, partition, offset: String(state.nextOffset) });
        kept.push(partition);
      } else {
        partitions.set(partition, {
          partition,
          phase: "bootstrapping",
          feeds: new Map(),
          nextOffset: 0n,
          unknown: state?.unknown ?? new Set(),
        });
        fresh.push(partition);
      }
    }
    if (kept.length > 0) consumer.resume([{ topic, partitions: kept }]);
    if (fresh.length > 0) startBootstrap(fresh, generation);
  });

  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    log.error({ err: error, restart }, "market data consumer crashed");
    if (!restart) dead = error.message;
  });

  /** A market the partition's bootstrap did not know (created since): load everything again. */
  function rebootstrap(state: PartitionState) {
    consumer.pause([{ topic, partitions: [state.partition] }]);
    state.phase = "bootstrapping";
    startBootstrap([state.partition], generation);
  }

  // ------------------------------------------------------------------ the batches

  async function eachBatch({
    batch,
    resolveOffset,
    heartbeat: beat,
    isRunning,
    isStale,
  }: EachBatchPayload) {
    const state = partitions.get(batch.partition);
    if (state?.phase !== "live") return;
    const touched = new Set<MarketFeed>();
    const times: number[] = [];
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || state.phase !== "live") break;
      const decoded = decodeEvents(message.value);
      if (!decoded.ok) {
        m.messages.inc({ outcome: "undecodable" });
        log.warn(
          { partition: batch.partition, offset: message.offset, problem: decoded.problem },
          "market data skipped an undecodable events message",
        );
      } else {
        const symbol = decoded.message.market;
        const feed = state.feeds.get(symbol);
        if (!feed) {
          if (!state.unknown.has(symbol)) {
            state.unknown.add(symbol);
            log.info(
              { market: symbol },
              "market data sees a new market; loading the partition again",
            );
            rebootstrap(state);
            break;
          }
          m.messages.inc({ outcome: "unknown-market" });
        } else {
          const outcome = feed.apply(decoded.message);
          m.messages.inc({ outcome });
          if (outcome === "applied") {
            touched.add(feed);
            times.push(decoded.message.time);
          } else if (outcome === "gap") {
            m.stopped.set({ market: symbol }, 1);
            log.error(
              { market: symbol, ...feed.gap, offset: message.offset },
              "market data stopped a market: its events skip sequence numbers",
            );
          }
        }
      }
      resolveOffset(message.offset);
      state.nextOffset = BigInt(message.offset) + 1n;
    }
    const now = Date.now();
    for (const feed of touched) {
      flushFeed(feed, now);
      scheduleWrite(feed);
    }
    const emitted = Date.now();
    for (const time of times) m.fanoutLatency.observe(Math.max(0, emitted - time));
    m.lag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
    await beat();
  }

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Every assignment starts from PostgreSQL and seeks, so the group's committed offset never
  // positions this consumer; it is committed (once a second) so that its lag can be watched.
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1_000,
    eachBatchAutoResolve: false,
    eachBatch,
  });

  return {
    feed: feedOf,
    positions() {
      const positions = new Map<number, bigint>();
      for (const [partition, state] of partitions) {
        if (state.phase === "live") positions.set(partition, state.nextOffset);
      }
      return positions;
    },
    readiness() {
      const stopped: string[] = [];
      for (const state of partitions.values()) {
        for (const feed of state.feeds.values()) if (feed.gap) stopped.push(feed.symbol);
      }
      const problems = [
        ...(dead !== null ? [`consumer stopped: ${dead}`] : []),
        ...(stopped.length > 0 ? [`stopped by a sequence gap: ${stopped.join(", ")}`] : []),
      ];
      return [
        {
          name: "market-data",
          ok: problems.length === 0,
          ...(problems.length > 0 ? { detail: problems.join("; ") } : {}),
        },
      ];
    },
    async stop() {
      stopping = true;
      clearInterval(heartbeat);
      for (const state of [...writes.values(), ...slowFlushes.values()]) clearTimeout(state.timer);
      await consumer.disconnect();
      await admin.disconnect();
      partitions.clear();
    },
  };
}
