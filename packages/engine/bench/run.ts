// `npm run bench:engine`: replays one seeded workload on our engine and on the peer
// (nodejs-order-book) in the same process and run, on a shallow book (~1,000 orders) and a
// deep one (~100,000 orders over ~10,000 levels). Prints throughput, per-operation latency
// percentiles and GC counts, writes bench-results/engine.json, and ends with one JSON line.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { constants, PerformanceObserver, performance } from "node:perf_hooks";
import { type Contender, PeerContender, SpotxContender } from "./contenders";
import { generateWorkload, type Workload } from "./workload";

/** `--ops N` and `--rounds N` shorten a run while working on the engine; defaults are the spec. */
function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`--${name} needs a positive integer`);
  return value;
}

const SEED = 20_240_601;
const WARMUP = 200_000;
const TIMED = option("ops", 2_000_000);
const ROUNDS = option("rounds", 3);

interface GcEntry {
  start: number;
  duration: number;
  kind: number;
}
const gcEntries: GcEntry[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
    gcEntries.push({ start: entry.startTime, duration: entry.duration, kind: detail?.kind ?? 0 });
  }
});
observer.observe({ entryTypes: ["gc"] });

interface GcStats {
  minor: number;
  major: number;
  incremental: number;
  total_ms: number;
  max_ms: number;
}

function gcBetween(from: number, to: number): GcStats {
  const stats: GcStats = { minor: 0, major: 0, incremental: 0, total_ms: 0, max_ms: 0 };
  for (const entry of gcEntries) {
    if (entry.start < from || entry.start > to) continue;
    if (entry.kind === constants.NODE_PERFORMANCE_GC_MINOR) stats.minor += 1;
    else if (entry.kind === constants.NODE_PERFORMANCE_GC_MAJOR) stats.major += 1;
    else if (entry.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) stats.incremental += 1;
    stats.total_ms += entry.duration;
    stats.max_ms = Math.max(stats.max_ms, entry.duration);
  }
  stats.total_ms = round(stats.total_ms, 2);
  stats.max_ms = round(stats.max_ms, 2);
  return stats;
}

const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Lets the GC observer deliver its entries (it reports asynchronously). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

type MakeContender = (workload: Workload) => Contender;
const makeSpotx: MakeContender = (w) => new SpotxContender(Math.ceil(w.spec.targetOrders * 1.25));
const makePeer: MakeContender = (w) => new PeerContender(w.maxOrderId);

function prepare(make: MakeContender, workload: Workload): Contender {
  const contender = make(workload);
  contender.run(workload.setup, 0, workload.setup.length);
  contender.run(workload.ops, 0, workload.spec.warmup);
  return contender;
}

interface ThroughputResult {
  ops_per_sec: number;
  seconds: number;
  gc: GcStats;
  contender: Contender;
}

async function throughput(make: MakeContender, workload: Workload): Promise<ThroughputResult> {
  const contender = prepare(make, workload);
  const { warmup, timed } = workload.spec;
  collectGarbage();
  await settle();
  const from = performance.now();
  const start = process.hrtime.bigint();
  contender.run(workload.ops, warmup, warmup + timed);
  const nanos = Number(process.hrtime.bigint() - start);
  const to = performance.now();
  await settle();
  return {
    ops_per_sec: Math.round((timed * 1e9) / nanos),
    seconds: round(nanos / 1e9, 3),
    gc: gcBetween(from, to),
    contender,
  };
}

interface LatencyResult {
  p50_us: number;
  p99_us: number;
  p999_us: number;
  p9999_us: number;
  max_us: number;
  mean_us: number;
  gc: GcStats;
}

async function latency(make: MakeContender, workload: Workload): Promise<LatencyResult> {
  const contender = prepare(make, workload);
  const { warmup, timed } = workload.spec;
  const samples = new Float64Array(timed);
  const ops = workload.ops;
  collectGarbage();
  await settle();
  const from = performance.now();
  for (let i = 0; i < timed; i++) {
    const t0 = process.hrtime.bigint();
    contender.one(ops, warmup + i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  const to = performance.now();
  await settle();
  let sum = 0;
  for (let i = 0; i < timed; i++) sum += samples[i] ?? 0;
  samples.sort();
  const at = (q: number) =>
    round((samples[Math.min(timed - 1, Math.floor(q * timed))] ?? 0) / 1e3, 2);
  return {
    p50_us: at(0.5),
    p99_us: at(0.99),
    p999_us: at(0.999),
    p9999_us: at(0.9999),
    max_us: round((samples[timed - 1] ?? 0) / 1e3, 2),
    mean_us: round(sum / timed / 1e3, 3),
    gc: gcBetween(from, to),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

function sameBook(a: Contender, b: Contender): boolean {
  return JSON.stringify(a.depth()) === JSON.stringify(b.depth());
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function latencyLine(name: string, r: LatencyResult): string {
  return (
    `  ${name.padEnd(18)} p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  p99.9 ${r.p999_us} µs  ` +
    `p99.99 ${r.p9999_us} µs  max ${r.max_us} µs  | GC minor ${r.gc.minor} major ${r.gc.major} ` +
    `(${r.gc.total_ms} ms, longest ${r.gc.max_ms} ms)`
  );
}

interface BookReport {
  workload: {
    name: string;
    orders: number;
    levels_per_side: number;
    warmup: number;
    timed: number;
    mix: Workload["mix"];
  };
  spotx: { ops_per_sec: number; rounds: number[]; gc: GcStats; latency: LatencyResult };
  peer: { ops_per_sec: number; rounds: number[]; gc: GcStats; latency: LatencyResult };
  ratio: number;
  books_match: boolean;
}

async function benchBook(workload: Workload, rounds: number): Promise<BookReport> {
  const { spec } = workload;
  log(
    `\n== ${spec.name}: ~${fmt(spec.targetOrders)} resting orders over ~${fmt(spec.halfWidth)} ` +
      `levels a side; ${fmt(spec.warmup)} warm-up + ${fmt(spec.timed)} timed operations ` +
      `(mix new ${workload.mix.new}, ioc ${workload.mix.ioc}, cancel ${workload.mix.cancel}, ` +
      `move ${workload.mix.move})`,
  );
  const ours: ThroughputResult[] = [];
  const theirs: ThroughputResult[] = [];
  let match = true;
  for (let r = 0; r < rounds; r++) {
    const a = await throughput(makeSpotx, workload);
    const b = await throughput(makePeer, workload);
    match &&= sameBook(a.contender, b.contender);
    if (a.contender instanceof SpotxContender && a.contender.sink.rejections !== 0) {
      throw new Error("our engine rejected a benchmark operation");
    }
    ours.push(a);
    theirs.push(b);
    log(
      `  round ${r + 1}: spotx ${fmt(a.ops_per_sec)} ops/s (${a.seconds} s, GC minor ` +
        `${a.gc.minor} major ${a.gc.major})   peer ${fmt(b.ops_per_sec)} ops/s (${b.seconds} s, ` +
        `GC minor ${b.gc.minor} major ${b.gc.major})`,
    );
  }
  const spotxLatency = await latency(makeSpotx, workload);
  const peerLatency = await latency(makePeer, workload);
  log(latencyLine("spotx", spotxLatency));
  log(latencyLine("nodejs-order-book", peerLatency));
  const spotxOps = median(ours.map((r) => r.ops_per_sec));
  const peerOps = median(theirs.map((r) => r.ops_per_sec));
  const ratio = round(spotxOps / peerOps, 2);
  log(
    `  throughput (median of ${rounds}): spotx ${fmt(spotxOps)} ops/s, peer ${fmt(peerOps)} ops/s, ` +
      `ratio ${ratio}x; final books identical: ${match}`,
  );
  const pickGc = (results: ThroughputResult[]) =>
    results[results.length - 1]?.gc ?? gcBetween(0, 0);
  return {
    workload: {
      name: spec.name,
      orders: spec.targetOrders,
      levels_per_side: spec.halfWidth,
      warmup: spec.warmup,
      timed: spec.timed,
      mix: workload.mix,
    },
    spotx: {
      ops_per_sec: spotxOps,
      rounds: ours.map((r) => r.ops_per_sec),
      gc: pickGc(ours),
      latency: spotxLatency,
    },
    peer: {
      ops_per_sec: peerOps,
      rounds: theirs.map((r) => r.ops_per_sec),
      gc: pickGc(theirs),
      latency: peerLatency,
    },
    ratio,
    books_match: match,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const load = os.loadavg();
  log(
    `spotx engine benchmark: node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"} × ` +
      `${os.cpus().length}, load average ${load.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const shallowWorkload = generateWorkload({
    name: "shallow",
    seed: SEED,
    targetOrders: 1_000,
    halfWidth: 50,
    warmup: WARMUP,
    timed: TIMED,
  });
  const shallow = await benchBook(shallowWorkload, ROUNDS);
  const deepWorkload = generateWorkload({
    name: "deep",
    seed: SEED + 1,
    targetOrders: 100_000,
    halfWidth: 5_000,
    warmup: WARMUP,
    timed: TIMED,
  });
  const deep = await benchBook(deepWorkload, ROUNDS);

  const summary = {
    ops_per_sec: shallow.spotx.ops_per_sec,
    peer_ops_per_sec: shallow.peer.ops_per_sec,
    ratio: shallow.ratio,
    p50_us: shallow.spotx.latency.p50_us,
    p99_us: shallow.spotx.latency.p99_us,
    p999_us: shallow.spotx.latency.p999_us,
    p9999_us: shallow.spotx.latency.p9999_us,
    max_us: shallow.spotx.latency.max_us,
    peer_p99_us: shallow.peer.latency.p99_us,
    peer_p9999_us: shallow.peer.latency.p9999_us,
    deep_ops_per_sec: deep.spotx.ops_per_sec,
    deep_peer_ops_per_sec: deep.peer.ops_per_sec,
    deep_p9999_us: deep.spotx.latency.p9999_us,
    gc_minor: shallow.spotx.latency.gc.minor + shallow.spotx.gc.minor,
    gc_major: shallow.spotx.latency.gc.major + shallow.spotx.gc.major,
    books_match: shallow.books_match && deep.books_match,
  };
  const targets = {
    ops_per_sec_at_least_1_5M: summary.ops_per_sec >= 1_500_000,
    ratio_at_least_5: summary.ratio >= 5,
    p9999_at_most_200us: summary.p9999_us <= 200,
    deep_within_2x_of_shallow: summary.deep_ops_per_sec * 2 >= summary.ops_per_sec,
  };
  log(`\ntargets: ${JSON.stringify(targets)}`);
  const report = {
    generated_at: new Date().toISOString(),
    seconds: round((Date.now() - started) / 1000, 1),
    machine: {
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      load_average_start: load,
      load_average_end: os.loadavg(),
    },
    seed: SEED,
    summary,
    targets,
    shallow,
    deep,
  };
  const dir = new URL("../../../bench-results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL("engine.json", dir), `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote bench-results/engine.json in ${report.seconds} s`);
  observer.disconnect();
  log(JSON.stringify(summary));
}

await main();
