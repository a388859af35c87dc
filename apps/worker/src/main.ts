// The worker process: serves its operational endpoints, registers itself in etcd and runs the
// cluster-wide reconciliation job. The engine host, settlement and market-data consumers join
// it with the order pipeline.
import http from "node:http";
import os from "node:os";
import { database } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { etcdClient } from "@spotx/platform/etcd";
import { ensureTopics, kafkaClient } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { redisClient } from "@spotx/platform/redis";
import { serveServiceEndpoint } from "@spotx/platform/service-endpoints";
import { ServiceRegistration } from "@spotx/platform/service-registry";
import { workerEnv } from "./env";
import { startReconciliationJob } from "./jobs/reconciliation";

const VERSION = process.env.npm_package_version ?? "0.1.0";

async function main() {
  platformEnv(); // fail at start, naming the variable, if the configuration is bad
  const log = logger("worker");
  const startedAt = new Date().toISOString();
  const identity = { kind: "worker", id: workerEnv.WORKER_INSTANCE_ID, startedAt };

  const server = http.createServer((req, res) => {
    serveServiceEndpoint(req, res, identity)
      .then((handled) => {
        if (!handled) {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ label: "NOT_FOUND", message: "no such endpoint" }));
        }
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "service endpoint failed");
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(workerEnv.WORKER_PORT, "0.0.0.0", resolve);
  });
  const address = server.address();
  const httpPort = typeof address === "object" && address ? address.port : workerEnv.WORKER_PORT;

  // The topics carry commands and events keyed by market; they exist before anyone consumes.
  const admin = kafkaClient("spotx-worker").admin();
  await admin.connect();
  try {
    await ensureTopics(admin);
  } finally {
    await admin.disconnect();
  }

  const etcd = etcdClient();
  const registration = new ServiceRegistration(
    etcd,
    {
      kind: "worker",
      id: workerEnv.WORKER_INSTANCE_ID,
      host: os.hostname(),
      pid: process.pid,
      version: VERSION,
      startedAt,
      httpPort,
    },
    log,
    workerEnv.WORKER_LEASE_TTL_SECONDS,
  );
  await registration.start();

  // Cluster-wide singleton: every worker schedules it, the fenced lock lets one run at a time.
  const reconciliation = startReconciliationJob({
    db: database(),
    redis: redisClient(),
    log: logger("reconciliation"),
    intervalMs: workerEnv.RECONCILIATION_INTERVAL_MS,
  });
  log.info({ httpPort, id: workerEnv.WORKER_INSTANCE_ID }, "worker started");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker stopping");
    await reconciliation.stop();
    await registration.stop();
    etcd.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    log.info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ worker: ${message}`);
  process.exit(1);
});
