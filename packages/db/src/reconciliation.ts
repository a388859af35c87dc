// Reconciliation: recomputes what the ledger says and compares it with what the tables say, in
// one consistent snapshot. It records every run and each mismatch it finds, and exports
// metrics; it never corrects anything itself — a correction is an operator's `adjust` that
// references the finding.

import { processSingleton } from "@spotx/platform";
import { type LockService, LockUnavailableError } from "@spotx/platform/locks";
import { metrics, prometheus } from "@spotx/platform/metrics";
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { checkFence, type Fence } from "./fencing";
import { retryTransaction } from "./ledger";

export type FindingKind =
  | "available_mismatch"
  | "locked_mismatch"
  | "hold_mismatch"
  | "asset_not_zero"
  | "transfer_not_zero";

export type Finding = {
  kind: FindingKind;
  userId: bigint | null;
  asset: string | null;
  transferId: bigint | null;
  /** What the ledger entries (or, for holds, the open orders and pending withdrawals) say. */
  expected: bigint;
  /** What was found in balances (or the sum found, for zero-sum checks). */
  actual: bigint;
  detail: string;
};

export type ReconciliationRun = {
  id: bigint;
  startedAt: Date;
  finishedAt: Date;
  status: "clean" | "mismatch";
  fencingToken: bigint | null;
  accountsChecked: number;
  entriesChecked: bigint;
  durationMs: number;
  /** Each finding with the id it was recorded under. */
  findings: (Finding & { id: bigint })[];
};

export const reconciliationMetrics = processSingleton("reconciliation.metrics", () => ({
  findings: new prometheus.Gauge({
    name: "spotx_reconciliation_findings",
    help: "Mismatches found by the last reconciliation run (0 when the ledger is clean)",
    registers: [metrics.registry],
  }),
  lastRun: new prometheus.Gauge({
    name: "spotx_reconciliation_last_run_timestamp_seconds",
    help: "When the last reconciliation run finished (Unix seconds)",
    registers: [metrics.registry],
  }),
  duration: new prometheus.Gauge({
    name: "spotx_reconciliation_last_duration_seconds",
    help: "How long the last reconciliation run took",
    registers: [metrics.registry],
  }),
  runs: new prometheus.Counter({
    name: "spotx_reconciliation_runs_total",
    help: "Reconciliation runs by outcome (clean, mismatch, failed, skipped)",
    labelNames: ["outcome"] as const,
    registers: [metrics.registry],
  }),
}));

export const RECONCILIATION_LOCK = "job:reconciliation";

/**
 * Checks, in one REPEATABLE READ snapshot:
 * - every user balance (available and locked) equals the sum of its ledger entries;
 * - every user's locked balance equals the remaining holds of their live orders plus their
 *   pending withdrawals;
 * - every asset's entries, across user and system accounts, sum to zero, and so does every
 *   transfer's per asset;
 * then records the run and its findings. With a fence, the write is refused if a newer holder
 * of the reconciliation lock exists.
 */
export async function runReconciliation(
  db: Database,
  options: { fence?: Fence } = {},
): Promise<ReconciliationRun> {
  const startedAt = new Date();
  const started = performance.now();
  const run = await retryTransaction(() =>
    db.transaction(
      async (tx) => {
        if (options.fence) await checkFence(tx, options.fence);
        const findings: Finding[] = [];

        const accounts = await tx.execute<{
          user_id: bigint;
          asset: string;
          entries_available: bigint;
          entries_locked: bigint;
          balance_available: bigint | null;
          balance_locked: bigint | null;
        }>(sql`
          WITH sums AS (
            SELECT account_id,
                   coalesce(sum(amount) FILTER (WHERE bucket = 'available'), 0)::int8 AS available,
                   coalesce(sum(amount) FILTER (WHERE bucket = 'locked'), 0)::int8 AS locked
              FROM ledger_entries GROUP BY account_id
          )
          SELECT a.user_id, a.asset,
                 coalesce(s.available, 0)::int8 AS entries_available,
                 coalesce(s.locked, 0)::int8 AS entries_locked,
                 b.available AS balance_available, b.locked AS balance_locked
            FROM accounts a
            LEFT JOIN sums s ON s.account_id = a.id
            LEFT JOIN balances b ON b.account_id = a.id
           WHERE a.kind = 'user'
           ORDER BY a.user_id, a.asset`);
        for (const row of accounts.rows) {
          for (const bucket of ["available", "locked"] as const) {
            const expected = bucket === "available" ? row.entries_available : row.entries_locked;
            const actual =
              (bucket === "available" ? row.balance_available : row.balance_locked) ?? 0n;
            if (expected !== actual) {
              findings.push({
                kind: bucket === "available" ? "available_mismatch" : "locked_mismatch",
                userId: row.user_id,
                asset: row.asset,
                transferId: null,
                expected,
                actual,
                detail: `user ${row.user_id} ${row.asset}: balances.${bucket} is ${actual} but its ledger entries sum to ${expected}`,
              });
            }
          }
        }

        const holds = await tx.execute<{
          user_id: bigint;
          asset: string;
          held: bigint;
          locked: bigint;
        }>(sql`
          WITH held AS (
            SELECT user_id, hold_asset AS asset, hold_remaining AS amount
              FROM orders WHERE status IN ('pending', 'open')
            UNION ALL
            SELECT user_id, asset, amount FROM withdrawals WHERE status = 'pending'
          ), h AS (
            SELECT user_id, asset, sum(amount)::int8 AS held FROM held GROUP BY user_id, asset
          )
          SELECT coalesce(b.user_id, h.user_id) AS user_id, coalesce(b.asset, h.asset) AS asset,
                 coalesce(h.held, 0)::int8 AS held, coalesce(b.locked, 0)::int8 AS locked
            FROM balances b
            FULL JOIN h ON h.user_id = b.user_id AND h.asset = b.asset
           WHERE coalesce(h.held, 0) <> coalesce(b.locked, 0)
           ORDER BY 1, 2`);
        for (const row of holds.rows) {
          findings.push({
            kind: "hold_mismatch",
            userId: row.user_id,
            asset: row.asset,
            transferId: null,
            expected: row.held,
            actual: row.locked,
            detail: `user ${row.user_id} ${row.asset}: locked is ${row.locked} but live orders and pending withdrawals hold ${row.held}`,
          });
        }

        const assets = await tx.execute<{ asset: string; total: bigint; entries: bigint }>(sql`
          SELECT asset, sum(amount)::int8 AS total, count(*)::int8 AS entries
            FROM ledger_entries GROUP BY asset ORDER BY asset`);
        let entriesChecked = 0n;
        for (const row of assets.rows) {
          entriesChecked += row.entries;
          if (row.total !== 0n) {
            findings.push({
              kind: "asset_not_zero",
              userId: null,
              asset: row.asset,
              transferId: null,
              expected: 0n,
              actual: row.total,
              detail: `${row.asset}: ledger entries across all accounts sum to ${row.total}, not 0`,
            });
          }
        }

        const transfers = await tx.execute<{
          transfer_id: bigint;
          asset: string;
          total: bigint;
        }>(sql`
          SELECT transfer_id, asset, sum(amount)::int8 AS total
            FROM ledger_entries GROUP BY transfer_id, asset HAVING sum(amount) <> 0
           ORDER BY transfer_id LIMIT 1000`);
        for (const row of transfers.rows) {
          findings.push({
            kind: "transfer_not_zero",
            userId: null,
            asset: row.asset,
            transferId: row.transfer_id,
            expected: 0n,
            actual: row.total,
            detail: `transfer ${row.transfer_id}: ${row.asset} entries sum to ${row.total}, not 0`,
          });
        }

        const durationMs = Math.round(performance.now() - started);
        const inserted = await tx.execute<{ id: bigint; finished_at: string }>(sql`
          INSERT INTO reconciliation_runs (started_at, finished_at, status, fencing_token,
                                           accounts_checked, entries_checked, findings_count, duration_ms)
          VALUES (${startedAt.toISOString()}, clock_timestamp(), ${findings.length === 0 ? "clean" : "mismatch"},
                  ${options.fence?.token ?? null}, ${accounts.rows.length}, ${entriesChecked},
                  ${findings.length}, ${durationMs})
          RETURNING id, finished_at`);
        const runRow = inserted.rows[0];
        if (!runRow) throw new Error("reconciliation run was not recorded");
        let ids: bigint[] = [];
        if (findings.length > 0) {
          const written = await tx.execute<{ id: bigint }>(sql`
            INSERT INTO reconciliation_findings (run_id, kind, user_id, asset, transfer_id, expected, actual, detail)
            SELECT ${runRow.id}::bigint, kind, user_id, asset, transfer_id, expected, actual, detail
              FROM unnest(${sql.param(findings.map((f) => f.kind))}::reconciliation_finding_kind[],
                          ${sql.param(findings.map((f) => f.userId))}::bigint[],
                          ${sql.param(findings.map((f) => f.asset))}::text[],
                          ${sql.param(findings.map((f) => f.transferId))}::bigint[],
                          ${sql.param(findings.map((f) => f.expected))}::bigint[],
                          ${sql.param(findings.map((f) => f.actual))}::bigint[],
                          ${sql.param(findings.map((f) => f.detail))}::text[])
                   WITH ORDINALITY AS f(kind, user_id, asset, transfer_id, expected, actual, detail, n)
             ORDER BY n
            RETURNING id`);
          ids = written.rows.map((r) => r.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        }
        return {
          id: runRow.id,
          startedAt,
          finishedAt: new Date(runRow.finished_at),
          status: findings.length === 0 ? ("clean" as const) : ("mismatch" as const),
          fencingToken: options.fence?.token ?? null,
          accountsChecked: accounts.rows.length,
          entriesChecked,
          durationMs,
          findings: findings.map((f, i) => ({ ...f, id: ids[i] ?? 0n })),
        };
      },
      { isolationLevel: "repeatable read" },
    ),
  );
  reconciliationMetrics.findings.set(run.findings.length);
  reconciliationMetrics.lastRun.set(run.finishedAt.getTime() / 1000);
  reconciliationMetrics.duration.set(run.durationMs / 1000);
  reconciliationMetrics.runs.inc({ outcome: run.status });
  return run;
}

export type ExclusiveOutcome =
  | { ran: true; run: ReconciliationRun }
  | { ran: false; reason: "busy" };

/**
 * Runs reconciliation as the cluster-wide singleton: under the `job:reconciliation` lock, its
 * write fenced by the lock's token. When another process holds the lock, reports busy.
 */
export async function runReconciliationExclusive(
  db: Database,
  locks: LockService,
  options: { waitMs?: number; ttlMs?: number } = {},
): Promise<ExclusiveOutcome> {
  try {
    return await locks.withLock(
      RECONCILIATION_LOCK,
      { ttlMs: options.ttlMs ?? 60_000, waitMs: options.waitMs ?? 0 },
      async (lock) => ({ ran: true, run: await runReconciliation(db, { fence: lock.fence }) }),
    );
  } catch (error) {
    if (error instanceof LockUnavailableError) {
      reconciliationMetrics.runs.inc({ outcome: "skipped" });
      return { ran: false, reason: "busy" };
    }
    reconciliationMetrics.runs.inc({ outcome: "failed" });
    throw error;
  }
}
