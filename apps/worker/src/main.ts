// The worker process: makes sure the Kafka topics exist, serves its operational endpoints,
// registers itself in etcd and runs the cluster-wide reconciliation job. The engine host,
// settlement and market-data consumers join it with the order pipeline.
import { database } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { ensureTopics, kafkaClient } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { redisClient } from "@spotx/platform/redis";
import { startService } from "@spotx/platform/service-process";
import { workerEnv } from "./env";
import { startReconciliationJob } from "./jobs/reconciliation";

const VERSION = process.env.npm_package_version ?? "0.1.0";

async function main() {
  platformEnv(); // fail at start, naming the variable, if the configuration is bad
  const log = logger("worker");

  // The topics carry commands and events keyed by market; they exist before anyone consumes.
  const admin = kafkaClient("spotx-worker").admin();
  await admin.connect();
  try {
    await ensureTopics(admin);
  } finally {
    await admin.disconnect();
  }

  const service = await startService({
    kind: "worker",
    id: workerEnv.WORKER_INSTANCE_ID,
    host: "0.0.0.0",
    port: workerEnv.WORKER_PORT,
    version: VERSION,
    log,
    leaseTtlSeconds: workerEnv.WORKER_LEASE_TTL_SECONDS,
  });

  // Cluster-wide singleton: every worker schedules it, the fenced lock lets one run at a time.
  const reconciliation = startReconciliationJob({
    db: database(),
    redis: redisClient(),
    log: logger("reconciliation"),
    intervalMs: workerEnv.RECONCILIATION_INTERVAL_MS,
  });
  service.onStop(() => reconciliation.stop());
  log.info({ httpPort: service.httpPort, id: workerEnv.WORKER_INSTANCE_ID }, "worker started");
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ worker: ${message}`);
  process.exit(1);
});
