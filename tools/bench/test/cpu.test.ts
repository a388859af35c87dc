// CPU per order operation: each process' CPU seconds over the phase divided by its operations;
// the exchange's sum leaves the load's own processes out; a server found by its port.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { type CpuReport, cpuPerOperation, listeningPid } from "../src/cpu";

const report = (cpuSeconds: Record<string, number>, unmeasured: string[] = []): CpuReport => ({
  seconds: 60,
  interval_s: 60,
  cpu_seconds: cpuSeconds,
  by_process: Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, v / 60])),
  unmeasured,
  machine_busy_cores: 1.5,
  cores_available: 2,
  other_cores: 0,
});

describe("CPU per order operation", () => {
  it("divides each process' CPU time by the operations and sums the exchange without the load", () => {
    const perOp = cpuPerOperation(
      report({
        bench: 12,
        generators: 30,
        "socket clients": 6,
        worker: 24,
        web: 3,
        postgres: 36,
        kafka: 6,
        redis: 0.6,
        etcd: 0.4,
      }),
      60_000,
    );
    expect(perOp.us_per_op).toMatchObject({
      worker: 400,
      postgres: 600,
      redis: 10,
      generators: 500,
    });
    // worker + web + postgres + kafka + redis + etcd = 70 s over 60,000 operations, in 60 s
    expect(perOp.exchange_us_per_op).toBe(1_166.7);
    expect(perOp.exchange_cores).toBe(1.17);
    expect(perOp.operations).toBe(60_000);
  });

  it("reports a server whose process is not on this machine as unmeasured", () => {
    const perOp = cpuPerOperation(report({ worker: 6, kafka: 0 }, ["kafka"]), 1_000);
    expect(perOp.unmeasured).toEqual(["kafka"]);
    expect(perOp.exchange_us_per_op).toBe(6_000);
  });

  it("finds the process listening on a port", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(listeningPid(port)).toBe(process.pid);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(listeningPid(port)).toBeUndefined();
  });
});
