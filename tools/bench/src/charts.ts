// The run's charts, as SVG files next to bench-results/e2e.json: latency percentiles against
// offered load (ack, settle, socket; in-process and through HTTP side by side) and CPU per
// order operation by process, stacked, per phase. Vega-Lite specs compiled to Vega and rendered
// to SVG in Node, without a browser or a canvas (text widths are Vega's estimate). The rows
// they are drawn from are kept in e2e.json (`charts`), so `npm run plot -w @spotx/bench`
// redraws them from the last run; BENCH_PUBLISH=1 (or `--publish`) copies them to docs/bench/
// for the README.
import fs from "node:fs";
import path from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { z } from "zod";
import { EXCHANGE_PROCESSES } from "./cpu";
import type { PhaseReport } from "./phase";

export const latencyRow = z.object({
  door: z.string(),
  offered: z.number(),
  measure: z.string(),
  percentile: z.enum(["p50", "p99"]),
  ms: z.number(),
});
export const cpuRow = z.object({
  phase: z.string(),
  order: z.number(),
  process: z.string(),
  us_per_op: z.number(),
});
export const chartData = z.object({
  subtitle: z.string(),
  latency: z.array(latencyRow),
  cpu: z.array(cpuRow),
});
export type ChartData = z.infer<typeof chartData>;
type LatencyRow = z.infer<typeof latencyRow>;
type CpuRow = z.infer<typeof cpuRow>;

export const CHART_FILES = { latency: "e2e-latency.svg", cpu: "e2e-cpu.svg" } as const;

const DOOR_LABEL: Record<PhaseReport["door"], string> = {
  "in-process": "in-process (placement service)",
  http: "HTTP (signed gate.io REST)",
};

/** What the charts read of a phase. */
export type ChartPhase = Pick<
  PhaseReport,
  "door" | "offered_per_sec" | "ack" | "settle" | "cpu_per_op" | "sustained"
>;

/** Socket figures of a fixed phase: the clients that measured them and their percentiles. */
export type SocketPoint = { clients: number; p50_ms: number; p99_ms: number } | null;

const n = (v: number) => Math.round(v).toLocaleString("en-US");

/** The rows the charts are drawn from, out of the run's phases. */
export function chartRows(input: {
  subtitle: string;
  /** In-process: the fixed phase first, then the ramp. */
  inProcess: ChartPhase[];
  http: ChartPhase[];
  fixedSocket: SocketPoint;
  /** The phase of its own with many socket clients. */
  manySockets: { phase: ChartPhase; socket: SocketPoint } | null;
}): ChartData {
  const latency: LatencyRow[] = [];
  const add = (door: string, offered: number, measure: string, p50: number, p99: number) => {
    latency.push({ door, offered, measure, percentile: "p50", ms: p50 });
    latency.push({ door, offered, measure, percentile: "p99", ms: p99 });
  };
  for (const p of [...input.inProcess, ...input.http]) {
    const door = DOOR_LABEL[p.door];
    if (p.ack.count > 0) add(door, p.offered_per_sec, "ack", p.ack.p50_ms, p.ack.p99_ms);
    if (p.settle.count > 0) {
      add(door, p.offered_per_sec, "placement → settled", p.settle.p50_ms, p.settle.p99_ms);
    }
  }
  const fixed = input.inProcess[0];
  if (fixed && input.fixedSocket) {
    const s = input.fixedSocket;
    add(
      DOOR_LABEL[fixed.door],
      fixed.offered_per_sec,
      `placement → socket, ${n(s.clients)} clients`,
      s.p50_ms,
      s.p99_ms,
    );
  }
  if (input.manySockets?.socket) {
    const { phase, socket: s } = input.manySockets;
    add(
      DOOR_LABEL[phase.door],
      phase.offered_per_sec,
      `placement → socket, ${n(s.clients)} clients`,
      s.p50_ms,
      s.p99_ms,
    );
  }

  const cpu: CpuRow[] = [];
  const phases: Array<{ label: string; phase: ChartPhase }> = [
    ...input.inProcess.map((phase) => ({
      label: `in-process ${n(phase.offered_per_sec)}/s`,
      phase,
    })),
    ...input.http.map((phase) => ({ label: `HTTP ${n(phase.offered_per_sec)}/s`, phase })),
  ];
  if (input.manySockets) {
    const { phase, socket } = input.manySockets;
    phases.push({
      label: `in-process ${n(phase.offered_per_sec)}/s, ${n(socket?.clients ?? 0)} socket clients`,
      phase,
    });
  }
  phases.forEach(({ label, phase }, order) => {
    const tag = `${label}: exchange ${n(phase.cpu_per_op.exchange_us_per_op)} µs${phase.sustained ? "" : " (not sustained)"}`;
    for (const [process, us] of Object.entries(phase.cpu_per_op.us_per_op)) {
      cpu.push({ phase: tag, order, process: processLabel(process), us_per_op: us });
    }
  });
  return { subtitle: input.subtitle, latency, cpu };
}

/** The exchange's processes as they are; the load's marked as such. */
function processLabel(name: string): string {
  return (EXCHANGE_PROCESSES as readonly string[]).includes(name) ? name : `load: ${name}`;
}

const PROCESS_ORDER = [
  ...EXCHANGE_PROCESSES,
  "load: bench",
  "load: generators",
  "load: socket clients",
];

export function latencySpec(data: ChartData): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "spotx end to end: latency against offered load",
      subtitle: [
        data.subtitle,
        "ack from the command's due time; each ramp stops at its first rate not sustained",
      ],
    },
    data: { values: data.latency },
    facet: {
      column: { field: "door", type: "nominal", title: null, sort: Object.values(DOOR_LABEL) },
    },
    spec: {
      width: 360,
      height: 300,
      encoding: {
        x: { field: "offered", type: "quantitative", title: "offered order operations/s" },
        y: {
          field: "ms",
          type: "quantitative",
          title: "latency (ms, log scale)",
          scale: { type: "log" },
        },
        color: {
          field: "measure",
          type: "nominal",
          title: "measure",
          legend: { labelLimit: 320 },
        },
      },
      // Lines and points apart, so the percentile legend shows dashed lines, not dots.
      layer: [
        {
          mark: "line",
          encoding: {
            strokeDash: {
              field: "percentile",
              type: "nominal",
              title: "percentile",
              sort: ["p50", "p99"],
              legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolStrokeColor: "#555" },
            },
          },
        },
        { mark: { type: "point", filled: true }, encoding: { detail: { field: "percentile" } } },
      ],
    },
  };
}

export function cpuSpec(data: ChartData): TopLevelSpec {
  const present = new Set(data.cpu.map((r) => r.process));
  const domain = [
    ...PROCESS_ORDER.filter((p) => present.has(p)),
    ...[...present].filter((p) => !PROCESS_ORDER.includes(p)),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "spotx end to end: CPU per order operation, by process",
      subtitle: [
        data.subtitle,
        "CPU µs per placement or cancel over each phase; `load:` processes are the benchmark's own",
      ],
    },
    data: { values: data.cpu },
    transform: [{ calculate: `indexof(${JSON.stringify(domain)}, datum.process)`, as: "stack" }],
    mark: { type: "bar" },
    width: 520,
    encoding: {
      y: {
        field: "phase",
        type: "nominal",
        title: null,
        sort: { field: "order", op: "min" },
        axis: { labelLimit: 480 },
      },
      x: {
        field: "us_per_op",
        type: "quantitative",
        stack: "zero",
        title: "CPU µs per order operation",
      },
      color: {
        field: "process",
        type: "nominal",
        title: "process",
        scale: { domain, scheme: "tableau10" },
        legend: { labelLimit: 240 },
      },
      order: { field: "stack", type: "quantitative" },
    },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the charts into `dir`; their paths. */
export async function writeCharts(data: ChartData, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files = [
    { file: path.join(dir, CHART_FILES.latency), spec: latencySpec(data) },
    { file: path.join(dir, CHART_FILES.cpu), spec: cpuSpec(data) },
  ];
  for (const { file, spec } of files) fs.writeFileSync(file, await renderSvg(spec));
  return files.map((f) => f.file);
}

/** Copies the charts to `docsDir` (docs/bench/), where the README shows them from. */
export function publishCharts(files: readonly string[], docsDir: string): string[] {
  fs.mkdirSync(docsDir, { recursive: true });
  return files.map((file) => {
    const target = path.join(docsDir, path.basename(file));
    fs.copyFileSync(file, target);
    return target;
  });
}
