// Readiness of the four servers, as /ready reports it and the operator console shows it.
import { platformEnv } from "./env";
import { pingEtcd } from "./etcd";
import { pingKafka } from "./kafka";
import { metrics } from "./metrics";
import { pingPostgres } from "./postgres";
import type { ProbeResult } from "./probe";
import { pingRedis } from "./redis";

export type DependencyName = "postgres" | "redis" | "etcd" | "kafka";
export type Readiness = { ready: boolean; dependencies: Record<DependencyName, ProbeResult> };

export async function checkReadiness(timeoutMs = 3_000): Promise<Readiness> {
  const env = platformEnv();
  const [postgres, redis, etcd, kafka] = await Promise.all([
    pingPostgres(env.DATABASE_URL, timeoutMs),
    pingRedis(env.REDIS_URL, timeoutMs),
    pingEtcd(env.ETCD_ENDPOINTS, timeoutMs),
    pingKafka(env.KAFKA_BROKERS, timeoutMs),
  ]);
  const dependencies = { postgres, redis, etcd, kafka };
  for (const [name, result] of Object.entries(dependencies)) {
    metrics.dependencyUp.set({ dependency: name }, result.ok ? 1 : 0);
    metrics.dependencyLatency.set({ dependency: name }, result.latencyMs);
  }
  return { ready: Object.values(dependencies).every((d) => d.ok), dependencies };
}
