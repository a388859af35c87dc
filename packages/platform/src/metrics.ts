// The prom-client registry of a process and the metrics shared by every module. Modules that
// own a metric of their own register it here, so /metrics shows one registry per process.
import client from "prom-client";
import { processSingleton } from "./probe";

export { client as prometheus };

function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "spotx_process_" });
  return {
    registry,
    dependencyErrors: new client.Counter({
      name: "spotx_dependency_errors_total",
      help: "Connection-level errors reported by a dependency's client",
      labelNames: ["dependency"] as const,
      registers: [registry],
    }),
    dependencyUp: new client.Gauge({
      name: "spotx_dependency_up",
      help: "1 when the last readiness probe of the dependency succeeded, else 0",
      labelNames: ["dependency"] as const,
      registers: [registry],
    }),
    dependencyLatency: new client.Gauge({
      name: "spotx_dependency_probe_ms",
      help: "Latency of the last readiness probe of the dependency",
      labelNames: ["dependency"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export const metrics: Metrics = processSingleton("metrics", createMetrics);
