// One phase of load: an open-loop stream of traders' commands at a fixed rate, and what the
// pipeline did with it — acks, how far settlement trailed placement (the oldest order still
// `pending` in PostgreSQL, sampled twice a second), how long it took to drain afterwards, the
// CPU each process used and each stage's own metrics over the phase.
import type { Database } from "@spotx/db";
import { sql } from "drizzle-orm";
import type { CpuMeter, CpuReport } from "./cpu";
import { type OpenLoopReport, runOpenLoop } from "./open-loop";
import { type PgWaitReport, PgWaitSampler } from "./pg-waits";
import {
  type HistogramDelta,
  histogramDelta,
  type Scrape,
  scrapeHttp,
  scrapeSelf,
  total,
} from "./prometheus";
import type { SettleWatch } from "./settle-watch";
import { type LatencySummary, nowMs, round, Samples } from "./stats";
import { MARKETS, type OpOutcome, type TraderPool } from "./traders";

export type PipelineState = {
  /** Orders placed (committed) whose engine answer is not yet settled. */
  pending: number;
  /** Age of the oldest of them (0 when none). */
  oldestPendingMs: number;
  /** Outbox rows (placements and cancels) not yet published to Kafka. */
  outboxUnsent: number;
};

const marketList = MARKETS.map((m) => m.symbol);

export async function pipelineState(db: Database): Promise<PipelineState> {
  const found = await db.execute<{ pending: bigint; oldest_ms: number | null; unsent: bigint }>(sql`
    SELECT count(*)::int8 AS pending,
           (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::float8 AS oldest_ms,
           (SELECT count(*)::int8 FROM outbox WHERE sent_at IS NULL) AS unsent
      FROM orders
     WHERE market = ANY(${sql.param(marketList)}::text[]) AND status = 'pending'`);
  const row = found.rows[0];
  return {
    pending: Number(row?.pending ?? 0n),
    oldestPendingMs: Math.max(0, Math.round(row?.oldest_ms ?? 0)),
    outboxUnsent: Number(row?.unsent ?? 0n),
  };
}

export type StageFigures = {
  placement_batch_ms: HistogramDelta | null;
  placement_batch_size_mean: number | null;
  cancel_batch_ms: HistogramDelta | null;
  cancel_batch_size_mean: number | null;
  outbox_produce_ms: HistogramDelta | null;
  engine_batch_ms: HistogramDelta | null;
  engine_command_us: HistogramDelta | null;
  settlement_batch_ms: HistogramDelta | null;
  socket_fanout_ms: HistogramDelta | null;
  outbox_published: number;
  engine_commands: number;
  settlement_events_applied: number;
  socket_fanout_messages: number;
  /** The worker's ledger reconciliation (a full scan, every 60 s by default) during the phase. */
  reconciliation_runs: number;
  reconciliation_last_s: number | null;
  /** At the phase's end. */
  settlement_lag_ms_max: number;
  consumer_lag: Record<string, number>;
};

export type PhaseReport = {
  name: string;
  offered_per_sec: number;
  seconds: number;
  loop: OpenLoopReport;
  placed: number;
  placed_per_sec: number;
  cancels: number;
  /** Cancels refused because the order had already ended (filled): answered, nothing queued. */
  cancels_already_closed: number;
  /** Refusals other than that, by label. */
  refused: Record<string, number>;
  accepted_ops_per_sec: number;
  ack: LatencySummary;
  cancel_ack: LatencySummary;
  settled_per_sec: number;
  oldest_pending_max_ms: number;
  oldest_pending_end_ms: number;
  pending_end: number;
  outbox_unsent_max: number;
  /** From the end of the schedule until no placed order was pending (null: not within grace). */
  drain_ms: number | null;
  sustained: boolean;
  why_not: string[];
  cpu: CpuReport;
  stages: StageFigures;
  /** What the database's backends were doing during the phase. */
  pg_waits: PgWaitReport;
};

export type PhaseContext = {
  pool: TraderPool;
  observer: Database;
  cpu: CpuMeter;
  workerPort: number;
  maxInFlight: number;
};

export type PhaseOptions = {
  name: string;
  rate: number;
  seconds: number;
  probeShare?: number;
  watch?: SettleWatch;
  /** Filled with each probe's placement time (−1 when refused), by probe number. */
  probes?: number[];
  graceMs?: number;
  /** Called with each outcome (for a caller that keeps its own records). */
  onOutcome?: (outcome: OpOutcome) => void;
};

/** A phase is sustained when the load went out as offered and settlement kept up with it. */
const BOUNDED_LAG_MS = 2_000;

export async function runPhase(ctx: PhaseContext, options: PhaseOptions): Promise<PhaseReport> {
  const { pool, observer, cpu } = ctx;
  const graceMs = options.graceMs ?? 5_000;
  const ack = new Samples(options.rate * options.seconds);
  const cancelAck = new Samples(options.rate * options.seconds);
  const refused: Record<string, number> = {};
  let placed = 0;
  let cancels = 0;
  let alreadyClosed = 0;

  const before = await scrapeAll(ctx.workerPort);
  const cpuBefore = cpu.sample();
  let oldestMax = 0;
  let unsentMax = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const state = await pipelineState(observer).catch(() => null);
      if (state) {
        oldestMax = Math.max(oldestMax, state.oldestPendingMs);
        unsentMax = Math.max(unsentMax, state.outboxUnsent);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();

  const waits = new PgWaitSampler(observer);
  waits.start();
  pool.probeShare = options.probeShare ?? 0;
  const loop = await runOpenLoop({
    rate: options.rate,
    durationMs: options.seconds * 1_000,
    maxInFlight: ctx.maxInFlight,
    issue: async () => {
      const outcome = await pool.act();
      options.onOutcome?.(outcome);
      const took = outcome.doneMs - outcome.calledMs;
      if (outcome.kind === "cancel") {
        if (outcome.error === null) {
          cancels += 1;
          cancelAck.add(took);
        } else if (outcome.error === "ORDER_CLOSED") {
          alreadyClosed += 1;
        } else {
          refused[outcome.error] = (refused[outcome.error] ?? 0) + 1;
        }
        return;
      }
      if (outcome.probe !== null && options.probes) {
        options.probes[outcome.probe] = outcome.error === null ? outcome.calledMs : -1;
      }
      if (outcome.error !== null || outcome.orderId === null) {
        const label = outcome.error ?? "no order";
        refused[label] = (refused[label] ?? 0) + 1;
        return;
      }
      placed += 1;
      ack.add(took);
      options.watch?.track(outcome.orderId, outcome.calledMs);
    },
  });
  pool.probeShare = 0;
  const scheduleEnd = nowMs();
  const endState = await pipelineState(observer);
  const cpuAfter = cpu.sample();
  const after = await scrapeAll(ctx.workerPort);
  const pgWaits = await waits.stop();
  sampling = false;
  await sampler;

  // Drain: everything placed in the phase settled, before the next phase starts.
  let drainMs: number | null = null;
  let state = endState;
  for (;;) {
    if (state.pending === 0) {
      drainMs = Math.round(nowMs() - scheduleEnd);
      break;
    }
    if (nowMs() - scheduleEnd > graceMs) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await pipelineState(observer);
  }
  if (drainMs === null) {
    // Not within the grace: wait longer (uncounted) so the next phase starts clean.
    const deadline = nowMs() + 120_000;
    while (state.pending > 0 && nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = await pipelineState(observer);
    }
  }

  const seconds = loop.duration_s;
  const settled = placed - endState.pending;
  const refusedTotal = Object.values(refused).reduce((a, b) => a + b, 0);
  const whyNot: string[] = [];
  if (loop.issued_per_sec < options.rate * 0.95) {
    whyNot.push(`generator issued ${loop.issued_per_sec}/s of ${options.rate}/s`);
  }
  if (loop.late_p99_ms > 100) whyNot.push(`commands started late (p99 ${loop.late_p99_ms} ms)`);
  if (refusedTotal > loop.issued * 0.01) whyNot.push(`${refusedTotal} commands refused`);
  if (endState.oldestPendingMs > BOUNDED_LAG_MS) {
    whyNot.push(`oldest unsettled order ${endState.oldestPendingMs} ms old at the end`);
  }
  if (drainMs === null) whyNot.push(`not drained ${graceMs / 1000} s after the end`);

  return {
    name: options.name,
    offered_per_sec: options.rate,
    seconds,
    loop,
    placed,
    placed_per_sec: Math.round(placed / seconds),
    cancels,
    cancels_already_closed: alreadyClosed,
    refused,
    accepted_ops_per_sec: Math.round((placed + cancels) / seconds),
    ack: ack.summary(),
    cancel_ack: cancelAck.summary(),
    settled_per_sec: Math.round(settled / seconds),
    oldest_pending_max_ms: Math.max(oldestMax, endState.oldestPendingMs),
    oldest_pending_end_ms: endState.oldestPendingMs,
    pending_end: endState.pending,
    outbox_unsent_max: Math.max(unsentMax, endState.outboxUnsent),
    drain_ms: drainMs,
    sustained: whyNot.length === 0,
    why_not: whyNot,
    cpu: cpu.between(cpuBefore, cpuAfter),
    stages: stageFigures(before, after),
    pg_waits: pgWaits,
  };
}

type Scrapes = { worker: Scrape; self: Scrape };

async function scrapeAll(workerPort: number): Promise<Scrapes> {
  const [worker, self] = await Promise.all([scrapeHttp(workerPort), scrapeSelf()]);
  return { worker, self };
}

function stageFigures(before: Scrapes, after: Scrapes): StageFigures {
  const w = (name: string, scale = 1) => histogramDelta(before.worker, after.worker, name, scale);
  const sizeCount =
    total(after.self, "spotx_placement_batch_size_count") -
    total(before.self, "spotx_placement_batch_size_count");
  const sizeSum =
    total(after.self, "spotx_placement_batch_size_sum") -
    total(before.self, "spotx_placement_batch_size_sum");
  const cancelCount =
    total(after.self, "spotx_cancel_batch_size_count") -
    total(before.self, "spotx_cancel_batch_size_count");
  const cancelSum =
    total(after.self, "spotx_cancel_batch_size_sum") -
    total(before.self, "spotx_cancel_batch_size_sum");
  const counter = (name: string, where: Record<string, string> = {}) =>
    total(after.worker, name, where) - total(before.worker, name, where);
  const lag: Record<string, number> = {};
  for (const s of after.worker) {
    if (s.name !== "spotx_kafka_consumer_lag") continue;
    const group = (s.labels.group ?? "?").split(".").pop() ?? "?";
    lag[group] = (lag[group] ?? 0) + s.value;
  }
  let lagMs = 0;
  for (const s of after.worker) {
    if (s.name === "spotx_settlement_lag_ms") lagMs = Math.max(lagMs, s.value);
  }
  return {
    placement_batch_ms: histogramDelta(
      before.self,
      after.self,
      "spotx_placement_batch_seconds",
      1_000,
    ),
    placement_batch_size_mean: sizeCount > 0 ? round(sizeSum / sizeCount, 1) : null,
    cancel_batch_ms: histogramDelta(before.self, after.self, "spotx_cancel_batch_seconds", 1_000),
    cancel_batch_size_mean: cancelCount > 0 ? round(cancelSum / cancelCount, 1) : null,
    outbox_produce_ms: w("spotx_outbox_produce_seconds", 1_000),
    engine_batch_ms: w("spotx_engine_batch_seconds", 1_000),
    engine_command_us: w("spotx_engine_command_seconds", 1_000_000),
    settlement_batch_ms: w("spotx_settlement_batch_seconds", 1_000),
    socket_fanout_ms: w("spotx_socket_fanout_latency_ms"),
    outbox_published: counter("spotx_outbox_published_total"),
    engine_commands: counter("spotx_engine_commands_total", { mode: "live" }),
    settlement_events_applied: counter("spotx_settlement_events_total", { outcome: "applied" }),
    socket_fanout_messages: counter("spotx_socket_fanout_total"),
    reconciliation_runs:
      counter("spotx_reconciliation_runs_total") -
      counter("spotx_reconciliation_runs_total", { outcome: "skipped" }),
    reconciliation_last_s:
      total(after.worker, "spotx_reconciliation_last_duration_seconds") || null,
    settlement_lag_ms_max: lagMs,
    consumer_lag: lag,
  };
}
