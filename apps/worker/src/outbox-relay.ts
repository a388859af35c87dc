// The outbox relay: publishes the commands that placement and cancels wrote to the outbox (in
// the same transaction as the order and its hold) to Kafka, with the idempotent producer and
// acks=all, and marks each row sent only after the broker acknowledged it. One relay runs at
// a time, cluster-wide, under a fenced Redis lock; the others wait for it. It wakes on
// LISTEN/NOTIFY (placement notifies after commit) and polls only as a fallback. A command the
// relay publishes twice (it crashed between the ack and marking the row) carries the same
// outbox id, by which the engine host drops the second copy.
//
// Rows are marked sent in one fenced transaction per `markEveryMs` (100 ms) rather than after
// every publish: a publish is a read and a produce, and the relay remembers what it published
// and has not marked yet, so it never reads those rows again. At the wake-ups of a busy
// exchange (a hundred a second) this takes three of every publish's five round trips to
// PostgreSQL away; a relay that dies publishes at most that much again, which the engine drops.
import { checkFence, type Database } from "@spotx/db";
import { executePrepared } from "@spotx/db/prepared";
import { processSingleton } from "@spotx/platform";
import type { Kafka, Producer } from "@spotx/platform/kafka";
import { byteChunks, idempotentProducer, MAX_SEND_BYTES } from "@spotx/platform/kafka";
import { type HeldLock, type LockService, LockUnavailableError } from "@spotx/platform/locks";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { PostgresClient, PostgresPool } from "@spotx/platform/postgres";
import type { Topology } from "@spotx/platform/topology";
import { COMMAND_HEADERS } from "@spotx/protocol";
import { sql } from "drizzle-orm";

export const relayMetrics = processSingleton("outbox-relay.metrics", () => ({
  published: new prometheus.Counter({
    name: "spotx_outbox_published_total",
    help: "Outbox rows published to Kafka and marked sent",
    registers: [metrics.registry],
  }),
  produceSeconds: new prometheus.Histogram({
    name: "spotx_outbox_produce_seconds",
    help: "Time for Kafka to acknowledge one batch of outbox rows (acks=all)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  }),
  backlog: new prometheus.Gauge({
    name: "spotx_outbox_backlog",
    help: "Outbox rows not yet published",
    registers: [metrics.registry],
  }),
  backlogAge: new prometheus.Gauge({
    name: "spotx_outbox_oldest_unsent_age_seconds",
    help: "Age of the oldest unpublished outbox row (0 when none)",
    registers: [metrics.registry],
  }),
  failures: new prometheus.Counter({
    name: "spotx_outbox_publish_failures_total",
    help: "Publish attempts that failed (the relay backs off and retries)",
    registers: [metrics.registry],
  }),
  active: new prometheus.Gauge({
    name: "spotx_outbox_relay_active",
    help: "1 on the worker that holds the relay lock and publishes",
    registers: [metrics.registry],
  }),
  pruned: new prometheus.Counter({
    name: "spotx_outbox_pruned_total",
    help: "Sent outbox rows deleted after the retention period",
    registers: [metrics.registry],
  }),
}));

export type OutboxRelayOptions = {
  db: Database;
  /** The pool the LISTEN connection is taken from (held for as long as this relay is active). */
  pool: PostgresPool;
  kafka: Kafka;
  locks: LockService;
  names: Topology;
  log: Logger;
  /** Rows per publish. */
  batchSize?: number;
  /** Sent rows are deleted after this long. */
  retentionMs?: number;
  /** How often to look for rows when no notification came. */
  pollMs?: number;
  /** Published rows are marked sent at least this often (and before the relay stops). */
  markEveryMs?: number;
};

type Row = {
  id: bigint;
  topic: string;
  key: string | null;
  payload: unknown;
  headers: Record<string, string>;
};

const LOCK_TTL_MS = 10_000;

/** Rows published and not yet marked sent: never read again by this relay. */
type Unmarked = { ids: bigint[]; since: number };

export class OutboxRelay {
  private stopping = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private backlogTimer: NodeJS.Timeout | undefined;
  private backlog = { rows: 0, oldestAgeMs: 0 };

  constructor(private readonly options: OutboxRelayOptions) {}

  /** The last measured backlog: unpublished rows and the age of the oldest. */
  lastBacklog(): { rows: number; oldestAgeMs: number } {
    return this.backlog;
  }

  start(): void {
    this.running = this.campaign();
    this.backlogTimer = setInterval(() => void this.measureBacklog(), 1_000);
    this.backlogTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.backlogTimer);
    this.wake?.();
    await this.running;
  }

  /** Tries for the relay lock until stopped; publishes while it holds it. */
  private async campaign(): Promise<void> {
    const { locks, names, log } = this.options;
    while (!this.stopping) {
      try {
        await locks.withLock(names.locks.outboxRelay, { ttlMs: LOCK_TTL_MS }, (lock, signal) =>
          this.relay(lock, signal),
        );
      } catch (error) {
        if (!(error instanceof LockUnavailableError)) {
          log.error({ err: error }, "outbox relay stopped; trying again");
        }
      }
      relayMetrics.active.set(0);
      if (!this.stopping) await this.sleep(1_000);
    }
  }

  private async relay(lock: HeldLock, signal: AbortSignal): Promise<void> {
    const { pool, kafka, names, log } = this.options;
    const retentionMs = this.options.retentionMs ?? 24 * 3600_000;
    const listener: PostgresClient = await pool.connect();
    let producer: Producer = idempotentProducer(kafka);
    let notified = true;
    const onNotification = () => {
      notified = true;
      this.wake?.();
    };
    listener.on("notification", onNotification);
    // A checked-out client has no one listening for its connection's death but us: without
    // this, a database failover's cut connection would be an unhandled error ending the worker.
    // The loop stops at its next turn and starts again with a fresh connection.
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost = error;
      this.wake?.();
    };
    listener.on("error", onError);
    try {
      await listener.query(`LISTEN ${names.postgres.outboxChannel}`);
      let connected = false;
      relayMetrics.active.set(1);
      log.info("outbox relay active");
      let failures = 0;
      let lastPrune = 0;
      const unmarked: Unmarked = { ids: [], since: 0 };
      const markEveryMs = this.options.markEveryMs ?? 100;
      while (!this.stopping && !signal.aborted) {
        if (lost) throw lost;
        if (Date.now() - lastPrune > 60_000) {
          lastPrune = Date.now();
          await this.prune(retentionMs);
        }
        notified = false;
        let published = 0;
        try {
          if (!connected) {
            await producer.connect();
            connected = true;
          }
          published = await this.publishOnce(producer, unmarked);
          if (unmarked.ids.length > 0 && Date.now() - unmarked.since >= markEveryMs) {
            await this.markSent(lock, unmarked);
          }
          failures = 0;
        } catch (error) {
          failures += 1;
          relayMetrics.failures.inc();
          const backoff = Math.min(5_000, 100 * 2 ** Math.min(failures, 6));
          log.warn({ err: error, failures, backoffMs: backoff }, "outbox publish failed; retrying");
          // Each retry with a new producer: kafkajs's idempotent producer does not recover from
          // a sequence error (as after a broker restart: tulios/kafkajs#598), and one that kept
          // failing would hold the backlog for good. The new one has a new producer id; rows
          // published again are dropped by the engine host by their outbox id.
          await producer.disconnect().catch(() => undefined);
          producer = idempotentProducer(kafka);
          connected = false;
          await this.sleep(backoff);
          continue;
        }
        // A full batch means more may be waiting; otherwise sleep until notified (or until the
        // published rows are due to be marked).
        if (published < (this.options.batchSize ?? 1_000) && !notified) {
          const markDue =
            unmarked.ids.length > 0 ? unmarked.since + markEveryMs - Date.now() : null;
          await this.sleep(
            Math.max(0, Math.min(this.options.pollMs ?? 1_000, markDue ?? Infinity)),
          );
        }
      }
      // Stopping: what was published is marked, while the lock is still ours.
      if (unmarked.ids.length > 0 && !signal.aborted) {
        await this.markSent(lock, unmarked).catch((error: unknown) =>
          log.warn({ err: error, rows: unmarked.ids.length }, "could not mark published rows sent"),
        );
      }
    } finally {
      relayMetrics.active.set(0);
      if (lost) {
        listener.release(lost); // the pool drops a broken connection instead of reusing it
      } else {
        await listener.query(`UNLISTEN ${names.postgres.outboxChannel}`).catch(() => undefined);
        listener.off("error", onError);
        listener.off("notification", onNotification);
        listener.release();
      }
      await producer.disconnect().catch(() => undefined);
    }
  }

  /** Publishes one batch of unsent rows not published yet; returns how many. */
  private async publishOnce(producer: Producer, unmarked: Unmarked): Promise<number> {
    const { db } = this.options;
    const limit = this.options.batchSize ?? 1_000;
    const found = await executePrepared<Row>(
      db,
      sql`
      SELECT id, topic, key, payload, headers
        FROM outbox
       WHERE sent_at IS NULL AND id <> ALL(${sql.param(unmarked.ids)}::bigint[])
       ORDER BY id LIMIT ${limit}`,
    );
    const rows = found.rows;
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, Row[]>();
    for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
    const started = performance.now();
    for (const [topic, list] of byTopic) {
      const messages = list.map((row) => ({
        key: row.key,
        value: JSON.stringify(row.payload),
        headers: { ...row.headers, [COMMAND_HEADERS.outboxId]: row.id.toString() },
      }));
      for (const chunk of byteChunks(messages, MAX_SEND_BYTES)) {
        await producer.send({ topic, acks: -1, messages: chunk });
      }
    }
    relayMetrics.produceSeconds.observe((performance.now() - started) / 1000);
    if (unmarked.ids.length === 0) unmarked.since = Date.now();
    for (const row of rows) unmarked.ids.push(row.id);
    relayMetrics.published.inc(rows.length);
    return rows.length;
  }

  /**
   * Marks the published rows sent, under the lock's fence: a relay that lost its lock while
   * paused cannot mark rows (it may have published them again; the engine host drops the
   * copies by outbox id).
   */
  private async markSent(lock: HeldLock, unmarked: Unmarked) {
    const ids = unmarked.ids;
    await this.options.db.transaction(async (tx) => {
      await checkFence(tx, lock.fence);
      await tx.execute(sql`
        UPDATE outbox SET sent_at = now()
         WHERE id = ANY(${sql.param(ids)}::bigint[]) AND sent_at IS NULL`);
    });
    unmarked.ids = unmarked.ids.slice(ids.length);
    unmarked.since = Date.now();
  }

  private async prune(retentionMs: number) {
    const deleted = await this.options.db.execute(sql`
      DELETE FROM outbox WHERE id IN (
        SELECT id FROM outbox
         WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => ${retentionMs / 1000})
         ORDER BY id LIMIT 10000)`);
    relayMetrics.pruned.inc(deleted.rowCount ?? 0);
  }

  private async measureBacklog() {
    try {
      const found = await this.options.db.execute<{ count: bigint; age_ms: bigint }>(sql`
        SELECT count(*)::int8 AS count,
               coalesce(extract(epoch FROM now() - min(created_at)) * 1000, 0)::int8 AS age_ms
          FROM outbox WHERE sent_at IS NULL`);
      const row = found.rows[0];
      this.backlog = {
        rows: Number(row?.count ?? 0n),
        oldestAgeMs: Math.max(0, Number(row?.age_ms ?? 0n)),
      };
      relayMetrics.backlog.set(this.backlog.rows);
      relayMetrics.backlogAge.set(this.backlog.oldestAgeMs / 1000);
    } catch {
      // The next tick tries again; /ready reports PostgreSQL itself.
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
