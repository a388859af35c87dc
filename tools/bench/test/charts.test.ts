// The charts: rows out of the phases (both front doors, every percentile, CPU per process with
// the load marked), rendered to SVG without a browser, and published to docs/bench/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type ChartPhase, chartData, chartRows, publishCharts, writeCharts } from "../src/charts";

const latency = (p50: number, p99: number) => ({
  count: 100,
  p50_ms: p50,
  p90_ms: p99,
  p99_ms: p99,
  p999_ms: p99,
  max_ms: p99,
  mean_ms: p50,
});

const phase = (door: ChartPhase["door"], offered: number, sustained = true): ChartPhase => ({
  door,
  offered_per_sec: offered,
  sustained,
  ack: latency(10, 40),
  settle: latency(80, 300),
  cpu_per_op: {
    operations: offered * 10,
    us_per_op: { worker: 300, web: door === "http" ? 900 : 60, postgres: 500, generators: 200 },
    exchange_us_per_op: door === "http" ? 1_700 : 860,
    exchange_cores: 0.86,
    unmeasured: [],
  },
});

const data = chartRows({
  subtitle: "test machine",
  inProcess: [phase("in-process", 1_000), phase("in-process", 2_000, false)],
  http: [phase("http", 1_000)],
  fixedSocket: { clients: 200, p50_ms: 30, p99_ms: 90 },
  manySockets: {
    phase: phase("in-process", 1_000),
    socket: { clients: 1_000, p50_ms: 50, p99_ms: 140 },
  },
});

describe("the run's charts", () => {
  it("draws latency for both doors and every percentile, and CPU per process with the load marked", () => {
    expect(chartData.parse(data)).toEqual(data);
    const doors = new Set(data.latency.map((r) => r.door));
    expect(doors).toEqual(
      new Set(["in-process (placement service)", "HTTP (signed gate.io REST)"]),
    );
    expect(data.latency.filter((r) => r.measure === "ack" && r.percentile === "p99")).toHaveLength(
      3,
    );
    expect(data.latency.map((r) => r.measure)).toContain("placement → socket, 1,000 clients");
    expect(new Set(data.cpu.map((r) => r.process))).toEqual(
      new Set(["worker", "web", "postgres", "load: generators"]),
    );
    expect(data.cpu.map((r) => r.phase)).toContain(
      "in-process 2,000/s: exchange 860 µs (not sustained)",
    );
  });

  it("renders both as SVG files and publishes them under the same names", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-charts-"));
    try {
      const files = await writeCharts(data, dir);
      expect(files.map((f) => path.basename(f))).toEqual(["e2e-latency.svg", "e2e-cpu.svg"]);
      const [latencySvg, cpuSvg] = files.map((f) => fs.readFileSync(f, "utf8"));
      expect(latencySvg).toMatch(/^<svg /);
      expect(latencySvg).toContain("placement → settled");
      expect(latencySvg).toContain("HTTP (signed gate.io REST)");
      expect(cpuSvg).toContain("load: generators");
      const published = publishCharts(files, path.join(dir, "docs", "bench"));
      expect(published.map((f) => fs.readFileSync(f, "utf8"))).toEqual([latencySvg, cpuSvg]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
