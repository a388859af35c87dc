// Readiness of the four servers, as /ready reports it and the operator console shows it.
// Probed over the process's own clients (its pool, its Redis and etcd clients, one kept Kafka
// admin connection) — what the process itself can reach — and at most once per
// READINESS_CACHE_MS however many callers ask: a burst of /ready calls costs one probe, never a
// connection per call (a few hundred concurrent calls once exhausted PostgreSQL's connections).
import { checkEtcd, etcdClient } from "./etcd";
import { checkKafka } from "./kafka";
import { metrics, prometheus } from "./metrics";
import { checkPostgres, postgresPool } from "./postgres";
import { type ProbeResult, processSingleton } from "./probe";
import { checkRedis, redisClient } from "./redis";

export type DependencyName = "postgres" | "redis" | "etcd" | "kafka";
export type Readiness = { ready: boolean; dependencies: Record<DependencyName, ProbeResult> };

/** How long one probe's result answers /ready. */
export const READINESS_CACHE_MS = 1_000;

const probes = processSingleton(
  "health.probes",
  () =>
    new prometheus.Counter({
      name: "spotx_readiness_probes_total",
      help: "Probes of the four servers run for /ready (a burst of /ready calls shares one)",
      registers: [metrics.registry],
    }),
);

/** Probes the four servers now, each within `timeoutMs`. */
export async function checkReadiness(timeoutMs = 3_000): Promise<Readiness> {
  probes.inc();
  const [postgres, redis, etcd, kafka] = await Promise.all([
    checkPostgres(postgresPool(), timeoutMs),
    checkRedis(redisClient(), timeoutMs),
    checkEtcd(etcdClient(), timeoutMs),
    checkKafka(timeoutMs),
  ]);
  const dependencies = { postgres, redis, etcd, kafka };
  for (const [name, result] of Object.entries(dependencies)) {
    metrics.dependencyUp.set({ dependency: name }, result.ok ? 1 : 0);
    metrics.dependencyLatency.set({ dependency: name }, result.latencyMs);
  }
  return { ready: Object.values(dependencies).every((d) => d.ok), dependencies };
}

type Cached = { at: number; result: Promise<Readiness> };

/** The last probe when it started less than READINESS_CACHE_MS ago (or is running), else a new one. */
export function currentReadiness(now: number = performance.now()): Promise<Readiness> {
  const slot = processSingleton<{ last: Cached | null }>("health.cache", () => ({ last: null }));
  const last = slot.last;
  if (last && now - last.at < READINESS_CACHE_MS) return last.result;
  const result = checkReadiness();
  slot.last = { at: now, result };
  return result;
}
