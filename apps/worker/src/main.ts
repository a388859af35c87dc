// The worker process, composed: the Kafka topics, the live market configuration, the engine
// host (with its markets' public data), settlement (with its users' pushes) and the outbox
// relay, the reconciliation job, its operational endpoints and
// its registration in etcd. Each part lives in its own module; this file only wires them.
import { database } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { etcdClient } from "@spotx/platform/etcd";
import { ensureTopics, kafkaClient } from "@spotx/platform/kafka";
import { LockService } from "@spotx/platform/locks";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { postgresPool } from "@spotx/platform/postgres";
import { createRedis, redisClient } from "@spotx/platform/redis";
import { startService } from "@spotx/platform/service-process";
import { createSocketEmitter } from "@spotx/platform/socket-emitter";
import { topology } from "@spotx/platform/topology";
import type { ServerToClientEvents } from "@spotx/protocol";
import { EngineHost } from "./engine-host";
import { workerEnv } from "./env";
import { startConsumerLagJob } from "./jobs/consumer-lag";
import { startReconciliationJob } from "./jobs/reconciliation";
import { OutboxRelay } from "./outbox-relay";
import { PriceOrderWork } from "./price-orders";
import { settledOrdersPublisher } from "./settled-orders";
import { SettlementConsumer } from "./settlement";
import { userUpdatePublisher } from "./user-updates";

const VERSION = process.env.npm_package_version ?? "0.1.0";
/** An outbox row unpublished for this long means the relay is stuck: not ready. */
const OUTBOX_STUCK_MS = 30_000;

async function main() {
  platformEnv(); // fail at start, naming the variable, if the configuration is bad
  const log = logger("worker");
  const names = topology();
  const kafka = kafkaClient("spotx-worker");
  const db = database();
  const etcd = etcdClient();

  // The topics carry commands and events keyed by market; they exist before anyone consumes.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, names);
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

  const config = new MarketConfigWatcher(etcd, logger("market-config"), names);
  await config.start();
  service.onStop(() => config.stop());

  const relay = new OutboxRelay({
    db,
    pool: postgresPool(),
    kafka,
    locks: new LockService(redisClient()),
    names,
    log: logger("outbox-relay"),
    retentionMs: workerEnv.OUTBOX_RETENTION_MS,
  });
  relay.start();
  service.onStop(() => relay.stop());
  service.addReadiness(() => {
    const backlog = relay.lastBacklog();
    return [
      {
        name: "outbox",
        ok: backlog.oldestAgeMs < OUTBOX_STUCK_MS,
        detail: `${backlog.rows} unpublished, oldest ${Math.round(backlog.oldestAgeMs / 1000)} s`,
      },
    ];
  });

  // Market data (from the engine host) and users' pushes (from settlement) reach the browsers
  // through the web instances' Redis adapter. Publishing has a connection of its own that
  // pipelines: a settled batch's pushes to a hundred users, or a batch's market data, leave in
  // one write instead of one each.
  const publisher = createRedis(platformEnv().REDIS_URL, { autoPipelining: true });
  service.onStop(async () => {
    publisher.disconnect();
  });
  const emitter = createSocketEmitter<ServerToClientEvents>(publisher, names);
  const pushToUsers = userUpdatePublisher({ db, emitter, names, log: logger("user-updates") });
  const announceSettled = settledOrdersPublisher({
    redis: publisher,
    names,
    log: logger("settled-orders"),
  });
  const priceOrders = new PriceOrderWork({
    db,
    redis: publisher,
    names,
    log: logger("price-orders"),
  });
  const settlement = new SettlementConsumer({
    kafka,
    db,
    names,
    log: logger("settlement"),
    onApplied: async (market, changes) => {
      await Promise.all([
        pushToUsers(market, changes),
        announceSettled(market, changes),
        priceOrders.placeFired(changes.triggered).catch((error: unknown) =>
          // The sweep places what is left triggered.
          logger("price-orders").warn({ err: error, market }, "placing fired price orders failed"),
        ),
      ]);
    },
  });
  await settlement.start();
  service.onStop(() => settlement.stop());
  priceOrders.start();
  service.onStop(() => priceOrders.stop());
  service.addReadiness(() =>
    settlement.stopped().map((stop) => ({
      name: `settlement:${stop.market}`,
      ok: false,
      detail: `stopped since ${stop.since}: ${stop.reason}`,
    })),
  );

  const engine = new EngineHost({
    kafka,
    db,
    etcd,
    names,
    log: logger("engine-host"),
    instanceId: workerEnv.WORKER_INSTANCE_ID,
    config,
    snapshotEvery: workerEnv.ENGINE_SNAPSHOT_EVERY,
    leaseTtlSeconds: workerEnv.WORKER_LEASE_TTL_SECONDS,
    offsetCommitIntervalMs: workerEnv.ENGINE_OFFSET_COMMIT_INTERVAL_MS,
    emitter,
    redis: publisher,
  });
  await engine.start();
  service.addReadiness(() => engine.readiness());
  // Stop hooks run last-added first: the engine stops (and snapshots) before settlement.
  service.onStop(() => engine.stop());

  const lag = startConsumerLagJob({ kafka, names, log: logger("consumer-lag") });
  service.onStop(async () => lag.stop());
  service.addReadiness(() =>
    lag.stuck().map((r) => ({
      name: `consumer:${r.group}:${r.partition}`,
      ok: false,
      detail: `lag ${r.lag}, committed offset ${r.committed} unmoved since ${new Date(r.stuckSince ?? 0).toISOString()}`,
    })),
  );

  // Cluster-wide singleton: every worker schedules it, the fenced lock lets one run at a time.
  const reconciliation = startReconciliationJob({
    db,
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
