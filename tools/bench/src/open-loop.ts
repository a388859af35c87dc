// Open-loop arrivals: command i is due at start + i / rate whatever happened to the ones
// before, so a slow answer does not slow the offered load down (a closed loop would hide its
// own latency). In-flight calls are capped; when the cap or the event loop holds a command
// back, it starts late, and how late is reported, so a generator that fell behind is seen.
// Several generator processes share one schedule: each runs rate / n from the same start,
// shifted by its slot (offsetMs), so together they offer the rate evenly.
import { nowMs, round, Samples } from "./stats";

export type OpenLoopReport = {
  offered_per_sec: number;
  duration_s: number;
  issued: number;
  /** Issued per second of schedule (equals the offered rate when the generator kept up). */
  issued_per_sec: number;
  /** How late commands started against their due time. */
  late_p50_ms: number;
  late_p99_ms: number;
  late_max_ms: number;
  /** Commands that started more than 10 ms late. */
  late_over_10ms: number;
  /** Ticks at which the in-flight cap held commands back. */
  capped_ticks: number;
  /** Commands never issued: the loop gives up at twice the phase's length (0 when it kept up). */
  not_issued: number;
};

/** A loop's report and its start-lateness samples, so the loops of several processes combine. */
export type OpenLoopResult = { report: OpenLoopReport; lateness: Float64Array };

export async function runOpenLoop(options: {
  rate: number;
  durationMs: number;
  maxInFlight: number;
  /** When the schedule starts (nowMs clock, shared by the bench's processes); now by default. */
  startAtMs?: number;
  /** This loop's shift inside the shared schedule (ms). */
  offsetMs?: number;
  /** Issues one command that was due at `dueMs`; must not reject. */
  issue: (dueMs: number) => Promise<void>;
}): Promise<OpenLoopResult> {
  const { rate, durationMs, maxInFlight, issue } = options;
  const interval = 1_000 / rate;
  const total = Math.floor((rate * durationMs) / 1_000);
  const lateness = new Samples(total);
  let issued = 0;
  let inFlight = 0;
  let cappedTicks = 0;
  let lateOver10 = 0;
  let drained: (() => void) | undefined;
  const done = () => {
    inFlight -= 1;
    if (inFlight === 0) drained?.();
  };
  const start = (options.startAtMs ?? nowMs()) + (options.offsetMs ?? 0);
  while (nowMs() < start) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, start - nowMs()))));
  }
  // A generator held back by the cap would otherwise take as long as the server is slow.
  const giveUpAt = start + 2 * durationMs;
  while (issued < total && nowMs() < giveUpAt) {
    const due = Math.min(total, Math.floor((nowMs() - start) / interval) + 1);
    let capped = false;
    while (issued < due) {
      if (inFlight >= maxInFlight) {
        cappedTicks += 1;
        capped = true;
        break;
      }
      const dueAt = start + issued * interval;
      const late = nowMs() - dueAt;
      lateness.add(late);
      if (late > 10) lateOver10 += 1;
      issued += 1;
      inFlight += 1;
      void issue(dueAt).finally(done);
    }
    // Until the next command is due (at least a timer tick): a slow rate wakes no more often
    // than it must, which matters for a generator whose share is a few hundred a second.
    const untilNext = capped ? 1 : start + issued * interval - nowMs();
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(untilNext))));
  }
  const scheduleEnd = nowMs();
  if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  const late = lateness.summary();
  const seconds = (scheduleEnd - start) / 1_000;
  return {
    report: {
      offered_per_sec: rate,
      duration_s: round(seconds, 2),
      issued,
      issued_per_sec: Math.round(issued / Math.max(seconds, durationMs / 1_000)),
      late_p50_ms: late.p50_ms,
      late_p99_ms: late.p99_ms,
      late_max_ms: late.max_ms,
      late_over_10ms: lateOver10,
      capped_ticks: cappedTicks,
      not_issued: total - issued,
    },
    lateness: lateness.values(),
  };
}

/** The loops of several generators as one: rates and counts add up, lateness pools. */
export function combineOpenLoops(parts: OpenLoopResult[]): OpenLoopReport {
  const lateness = new Samples();
  for (const part of parts) lateness.addAll(part.lateness);
  const late = lateness.summary();
  const sum = (pick: (r: OpenLoopReport) => number) =>
    parts.reduce((total, part) => total + pick(part.report), 0);
  return {
    offered_per_sec: sum((r) => r.offered_per_sec),
    duration_s: Math.max(0, ...parts.map((p) => p.report.duration_s)),
    issued: sum((r) => r.issued),
    issued_per_sec: sum((r) => r.issued_per_sec),
    late_p50_ms: late.p50_ms,
    late_p99_ms: late.p99_ms,
    late_max_ms: late.max_ms,
    late_over_10ms: sum((r) => r.late_over_10ms),
    capped_ticks: sum((r) => r.capped_ticks),
    not_issued: sum((r) => r.not_issued),
  };
}
