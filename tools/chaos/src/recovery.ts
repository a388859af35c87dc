// How traffic fared around a fault, from what the traders recorded: when the first order sent
// after the kill was acked and settled, when traffic was back to normal for good, and what the
// exchange answered in between.
//
// "Normal" is judged over one-second windows against the traffic just before the fault (the
// baseline): no attempt in the window failed for want of the exchange (no answer, 429, 5xx);
// every order first sent in it was acked at its first attempt and settled, each within a few
// times the baseline's 90th percentile (so a loaded machine is judged by its own pace); and at
// least half as many orders were sent as in a baseline window. Traffic is back to normal from
// the start of the earliest window after which every window is normal.
import { type Attempt, isOutageAnswer, type OrderRecord, type Traffic } from "./traffic";

export const WINDOW_MS = 1_000;
const STEP_MS = 100;

export type NormalityOptions = {
  /** Orders per window before the fault; a normal window sends at least half as many. */
  baselinePerWindow: number;
  /** An order acked later than this after it was sent is not normal. */
  ackWithinMs: number;
  /** An order settled later than this after its ack is not normal. */
  settleWithinMs: number;
};

/** Lenient bounds, for telling a healthy exchange before any baseline exists. */
export const WARM_UP: NormalityOptions = {
  baselinePerWindow: 1,
  ackWithinMs: 5_000,
  settleWithinMs: 5_000,
};

/**
 * The baseline of [from, to): its rate, and bounds of four times its 90th-percentile ack and
 * settle latencies (at least one second, at most five).
 */
export function baselineOf(traffic: Traffic, from: number, to: number): NormalityOptions {
  const orders = traffic.orders.filter((o) => o.firstSentAt >= from && o.firstSentAt < to);
  const ack: number[] = [];
  const settle: number[] = [];
  for (const o of orders) {
    if (o.ackedAt !== undefined) ack.push(o.ackedAt - o.firstSentAt);
    if (o.ackedAt !== undefined && o.settledAt !== undefined) settle.push(o.settledAt - o.ackedAt);
  }
  const bound = (samples: number[]) =>
    Math.min(5_000, Math.max(1_000, 4 * percentile(samples, 0.9)));
  return {
    baselinePerWindow: (orders.length * WINDOW_MS) / Math.max(1, to - from),
    ackWithinMs: bound(ack),
    settleWithinMs: bound(settle),
  };
}

function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

type Verdict = "normal" | "abnormal" | "undecided";

function judgeOrder(order: OrderRecord, now: number, options: NormalityOptions): Verdict {
  const ackBy = order.firstSentAt + options.ackWithinMs;
  if (order.outcome === "in_flight") return now > ackBy ? "abnormal" : "undecided";
  if (order.outcome !== "acked" || order.attempts !== 1 || order.ackedAt === undefined) {
    return "abnormal";
  }
  if (order.ackedAt > ackBy) return "abnormal";
  const settleBy = order.ackedAt + options.settleWithinMs;
  if (order.settledAt === undefined) return now > settleBy ? "abnormal" : "undecided";
  return order.settledAt <= settleBy ? "normal" : "abnormal";
}

function judgeWindow(
  start: number,
  now: number,
  orders: readonly OrderRecord[],
  attempts: readonly Attempt[],
  options: NormalityOptions,
): Verdict {
  const end = start + WINDOW_MS;
  if (attempts.some((a) => a.sentAt >= start && a.sentAt < end && isOutageAnswer(a))) {
    return "abnormal";
  }
  const sent = orders.filter((o) => o.firstSentAt >= start && o.firstSentAt < end);
  if (sent.length < Math.max(1, Math.floor(options.baselinePerWindow / 2))) return "abnormal";
  let verdict: Verdict = "normal";
  for (const order of sent) {
    const judged = judgeOrder(order, now, options);
    if (judged === "abnormal") return "abnormal";
    if (judged === "undecided") verdict = "undecided";
  }
  return verdict;
}

export type NormalStretch = {
  /** When the unbroken run of normal windows began. */
  since: number;
  /** The end of the newest window judged normal. */
  until: number;
};

/**
 * The unbroken run of normal windows that ends with the newest window that can be judged now
 * (windows starting at or after `from`); null when that window is not normal.
 */
export function normalStretch(
  traffic: Traffic,
  from: number,
  now: number,
  options: NormalityOptions,
): NormalStretch | null {
  const orders = traffic.orders.filter((o) => o.firstSentAt >= from);
  const attempts = traffic.attempts.filter((a) => a.sentAt >= from);
  let start = now - WINDOW_MS;
  // The newest windows may still wait for their orders' answers or settlement.
  while (start >= from && judgeWindow(start, now, orders, attempts, options) === "undecided") {
    start -= STEP_MS;
  }
  if (start < from) return null;
  const until = start + WINDOW_MS;
  let since: number | null = null;
  for (; start >= from; start -= STEP_MS) {
    if (judgeWindow(start, now, orders, attempts, options) !== "normal") break;
    since = start;
  }
  return since === null ? null : { since, until };
}

/** kill → the first order sent after the kill that was acked and settled; null if none was. */
export function firstSettledAfter(traffic: Traffic, killAt: number): number | null {
  let first: number | null = null;
  for (const order of traffic.orders) {
    if (order.firstSentAt < killAt || order.settledAt === undefined) continue;
    if (first === null || order.settledAt < first) first = order.settledAt;
  }
  return first === null ? null : first - killAt;
}

/** What the exchange answered to attempts sent in [from, to): "place 503 SERVICE_UNAVAILABLE" → count. */
export function answersBetween(traffic: Traffic, from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of traffic.attempts) {
    if (a.sentAt < from || a.sentAt >= to) continue;
    const key = `${a.kind} ${a.status} ${a.label}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
