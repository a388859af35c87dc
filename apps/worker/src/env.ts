// The worker's own settings; the servers' addresses come from @spotx/platform's env.
import { parseEnv } from "@spotx/platform";
import { defaultInstanceId } from "@spotx/platform/service-registry";
import { z } from "zod";

/** Its variables (the README's configuration table is checked against this). */
export const workerEnvSchema = z.object({
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  WORKER_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, "letters, digits, '.', '_' or '-' only")
    .default(defaultInstanceId("worker")),
  /** How long a dead worker stays in the registry and keeps its markets (the etcd lease TTL). */
  WORKER_LEASE_TTL_SECONDS: z.coerce.number().int().min(2).max(60).default(5),
  /**
   * The least time between reconciliation runs (one worker at a time, cluster-wide); a run
   * also waits 50 times the last one's duration (see jobs/reconciliation.ts).
   */
  RECONCILIATION_INTERVAL_MS: z.coerce.number().int().min(1_000).default(300_000),
  /** The engine host snapshots a market's book after this many commands (and at shutdown). */
  ENGINE_SNAPSHOT_EVERY: z.coerce.number().int().min(1).default(10_000),
  /**
   * How often the engine host commits the orders-topic offsets whose events Kafka has
   * acknowledged. After a crash, the commands since the last commit are applied again (and
   * their events produced again, which settlement drops by sequence).
   */
  ENGINE_OFFSET_COMMIT_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  /** Published outbox rows are deleted after this long. */
  OUTBOX_RETENTION_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(24 * 3_600_000),
});

export const workerEnv = parseEnv(workerEnvSchema);
