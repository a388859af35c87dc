// The engine host: runs the matching engine for the markets whose orders-topic partitions this
// worker is assigned, turns each command into one events-topic message, and publishes each
// market's public data (book deltas, trades, ticker, candles) straight from the commands it
// applies — no second consumer reads the events back for that.
//
// Exactly once in effect, without a Kafka transaction per batch (docs/decisions/004): a batch's
// events are produced with an idempotent producer (acks=all), and only once they are acknowledged
// is the batch's offset marked acknowledged; acknowledged offsets are committed to the group every
// `offsetCommitIntervalMs`. A crash between producing events and committing their offset makes
// the next owner apply those commands again: the engine is deterministic, so it produces the same
// events with the same sequence numbers, which settlement applies once (a sequence at or below
// the market's last applied one is a no-op). A zombie owner can only produce those same events;
// its epoch (the etcd ownership key's revision) is older, and settlement refuses it once a newer
// one has been seen.
//
// Market data is published before the events are acknowledged: what it shows is what the
// engine's deterministic replay of the durable command log will show again, and a client drops a
// delta it has seen (by sequence) and resyncs on a gap.
//
// Taking a partition over: read the committed offset; load each market's public state as
// settlement left it (PostgreSQL, at its last applied sequence S) and the newest snapshot at or
// before S; replay the commands between the snapshot and the committed offset without producing
// (their events were acknowledged already) — folding the events past S into the market's feed —
// record ownership in etcd (the key's revision is the epoch every event carries), then go live.
import { type Database, loadMarketRules } from "@spotx/db";
import { processSingleton } from "@spotx/platform";
import type { Etcd3, Lease } from "@spotx/platform/etcd";
import {
  byteChunks,
  type Consumer,
  type EachBatchPayload,
  idempotentProducer,
  type Kafka,
  MAX_SEND_BYTES,
  type Producer,
  partitionCount,
  partitionForKey,
} from "@spotx/platform/kafka";
import type { Logger } from "@spotx/platform/logger";
import type { MarketConfigWatcher } from "@spotx/platform/market-config";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { Redis } from "@spotx/platform/redis";
import type { SocketEmitter } from "@spotx/platform/socket-emitter";
import type { Topology } from "@spotx/platform/topology";
import {
  COMMAND_HEADERS,
  decodeCommand,
  type EventMessage,
  encodeCommand,
  encodeEvents,
  haltCommand,
  listingMarketConfig,
  type ServerToClientEvents,
} from "@spotx/protocol";
import { loadLatestSnapshots, type StoredSnapshot, saveSnapshot } from "./engine-store";
import { type CommandInput, HostedMarket } from "./hosted-market";
import { loadMarketStarts, type MarketStart } from "./market-data/bootstrap";
import { type FeedBootstrap, MarketFeed } from "./market-data/feed";
import { MarketPublisher, marketDataMetrics } from "./market-publisher";

export const engineMetrics = processSingleton("engine-host.metrics", () => ({
  commands: new prometheus.Counter({
    name: "spotx_engine_commands_total",
    help: "Commands applied by the engine host (mode=live|replay, outcome=applied|duplicate|undecodable)",
    labelNames: ["market", "mode", "outcome"] as const,
    registers: [metrics.registry],
  }),
  commandSeconds: new prometheus.Histogram({
    name: "spotx_engine_command_seconds",
    help: "Time the engine took to apply one command (live commands)",
    buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.001, 0.005, 0.025],
    registers: [metrics.registry],
  }),
  batchSeconds: new prometheus.Histogram({
    name: "spotx_engine_batch_seconds",
    help: "Time to apply a batch, publish its market data and have its events acknowledged",
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  }),
  replayed: new prometheus.Counter({
    name: "spotx_engine_replayed_commands_total",
    help: "Commands replayed after a snapshot when taking a market over (their events were already committed)",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
  snapshots: new prometheus.Counter({
    name: "spotx_engine_snapshots_total",
    help: "Book snapshots written to PostgreSQL",
    labelNames: ["market", "trigger"] as const,
    registers: [metrics.registry],
  }),
  ownedMarkets: new prometheus.Gauge({
    name: "spotx_engine_owned_markets",
    help: "Markets whose engine this worker runs",
    registers: [metrics.registry],
  }),
  owner: new prometheus.Gauge({
    name: "spotx_engine_market_owned",
    help: "1 for each market whose engine this worker runs (live), with its owner epoch",
    labelNames: ["market", "epoch"] as const,
    registers: [metrics.registry],
  }),
  takeovers: new prometheus.Counter({
    name: "spotx_engine_takeovers_total",
    help: "Partitions taken over (outcome=ok|failed)",
    labelNames: ["outcome"] as const,
    registers: [metrics.registry],
  }),
  seq: new prometheus.Gauge({
    name: "spotx_engine_seq",
    help: "The last event sequence number the engine produced, per market",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
}));

export type EngineHostOptions = {
  kafka: Kafka;
  db: Database;
  etcd: Etcd3;
  names: Topology;
  log: Logger;
  instanceId: string;
  config: MarketConfigWatcher;
  /** Snapshot a market after this many commands (and at shutdown). */
  snapshotEvery: number;
  leaseTtlSeconds: number;
  /** Market data goes out through these: the socket.io emitter and Redis (for late joiners). */
  emitter: SocketEmitter<ServerToClientEvents>;
  redis: Redis;
  /**
   * How often acknowledged offsets are committed to the consumer group. Longer: fewer commits,
   * more commands applied again (and their events produced again) after a crash.
   */
  offsetCommitIntervalMs?: number;
  /** Market data's Redis keys' lifetime and write interval (see MarketPublisher). */
  marketData?: { snapshotTtlMs?: number; snapshotIntervalMs?: number; slowIntervalMs?: number };
};

type OwnedMarket = {
  hosted: HostedMarket;
  /** The market's public data, folded from the events this host applies. */
  feed: MarketFeed;
  /** Commands up to this orders-topic offset are in the market's snapshot: skip them. */
  snapshotOffset: bigint;
  epoch: bigint;
  sinceSnapshot: number;
  /** The halt state requested from the engine and not yet seen applied. */
  haltRequested: boolean | null;
};

type PartitionState = {
  partition: number;
  status: "taking-over" | "live" | "failed";
  producer: Producer | null;
  markets: Map<string, OwnedMarket>;
  /** The committed offset at the takeover: below it, commands are replayed; from it, live. */
  committed: bigint;
  /** The offset after the last command whose events Kafka acknowledged (to commit next). */
  acknowledged: bigint;
  /** The last offset this host committed for the partition. */
  committedByUs: bigint;
  /**
   * The last offset applied to this partition's engines (replayed or committed): a market's
   * state holds its commands up to max(position, its snapshot's offset), never an uncommitted one.
   */
  position: bigint;
  generation: number;
};

type OwnerRecord = { instance: string; partition: number; since: string };

export class EngineHost {
  private consumer: Consumer | undefined;
  private readonly partitions = new Map<number, PartitionState>();
  private lease: Lease | undefined;
  private haltProducer: Producer | undefined;
  private numPartitions = 0;
  private generation = 0;
  private committer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly publisher: MarketPublisher;

  constructor(private readonly options: EngineHostOptions) {
    this.publisher = new MarketPublisher({
      redis: options.redis,
      emitter: options.emitter,
      names: options.names,
      log: options.log.child({ part: "market-data" }),
      feedOf: (symbol) => this.feed(symbol),
      feeds: () => this.liveFeeds(),
      ...options.marketData,
    });
  }

  /** The public data of a market this host runs (tests, the console). */
  feed(symbol: string): MarketFeed | undefined {
    for (const state of this.partitions.values()) {
      if (state.status !== "live") continue;
      const owned = state.markets.get(symbol);
      if (owned) return owned.feed;
    }
    return undefined;
  }

  private *liveFeeds(): Iterable<MarketFeed> {
    for (const state of this.partitions.values()) {
      if (state.status !== "live") continue;
      for (const owned of state.markets.values()) yield owned.feed;
    }
  }

  /** For /ready: not ready while a market's feed is stopped by a sequence gap (a bug). */
  readiness(): { name: string; ok: boolean; detail?: string }[] {
    const stopped = [...this.liveFeeds()].filter((f) => f.gap !== null).map((f) => f.symbol);
    return [
      {
        name: "market-data",
        ok: stopped.length === 0,
        ...(stopped.length > 0
          ? { detail: `stopped by a sequence gap: ${stopped.join(", ")}` }
          : {}),
      },
    ];
  }

  private get topic() {
    return this.options.names.kafka.orders.topic;
  }

  async start(): Promise<void> {
    const { kafka, names, log } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      this.numPartitions = await partitionCount(admin, this.topic);
    } finally {
      await admin.disconnect();
    }
    this.lease = this.grantLease();
    await this.lease.grant();
    this.haltProducer = idempotentProducer(kafka);
    await this.haltProducer.connect();

    this.options.config.on("change", (symbol) => this.reconcileHalt(symbol));

    const consumer = kafka.consumer({
      groupId: names.kafka.groups.engine,
      // A dead worker's markets move within the session timeout (plus a rebalance).
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 10_000,
      readUncommitted: false,
      // An idle fetch returns at once when a command arrives; this only bounds an empty poll.
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[this.topic] ?? [];
      this.onAssignment(assigned);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      // Offsets are committed by this host, on a timer, and only those whose events Kafka has
      // acknowledged (kafkajs's autoCommit would commit after every batch: a request each).
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.numPartitions,
      eachBatch: (payload) => this.track(this.onBatch(payload)),
    });
    this.committer = setInterval(
      () => void this.commitAcknowledged(),
      this.options.offsetCommitIntervalMs ?? 1_000,
    );
    this.committer.unref();
    log.info({ topic: this.topic, partitions: this.numPartitions }, "engine host consuming");
  }

  /**
   * Commits, per live partition, the offset after the last command whose events Kafka has
   * acknowledged. A commit that fails (a rebalance moved the partition, the coordinator is away)
   * is simply not made: the next owner applies those commands again, and settlement drops
   * what it already applied.
   */
  private async commitAcknowledged(): Promise<void> {
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const state of this.partitions.values()) {
      if (state.status !== "live" || state.acknowledged <= state.committedByUs) continue;
      offsets.push({
        topic: this.topic,
        partition: state.partition,
        offset: state.acknowledged.toString(),
      });
    }
    if (offsets.length === 0 || !this.consumer) return;
    try {
      await this.consumer.commitOffsets(offsets);
      for (const { partition, offset } of offsets) {
        const state = this.partitions.get(partition);
        if (state && BigInt(offset) > state.committedByUs) state.committedByUs = BigInt(offset);
      }
    } catch (error) {
      this.options.log.warn({ err: error }, "engine offsets not committed; will try again");
    }
  }

  /** Markets this host runs now, with their epochs. */
  owned(): Array<{ market: string; partition: number; epoch: bigint; seq: number }> {
    const list = [];
    for (const state of this.partitions.values()) {
      if (state.status !== "live") continue;
      for (const [market, owned] of state.markets) {
        list.push({
          market,
          partition: state.partition,
          epoch: owned.epoch,
          seq: owned.hosted.engine.seq,
        });
      }
    }
    return list.sort((a, b) => a.market.localeCompare(b.market));
  }

  /**
   * SIGTERM: stop fetching, let the batch in flight finish and commit, snapshot every market
   * (its state is exactly its committed commands), give up ownership and the lease.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.committer);
    await Promise.allSettled([...this.inFlight]);
    await this.commitAcknowledged();
    await this.consumer?.stop().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    for (const state of this.partitions.values()) {
      if (state.status !== "live") continue;
      for (const [market, owned] of state.markets) {
        await this.snapshot(market, owned, state, "shutdown").catch((error: unknown) =>
          this.options.log.error({ err: error, market }, "shutdown snapshot failed"),
        );
      }
      await this.release(state);
    }
    await this.consumer?.disconnect().catch(() => undefined);
    await this.haltProducer?.disconnect().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
    this.publisher.stop();
    engineMetrics.ownedMarkets.set(0);
    engineMetrics.owner.reset();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private grantLease(): Lease {
    const lease = this.options.etcd.lease(this.options.leaseTtlSeconds, { autoKeepAlive: true });
    lease.on("lost", (error) => {
      if (this.stopping) return;
      // The ownership keys went with the lease: take a new one and claim the markets again
      // (with new epochs, which settlement accepts as newer).
      this.options.log.warn({ err: error }, "engine ownership lease lost; claiming again");
      this.lease = this.grantLease();
      for (const state of this.partitions.values()) {
        if (state.status === "live") void this.retakeover(state.partition, "lease lost");
      }
    });
    return lease;
  }

  // ------------------------------------------------------------------ assignment

  private onAssignment(assigned: number[]) {
    const { log } = this.options;
    this.generation += 1;
    const now = new Set(assigned);
    for (const [partition, state] of this.partitions) {
      if (!now.has(partition)) {
        this.partitions.delete(partition);
        void this.release(state);
        log.info({ partition }, "partition revoked");
      }
    }
    // Every partition of the new assignment is taken over afresh: while we were out of the
    // group (a session timeout) another worker may have moved it on, and its producer fenced ours.
    if (assigned.length > 0) this.pause(assigned);
    for (const partition of assigned) void this.takeover(partition, this.generation);
    this.updateOwnedGauge();
  }

  /**
   * Stops fetching the partitions until their takeover resumes them. kafkajs refuses a pause
   * while its consumer is not running (between a crash of its run loop and the restart): then
   * nothing is being fetched anyway, and the refusal — thrown inside an etcd lease's event
   * handler — must not end the process.
   */
  private pause(partitions: number[]) {
    try {
      this.consumer?.pause([{ topic: this.topic, partitions }]);
    } catch (error) {
      this.options.log.warn(
        { err: error, partitions },
        "could not pause; the consumer is not running",
      );
    }
  }

  private retakeover(partition: number, why: string) {
    const { log } = this.options;
    log.warn({ partition, why }, "taking the partition over again");
    this.pause([partition]);
    const previous = this.partitions.get(partition);
    if (previous) previous.status = "failed";
    return this.takeover(partition, this.generation);
  }

  private async takeover(partition: number, generation: number): Promise<void> {
    const { db, kafka, names, log } = this.options;
    const previous = this.partitions.get(partition);
    const state: PartitionState = {
      partition,
      status: "taking-over",
      producer: null,
      markets: new Map(),
      committed: 0n,
      acknowledged: 0n,
      committedByUs: 0n,
      position: -1n,
      generation,
    };
    this.partitions.set(partition, state);
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await previous?.producer?.disconnect().catch(() => undefined);
        const producer = idempotentProducer(kafka);
        await producer.connect();
        state.producer = producer;

        // 1. Where the group's committed offset stands: everything before it had its events
        //    acknowledged; from it on, commands are applied live (again, perhaps: a crash
        //    between producing and committing repeats them, and settlement drops the repeats).
        const admin = kafka.admin();
        await admin.connect();
        let committed: bigint;
        let low: bigint;
        try {
          const offsets = await admin.fetchOffsets({
            groupId: names.kafka.groups.engine,
            topics: [this.topic],
          });
          const found = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset;
          const watermarks = await admin.fetchTopicOffsets(this.topic);
          low = BigInt(watermarks.find((w) => w.partition === partition)?.low ?? "0");
          committed = found !== undefined && BigInt(found) >= 0n ? BigInt(found) : low;
        } finally {
          await admin.disconnect();
        }
        state.committed = committed;
        state.acknowledged = committed;
        state.committedByUs = committed;

        // 2. The markets this partition carries: their public state as settlement left it (at
        //    its last applied sequence S), and each engine from its newest snapshot at or before
        //    S — so that replaying from there yields every event past S for the market's feed.
        const rules = await loadMarketRules(db);
        const mine = [...rules.keys()].filter(
          (symbol) => partitionForKey(this.topic, symbol, this.numPartitions) === partition,
        );
        const starts = await loadMarketStarts(db, mine, Date.now());
        const settled = new Map([...starts].map(([m, start]) => [m, BigInt(start.bootstrap.seq)]));
        const snapshots = await loadLatestSnapshots(db, mine, settled);
        const newest = await this.snapshotsPastSettlement(mine, snapshots, settled);
        let start = committed;
        for (const symbol of mine) {
          const marketRules = rules.get(symbol);
          const marketStart = starts.get(symbol);
          if (!marketRules || !marketStart) continue;
          const stored = snapshots.get(symbol) ?? newest.get(symbol);
          const hosted = stored
            ? HostedMarket.restore(stored.state)
            : HostedMarket.fresh(listingMarketConfig(marketRules));
          const snapshotOffset = stored?.inputOffset ?? -1n;
          if (snapshotOffset + 1n < start) start = snapshotOffset + 1n;
          state.markets.set(symbol, {
            hosted,
            feed: new MarketFeed(marketStart.market, feedStart(marketStart, hosted, stored, log)),
            snapshotOffset,
            epoch: 0n,
            sinceSnapshot: 0,
            haltRequested: null,
          });
        }
        if (start < low) {
          log.error(
            { partition, needed: start.toString(), low: low.toString() },
            "commands needed to rebuild a market are no longer in the orders topic; rebuilding from what is left",
          );
          start = low;
        }

        // 3. Ownership in etcd; its revision is the epoch every event of the market carries.
        for (const [symbol, owned] of state.markets) {
          owned.epoch = await this.claim(symbol, partition);
        }

        if (this.partitions.get(partition) !== state || state.generation !== this.generation) {
          // Reassigned while we were taking it over: a newer takeover (or a revoke) wins.
          await producer.disconnect().catch(() => undefined);
          return;
        }
        state.position = start - 1n;
        state.status = "live";
        engineMetrics.takeovers.inc({ outcome: "ok" });
        this.updateOwnedGauge();
        for (const owned of state.markets.values()) {
          marketDataMetrics.stopped.set({ market: owned.feed.symbol }, 0);
          // Late joiners and the REST API read these keys: written at once, as of what
          // settlement applied; the replay and live commands move them on.
          void this.publisher.writeNow(owned.feed);
        }
        log.info(
          {
            partition,
            markets: [...state.markets.keys()],
            committed: committed.toString(),
            from: start.toString(),
          },
          "partition taken over",
        );
        this.consumer?.seek({ topic: this.topic, partition, offset: start.toString() });
        this.consumer?.resume([{ topic: this.topic, partitions: [partition] }]);
        for (const symbol of state.markets.keys()) this.reconcileHalt(symbol);
        return;
      } catch (error) {
        await state.producer?.disconnect().catch(() => undefined);
        state.producer = null;
        state.markets.clear();
        engineMetrics.takeovers.inc({ outcome: "failed" });
        log.error({ err: error, partition, attempt }, "taking the partition over failed; retrying");
        await delay(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)));
        if (this.partitions.get(partition) !== state) return;
      }
    }
  }

  /**
   * For markets with no snapshot at or before settlement's sequence but a newer one (settlement
   * far behind, or stopped): the newest. Replaying from the start of the log instead would need
   * commands the topic may no longer hold.
   */
  private async snapshotsPastSettlement(
    markets: readonly string[],
    atOrBefore: ReadonlyMap<string, StoredSnapshot>,
    settled: ReadonlyMap<string, bigint>,
  ): Promise<Map<string, StoredSnapshot>> {
    const missing = markets.filter((m) => !atOrBefore.has(m) && settled.has(m));
    if (missing.length === 0) return new Map();
    return loadLatestSnapshots(this.options.db, missing);
  }

  /** Records this worker as the market's owner; returns the epoch (the key's revision). */
  private async claim(symbol: string, partition: number): Promise<bigint> {
    const lease = this.lease;
    if (!lease) throw new Error("engine host has no etcd lease");
    const record: OwnerRecord = {
      instance: this.options.instanceId,
      partition,
      since: new Date().toISOString(),
    };
    const put = await lease
      .put(this.options.names.etcd.marketOwner(symbol))
      .value(JSON.stringify(record));
    return BigInt(put.header.revision);
  }

  /** Gives a partition's markets up: deletes the ownership keys that are still ours. */
  private async release(state: PartitionState): Promise<void> {
    const { etcd, names, instanceId, log } = this.options;
    state.status = "failed";
    await state.producer?.disconnect().catch(() => undefined);
    for (const symbol of state.markets.keys()) {
      this.publisher.forget(symbol);
      const key = names.etcd.marketOwner(symbol);
      try {
        const value = await etcd.get(key).string();
        if (value !== null && (JSON.parse(value) as OwnerRecord).instance === instanceId) {
          await etcd.if(key, "Value", "==", value).then(etcd.delete().key(key)).commit();
        }
      } catch (error) {
        log.warn({ err: error, market: symbol }, "could not release market ownership");
      }
    }
    this.updateOwnedGauge();
  }

  private updateOwnedGauge() {
    let count = 0;
    engineMetrics.owner.reset();
    for (const state of this.partitions.values()) {
      if (state.status !== "live") continue;
      count += state.markets.size;
      for (const [market, owned] of state.markets) {
        engineMetrics.owner.set({ market, epoch: owned.epoch.toString() }, 1);
      }
    }
    engineMetrics.ownedMarkets.set(count);
  }

  // ------------------------------------------------------------------ commands

  private async onBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload) {
    const state = this.partitions.get(batch.partition);
    if (state?.status !== "live" || this.stopping || !state.producer) return;
    const { log } = this.options;
    const started = performance.now();
    const outputs: EventMessage[] = [];
    const touched = new Set<string>();
    /** Markets whose feed changed with a live command: published after the loop. */
    const published = new Map<string, number[]>();
    let last: bigint | null = null;
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || state.status !== "live") break;
        const offset = BigInt(message.offset);
        last = offset;
        const decoded = decodeCommand(message.value);
        const symbol = decoded.ok
          ? decoded.message.market
          : (decoded.market ?? message.key?.toString());
        const owned = symbol ? await this.market(state, symbol) : undefined;
        if (!symbol || !owned) {
          log.error(
            { partition: batch.partition, offset: message.offset, key: message.key?.toString() },
            "command for an unknown market dropped",
          );
          continue;
        }
        if (offset <= owned.snapshotOffset) continue;
        const live = offset >= state.committed;
        const mode = live ? "live" : "replay";
        if (!decoded.ok) {
          log.error(
            { market: symbol, offset: message.offset, problem: decoded.problem },
            "command did not decode; the engine rejects it",
          );
        }
        const input: CommandInput = {
          commandId: message.headers?.[COMMAND_HEADERS.outboxId]?.toString() ?? null,
          command: decoded.ok ? decoded.message.command : null,
          messageTime: Number(message.timestamp),
          partition: batch.partition,
          offset: message.offset,
        };
        const began = live ? performance.now() : 0;
        const applied = owned.hosted.apply(input, owned.epoch);
        if (live) engineMetrics.commandSeconds.observe((performance.now() - began) / 1000);
        const outcome = !decoded.ok ? "undecodable" : applied.kind;
        engineMetrics.commands.inc({ market: symbol, mode, outcome });
        if (applied.kind === "duplicate") {
          log.warn({ market: symbol, commandId: input.commandId }, "duplicate command dropped");
          continue;
        }
        owned.sinceSnapshot += 1;
        touched.add(symbol);
        const folded = owned.feed.apply(applied.message);
        if (folded === "gap") {
          marketDataMetrics.stopped.set({ market: symbol }, 1);
          log.error(
            { market: symbol, ...owned.feed.gap, offset: message.offset },
            "market data stopped a market: its events skip sequence numbers",
          );
        }
        if (live) {
          outputs.push(applied.message);
          if (folded === "applied") {
            const times = published.get(symbol) ?? [];
            times.push(applied.message.time);
            published.set(symbol, times);
          }
        } else {
          engineMetrics.replayed.inc({ market: symbol });
        }
      }
      if (last === null) return;
      // What the batch changed goes to the sockets now; its events follow to Kafka.
      const now = Date.now();
      for (const [symbol, times] of published) {
        const feed = state.markets.get(symbol)?.feed;
        if (feed) this.publisher.publish(feed, now, times);
      }
      if (outputs.length > 0) {
        const messages = outputs.map((m) => ({
          key: m.market,
          value: encodeEvents(m),
          ...(m.commandId ? { headers: { [COMMAND_HEADERS.outboxId]: m.commandId } } : {}),
        }));
        // The broker refuses a record batch over its max message size (1 MiB by default).
        for (const chunk of byteChunks(messages, MAX_SEND_BYTES)) {
          await state.producer.send({
            topic: this.options.names.kafka.events.topic,
            acks: -1,
            messages: chunk,
          });
        }
        engineMetrics.batchSeconds.observe((performance.now() - started) / 1000);
      }
      state.position = last;
      // Acknowledged: the offset may be committed (at the next commit interval).
      if (last + 1n > state.acknowledged) state.acknowledged = last + 1n;
      resolveOffset(last.toString());
    } catch (error) {
      // The engines may hold commands whose events were never acknowledged: rebuild them.
      log.error({ err: error, partition: batch.partition }, "engine batch failed");
      if (this.partitions.get(batch.partition) === state && !this.stopping) {
        void this.retakeover(batch.partition, "batch failed");
      }
      return;
    }
    for (const symbol of touched) {
      const owned = state.markets.get(symbol);
      if (!owned) continue;
      engineMetrics.seq.set({ market: symbol }, owned.hosted.engine.seq);
      if (owned.haltRequested !== null && owned.hosted.halted === owned.haltRequested) {
        owned.haltRequested = null;
      }
      if (owned.sinceSnapshot >= this.options.snapshotEvery) {
        // The state is exactly the commands up to `last`, every one acknowledged: safe to snapshot.
        void this.snapshot(symbol, owned, state, "interval").catch((error: unknown) =>
          log.error({ err: error, market: symbol }, "snapshot failed"),
        );
      }
    }
  }

  /** The market's state in this partition, created on its first command if it is new. */
  private async market(state: PartitionState, symbol: string): Promise<OwnedMarket | undefined> {
    const existing = state.markets.get(symbol);
    if (existing) return existing;
    if (partitionForKey(this.topic, symbol, this.numPartitions) !== state.partition) {
      return undefined;
    }
    // A market created after the takeover: nothing of it can be before the committed offset
    // except what the takeover would have found, so it starts from its snapshot or empty.
    const { db, log } = this.options;
    const rules = (await loadMarketRules(db, [symbol])).get(symbol);
    const start = (await loadMarketStarts(db, [symbol], Date.now())).get(symbol);
    if (!rules || !start) return undefined;
    const stored = (await loadLatestSnapshots(db, [symbol])).get(symbol);
    const hosted = stored
      ? HostedMarket.restore(stored.state)
      : HostedMarket.fresh(listingMarketConfig(rules));
    const owned: OwnedMarket = {
      hosted,
      feed: new MarketFeed(start.market, feedStart(start, hosted, stored, log)),
      snapshotOffset: stored?.inputOffset ?? -1n,
      epoch: await this.claim(symbol, state.partition),
      sinceSnapshot: 0,
      haltRequested: null,
    };
    state.markets.set(symbol, owned);
    this.updateOwnedGauge();
    void this.publisher.writeNow(owned.feed);
    return owned;
  }

  private async snapshot(
    symbol: string,
    owned: OwnedMarket,
    partition: PartitionState,
    trigger: "interval" | "shutdown",
  ) {
    // Taken synchronously, so the state and its offset belong together.
    const inputOffset =
      partition.position > owned.snapshotOffset ? partition.position : owned.snapshotOffset;
    if (inputOffset < 0n || owned.sinceSnapshot === 0) return;
    const state = owned.hosted.snapshot();
    owned.sinceSnapshot = 0;
    await saveSnapshot(this.options.db, {
      market: symbol,
      seq: BigInt(state.engine.seq),
      inputOffset,
      state,
    });
    owned.snapshotOffset = owned.snapshotOffset > inputOffset ? owned.snapshotOffset : inputOffset;
    engineMetrics.snapshots.inc({ market: symbol, trigger });
  }

  // ------------------------------------------------------------------ halts

  /**
   * A halt lives in etcd; the engine learns it through its own log, so that a replay halts
   * at the same point. The owner of a market whose engine disagrees with etcd appends the
   * halt or resume command to the market's orders partition.
   */
  private reconcileHalt(symbol: string) {
    for (const state of this.partitions.values()) {
      const owned = state.status === "live" ? state.markets.get(symbol) : undefined;
      if (!owned) continue;
      const wanted = this.options.config.isHalted(symbol);
      if (owned.hosted.halted === wanted || owned.haltRequested === wanted) return;
      owned.haltRequested = wanted;
      const message = haltCommand(symbol, wanted, Date.now());
      void this.haltProducer
        ?.send({
          topic: this.topic,
          acks: -1,
          messages: [{ key: symbol, value: encodeCommand(message) }],
        })
        .then(() =>
          this.options.log.info({ market: symbol, halted: wanted }, "halt command appended"),
        )
        .catch((error: unknown) => {
          owned.haltRequested = null;
          this.options.log.error(
            { err: error, market: symbol },
            "could not append the halt command",
          );
        });
      return;
    }
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Where a market's feed starts. Normally where settlement left the market (its replay then
 * brings every later event). When the engine starts from a snapshot past that point (settlement
 * far behind), the events in between will not be replayed: the feed starts at the snapshot
 * instead, with its book from the snapshot's engine and its trades, candles and 24 h window from
 * PostgreSQL — which lacks the trades settlement has not applied yet, until they age out.
 */
function feedStart(
  start: MarketStart,
  hosted: HostedMarket,
  stored: StoredSnapshot | undefined,
  log: Logger,
): FeedBootstrap {
  // Applied in-process, the events cannot be a zombie's: the feed takes every epoch.
  const bootstrap = { ...start.bootstrap, epoch: 0n };
  if (stored === undefined || Number(stored.seq) <= start.bootstrap.seq) return bootstrap;
  log.warn(
    { market: start.market.symbol, settled: start.bootstrap.seq, snapshot: stored.seq.toString() },
    "settlement is behind every kept snapshot: market data starts at the snapshot, its 24 h figures without the trades in between",
  );
  const depth = hosted.engine.depth();
  return {
    ...bootstrap,
    seq: hosted.engine.seq,
    levels: [
      ...depth.bids.map(([price, lots]) => ({ side: "buy" as const, price, lots })),
      ...depth.asks.map(([price, lots]) => ({ side: "sell" as const, price, lots })),
    ],
  };
}
