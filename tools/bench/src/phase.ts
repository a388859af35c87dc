// One phase of load: an open-loop stream of traders' commands at a fixed rate, through one
// front door (a LoadDriver: the placement service in this process, or the gate.io REST API
// from the generator processes), and what the pipeline did with it — acks, placement →
// settled per order, how far settlement trailed placement (the oldest order still `pending`
// in PostgreSQL, sampled twice a second), how long it took to drain afterwards, the CPU each
// process used (and per order operation) and each stage's own metrics over the phase.
import type { Database } from "@spotx/db";
import { sql } from "drizzle-orm";
import { type CpuMeter, type CpuPerOperation, type CpuReport, cpuPerOperation } from "./cpu";
import type { LoadDriver } from "./load-driver";
import type { OpenLoopReport } from "./open-loop";
import { type ConnectionOwner, type PgWaitReport, PgWaitSampler } from "./pg-waits";
import {
  type HistogramDelta,
  histogramDelta,
  type Scrape,
  scrapeHttp,
  scrapeSelf,
  total,
} from "./prometheus";
import { SettleWatch } from "./settle-watch";
import { type LatencySummary, nowMs, round } from "./stats";
import { MARKETS } from "./traders";

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
  /** The web server's own time per gate.io API request (its /metrics; HTTP phases). */
  gate_request_ms: HistogramDelta | null;
  /** Requests the rate limiter refused during the phase (must stay 0: the bench raised them). */
  rate_limit_rejections: number;
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
  /** Which front door carried the load. */
  door: LoadDriver["door"];
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
  /** Placements: due time on the schedule → answer (coordinated omission not hidden). */
  ack: LatencySummary;
  /** Placements: call (request sent) → answer. */
  ack_service: LatencySummary;
  /** Cancels: due time → answer (through HTTP, gate.io's DELETE waits for settlement). */
  cancel_ack: LatencySummary;
  cancel_service: LatencySummary;
  /** Placement call → settlement's announcement, per order. */
  settle: LatencySummary;
  /** Placed orders never announced nor seen settled before the phase gave up waiting. */
  settle_unsettled: number;
  settle_watch: { announcements: number; missed_announcements: number };
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
  /** The CPU above divided by the phase's order operations. */
  cpu_per_op: CpuPerOperation;
  stages: StageFigures;
  /** What the database's backends were doing during the phase. */
  pg_waits: PgWaitReport;
};

export type PhaseContext = {
  observer: Database;
  cpu: CpuMeter;
  workerPort: number;
  webPort: number;
  /** The apps' processes, whose PostgreSQL connections are told apart by client port. */
  apps: ConnectionOwner[];
  maxInFlight: number;
  /** Where settlement announces settled orders (Redis pub/sub). */
  redisUrl: string;
  settledChannel: string;
};

export type PhaseOptions = {
  name: string;
  rate: number;
  seconds: number;
  probeShare?: number;
  /** Filled with each probe's placement time (−1 when refused), by probe number. */
  probes?: number[];
  graceMs?: number;
};

/** A phase is sustained when the load went out as offered and settlement kept up with it. */
const BOUNDED_LAG_MS = 2_000;

export async function runPhase(
  ctx: PhaseContext,
  driver: LoadDriver,
  options: PhaseOptions,
): Promise<PhaseReport> {
  const { observer, cpu } = ctx;
  const graceMs = options.graceMs ?? 5_000;
  const watch = new SettleWatch(observer, ctx.redisUrl, ctx.settledChannel);
  await watch.start();

  const before = await scrapeAll(ctx);
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

  const waits = new PgWaitSampler(observer, ctx.apps);
  waits.start();
  const { loop, tally } = await driver.run({
    rate: options.rate,
    seconds: options.seconds,
    maxInFlight: ctx.maxInFlight,
    probeShare: options.probeShare ?? 0,
    probes: options.probes,
    onPlaced: (orderId, calledMs) => watch.track(orderId, calledMs),
  });
  const scheduleEnd = nowMs();
  const endState = await pipelineState(observer);
  const cpuAfter = cpu.sample();
  const after = await scrapeAll(ctx);
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
  // The announcements of the last orders (or the poll's finding of a lost one).
  const unsettled = await watch.drain(5_000);
  await watch.stop();

  const seconds = loop.duration_s;
  const placed = tally.placed;
  const settled = placed - endState.pending;
  const refusedTotal = tally.refusedTotal;
  const whyNot: string[] = [];
  if (loop.issued_per_sec < options.rate * 0.95) {
    whyNot.push(`generator issued ${loop.issued_per_sec}/s of ${options.rate}/s`);
  }
  if (loop.not_issued > 0) whyNot.push(`${loop.not_issued} commands never issued`);
  if (loop.late_p99_ms > 100) whyNot.push(`commands started late (p99 ${loop.late_p99_ms} ms)`);
  if (refusedTotal > loop.issued * 0.01) whyNot.push(`${refusedTotal} commands refused`);
  if (endState.oldestPendingMs > BOUNDED_LAG_MS) {
    whyNot.push(`oldest unsettled order ${endState.oldestPendingMs} ms old at the end`);
  }
  if (drainMs === null) whyNot.push(`not drained ${graceMs / 1000} s after the end`);
  const cpuReport = cpu.between(cpuBefore, cpuAfter);

  return {
    name: options.name,
    door: driver.door,
    offered_per_sec: options.rate,
    seconds,
    loop,
    placed,
    placed_per_sec: Math.round(placed / seconds),
    cancels: tally.cancels,
    cancels_already_closed: tally.alreadyClosed,
    refused: tally.refused,
    accepted_ops_per_sec: Math.round((placed + tally.cancels) / seconds),
    ack: tally.ack.summary(),
    ack_service: tally.ackService.summary(),
    cancel_ack: tally.cancelAck.summary(),
    cancel_service: tally.cancelService.summary(),
    settle: watch.latencies.summary(),
    settle_unsettled: unsettled,
    settle_watch: watch.stats(),
    settled_per_sec: Math.round(settled / seconds),
    oldest_pending_max_ms: Math.max(oldestMax, endState.oldestPendingMs),
    oldest_pending_end_ms: endState.oldestPendingMs,
    pending_end: endState.pending,
    outbox_unsent_max: Math.max(unsentMax, endState.outboxUnsent),
    drain_ms: drainMs,
    sustained: whyNot.length === 0,
    why_not: whyNot,
    cpu: cpuReport,
    cpu_per_op: cpuPerOperation(cpuReport, loop.issued),
    stages: stageFigures(before, after, driver.door === "http" ? "web" : "self"),
    pg_waits: pgWaits,
  };
}

type Scrapes = { worker: Scrape; web: Scrape; self: Scrape };

async function scrapeAll(ctx: PhaseContext): Promise<Scrapes> {
  const [worker, web, self] = await Promise.all([
    scrapeHttp(ctx.workerPort),
    scrapeHttp(ctx.webPort),
    scrapeSelf(),
  ]);
  return { worker, web, self };
}

/** `placement`: whose registry the placement service recorded in (this process, or the web's). */
function stageFigures(before: Scrapes, after: Scrapes, placement: "self" | "web"): StageFigures {
  const w = (name: string, scale = 1) => histogramDelta(before.worker, after.worker, name, scale);
  const p0 = before[placement];
  const p1 = after[placement];
  const delta = (scrapes: [Scrape, Scrape], name: string) =>
    total(scrapes[1], name) - total(scrapes[0], name);
  const sizeCount = delta([p0, p1], "spotx_placement_batch_size_count");
  const sizeSum = delta([p0, p1], "spotx_placement_batch_size_sum");
  const cancelCount = delta([p0, p1], "spotx_cancel_batch_size_count");
  const cancelSum = delta([p0, p1], "spotx_cancel_batch_size_sum");
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
    gate_request_ms: histogramDelta(before.web, after.web, "spotx_gate_request_seconds", 1_000),
    rate_limit_rejections: delta([before.web, after.web], "spotx_rate_limit_rejections_total"),
    placement_batch_ms: histogramDelta(p0, p1, "spotx_placement_batch_seconds", 1_000),
    placement_batch_size_mean: sizeCount > 0 ? round(sizeSum / sizeCount, 1) : null,
    cancel_batch_ms: histogramDelta(p0, p1, "spotx_cancel_batch_seconds", 1_000),
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
