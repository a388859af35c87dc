// Settlement: applies the engine's events to PostgreSQL — trades become balanced transfers,
// orders get their fills and endings, unused holds are released — through the ledger's
// applySettlementBatch, one transaction per market and batch, with the market's last applied
// sequence (and the owner's epoch) in that same transaction. Redelivery is therefore a no-op;
// a gap, or an event the ledger refuses, stops that market's settlement and raises an alarm
// (metric, /ready, an error log) instead of guessing. Other markets go on.
// Each batch goes through the PostgreSQL pipeline breaker: closed, it changes nothing (no
// timeout, errors unchanged); open, a batch fails at once and is redelivered like any transient
// failure, and the breaker's state is on /metrics for the console's guards page.
import {
  applySettlementBatch,
  type Database,
  isLedgerError,
  type SettlementChanges,
  type SettlementEvent,
} from "@spotx/db";
import { processSingleton } from "@spotx/platform";
import { pipelineBreakers } from "@spotx/platform/breakers";
import type { Consumer, EachBatchPayload, Kafka } from "@spotx/platform/kafka";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { Topology } from "@spotx/platform/topology";
import { decodeEvents, type EventMessage } from "@spotx/protocol";

export const settlementMetrics = processSingleton("settlement.metrics", () => ({
  events: new prometheus.Counter({
    name: "spotx_settlement_events_total",
    help: "Engine events seen by settlement (outcome=applied|replayed|stale_epoch|stopped)",
    labelNames: ["market", "outcome"] as const,
    registers: [metrics.registry],
  }),
  batchSeconds: new prometheus.Histogram({
    name: "spotx_settlement_batch_seconds",
    help: "Time to apply one market's batch in PostgreSQL",
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  }),
  lagMs: new prometheus.Gauge({
    name: "spotx_settlement_lag_ms",
    help: "How far behind the engine the last applied event of a market was (now − command time)",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
  lastSeq: new prometheus.Gauge({
    name: "spotx_settlement_last_seq",
    help: "The last engine sequence number applied to PostgreSQL, per market",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
  stopped: new prometheus.Gauge({
    name: "spotx_settlement_stopped",
    help: "1 while a market's settlement is stopped (a sequence gap or a refused event) — an alarm",
    labelNames: ["market"] as const,
    registers: [metrics.registry],
  }),
}));

// ------------------------------------------------------------------------ the pure part

/** The settlement events of one events-topic message. */
export function settlementEvents(message: EventMessage): SettlementEvent[] {
  return message.events.map((event): SettlementEvent => {
    const seq = BigInt(event.seq);
    switch (event.type) {
      case "accepted":
        return { kind: "order_accepted", seq, orderId: BigInt(event.orderId) };
      case "rejected":
        // A refused place ends its order; a refused amend returns what its request reserved; a
        // refused cancel changes nothing. A duplicate id means the order is live in the book:
        // releasing its hold would spend it twice.
        if (event.command === "amend" && event.orderId > 0) {
          return { kind: "amend_rejected", seq, orderId: BigInt(event.orderId) };
        }
        return event.command === "place" && event.reason !== "DUPLICATE_ORDER_ID"
          ? { kind: "order_rejected", seq, orderId: BigInt(event.orderId), reason: event.reason }
          : { kind: "noop", seq };
      case "fired":
        return { kind: "price_order_fired", seq, priceOrderId: BigInt(event.triggerId) };
      case "delisted":
        return { kind: "market_delisted", seq };
      case "rulesChanged":
        return {
          kind: "market_rules",
          seq,
          priceStepTicks: BigInt(event.priceStep),
          amountStepLots: BigInt(event.quantityStep),
          minBaseLots: BigInt(event.minQuantity),
          minQuoteAmount: BigInt(event.minNotional),
          priceBandBps: event.priceBandBps,
          makerFeePpm: event.makerFeePpm,
          takerFeePpm: event.takerFeePpm,
        };
      case "amended":
        return {
          kind: "order_amended",
          seq,
          orderId: BigInt(event.orderId),
          priceTicks: BigInt(event.price),
          leftLots: BigInt(event.quantity),
        };
      case "trade":
        return {
          kind: "trade",
          seq,
          tradeId: seq,
          makerOrderId: BigInt(event.makerOrderId),
          takerOrderId: BigInt(event.takerOrderId),
          makerUserId: BigInt(event.makerUserId),
          takerUserId: BigInt(event.takerUserId),
          takerSide: event.takerSide,
          priceTicks: BigInt(event.price),
          qtyLots: BigInt(event.quantity),
          quoteAmount: BigInt(event.quoteAmount),
          time: new Date(event.time),
        };
      case "cancelled":
        return event.finishAs === "filled"
          ? {
              kind: "order_finished",
              seq,
              orderId: BigInt(event.orderId),
              finishAs: "filled",
              status: "closed",
            }
          : {
              kind: "order_finished",
              seq,
              orderId: BigInt(event.orderId),
              finishAs: event.finishAs,
            };
      default:
        return { kind: "noop", seq };
    }
  });
}

export type MarketRun = {
  market: string;
  epoch: bigint;
  events: SettlementEvent[];
  /** Offsets of the messages in the run, ascending. */
  firstOffset: bigint;
  lastOffset: bigint;
  /** The newest command time in the run (ms), for the lag metric. */
  lastTime: number;
};

/**
 * Splits a partition's messages into runs applied one transaction each: one market at a time,
 * in the order its messages came, a new run wherever the epoch changes (a new owner).
 */
export function planRuns(
  messages: ReadonlyArray<{ offset: bigint; message: EventMessage }>,
  maxEvents = 2_000,
): MarketRun[] {
  const runs: MarketRun[] = [];
  const open = new Map<string, MarketRun>();
  for (const { offset, message } of messages) {
    const epoch = BigInt(message.epoch);
    let run = open.get(message.market);
    if (!run || run.epoch !== epoch || run.events.length >= maxEvents) {
      run = {
        market: message.market,
        epoch,
        events: [],
        firstOffset: offset,
        lastOffset: offset,
        lastTime: message.time,
      };
      runs.push(run);
      open.set(message.market, run);
    }
    run.events.push(...settlementEvents(message));
    run.lastOffset = offset;
    run.lastTime = Math.max(run.lastTime, message.time);
  }
  return runs;
}

// ------------------------------------------------------------------------ the shell

export type SettlementOptions = {
  kafka: Kafka;
  db: Database;
  names: Topology;
  log: Logger;
  /** Called after each applied run, e.g. to push the users' updates. Must not throw. */
  onApplied?: (market: string, changes: SettlementChanges) => void | Promise<void>;
};

type Stop = { reason: string; since: string; partition: number; offset: bigint };

export class SettlementConsumer {
  private consumer: Consumer | undefined;
  private readonly stops = new Map<string, Stop>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: SettlementOptions) {}

  /** Markets whose settlement is stopped, with why: /ready reports not ready while any is. */
  stopped(): Array<{ market: string } & Stop> {
    return [...this.stops].map(([market, stop]) => ({ market, ...stop }));
  }

  async start(): Promise<void> {
    const { kafka, names } = this.options;
    const consumer = kafka.consumer({
      groupId: names.kafka.groups.settlement,
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
      readUncommitted: false,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      // Stops belong to the partition's consumer: a new owner re-reads from the committed
      // offset, which never passes a stopped market's first unapplied message.
      const mine = new Set(event.payload.memberAssignment[names.kafka.events.topic] ?? []);
      for (const [market, stop] of this.stops) {
        if (!mine.has(stop.partition)) {
          this.stops.delete(market);
          settlementMetrics.stopped.set({ market }, 0);
        }
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic: names.kafka.events.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: names.kafka.events.numPartitions,
      eachBatch: (payload) => this.track(this.onBatch(payload)),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async onBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload) {
    const { log, db } = this.options;
    const decoded: Array<{ offset: bigint; message: EventMessage }> = [];
    for (const raw of batch.messages) {
      const result = decodeEvents(raw.value);
      if (result.ok) {
        decoded.push({ offset: BigInt(raw.offset), message: result.message });
      } else {
        log.error(
          { partition: batch.partition, offset: raw.offset, problem: result.problem },
          "events message did not decode; skipped",
        );
      }
    }
    const last = batch.messages[batch.messages.length - 1];
    if (!last) return;

    for (const run of planRuns(decoded)) {
      if (!isRunning() || isStale()) return;
      if (this.stops.has(run.market)) {
        settlementMetrics.events.inc({ market: run.market, outcome: "stopped" }, run.events.length);
        continue;
      }
      const started = performance.now();
      let result: Awaited<ReturnType<typeof applySettlementBatch>>;
      try {
        result = await pipelineBreakers.postgres.run(() =>
          applySettlementBatch(db, run.market, run.events, {
            epoch: run.epoch,
            offset: run.lastOffset,
          }),
        );
      } catch (error) {
        if (!isLedgerError(error) && !isInvariantBreak(error)) throw error; // transient: redeliver
        this.halt(run, batch.partition, describe(error));
        continue;
      }
      settlementMetrics.batchSeconds.observe((performance.now() - started) / 1000);
      if (!result.ok && result.error === "STALE_EPOCH") {
        log.warn(
          {
            market: run.market,
            epoch: result.gotEpoch.toString(),
            current: result.lastEpoch.toString(),
          },
          "events from an older engine owner ignored",
        );
        settlementMetrics.events.inc(
          { market: run.market, outcome: "stale_epoch" },
          run.events.length,
        );
        continue;
      }
      if (!result.ok) {
        this.halt(
          run,
          batch.partition,
          `sequence gap: after ${result.lastSeq} expected ${result.expectedSeq}, got ${result.gotSeq}`,
        );
        continue;
      }
      settlementMetrics.events.inc({ market: run.market, outcome: "applied" }, result.applied);
      settlementMetrics.events.inc({ market: run.market, outcome: "replayed" }, result.skipped);
      settlementMetrics.lastSeq.set({ market: run.market }, Number(result.lastSeq));
      settlementMetrics.lagMs.set({ market: run.market }, Math.max(0, Date.now() - run.lastTime));
      if (result.applied > 0 && this.options.onApplied) {
        try {
          await this.options.onApplied(run.market, result.changes);
        } catch (error) {
          log.warn({ err: error, market: run.market }, "publishing settled changes failed");
        }
      }
    }

    // Never commit past a stopped market's first unapplied message: after a restart it is
    // read (and refused, or applied once fixed) again; the other markets' events in between
    // are sequence-checked no-ops.
    let commit = BigInt(last.offset) + 1n;
    for (const stop of this.stops.values()) {
      if (stop.partition === batch.partition && stop.offset < commit) commit = stop.offset;
    }
    await this.consumer?.commitOffsets([
      {
        topic: this.options.names.kafka.events.topic,
        partition: batch.partition,
        offset: commit.toString(),
      },
    ]);
    resolveOffset(last.offset);
  }

  private halt(run: MarketRun, partition: number, reason: string) {
    const stop: Stop = {
      reason,
      since: new Date().toISOString(),
      partition,
      offset: run.firstOffset,
    };
    this.stops.set(run.market, stop);
    settlementMetrics.stopped.set({ market: run.market }, 1);
    this.options.log.error(
      { market: run.market, partition, offset: run.firstOffset.toString(), reason },
      "settlement of the market is stopped: an operator must look at it",
    );
  }
}

/** The ledger throws a plain Error for a broken invariant: a bug to stop on, never to retry. */
function isInvariantBreak(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("ledger invariant broken");
}

function describe(error: unknown): string {
  if (isLedgerError(error)) return `${error.label}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
