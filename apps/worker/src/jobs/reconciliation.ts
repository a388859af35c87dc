// The reconciliation job: every minute, and on demand, one process in the cluster recomputes
// the ledger and compares it with balances and holds (@spotx/db runReconciliation), under the
// fenced `job:reconciliation` lock. Mismatches are logged at error level with the user and
// asset they concern; nothing is ever corrected here.
import { type Database, type ExclusiveOutcome, runReconciliationExclusive } from "@spotx/db";
import { LockService } from "@spotx/platform/locks";
import type { Redis } from "@spotx/platform/redis";

/** The part of a pino logger the job uses. */
export type JobLog = {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
};

export type ReconciliationJobOptions = {
  db: Database;
  redis: Redis;
  log: JobLog;
  /** How often the schedule tries to run; default one minute. */
  intervalMs?: number;
  /** How long an on-demand run waits for another process's run to finish; default 30 s. */
  demandWaitMs?: number;
  /** Defaults to a LockService over `redis` with the standard key prefix. */
  locks?: LockService;
  /** Run once right away instead of after the first interval; default true. */
  runAtStart?: boolean;
};

export type ReconciliationJob = {
  /** Runs now (after any run in progress here), waiting for the cluster lock if another process holds it. */
  runNow(): Promise<ExclusiveOutcome>;
  /** Stops the schedule and waits for a run in progress. */
  stop(): Promise<void>;
};

export function startReconciliationJob(options: ReconciliationJobOptions): ReconciliationJob {
  const { db, log } = options;
  const locks = options.locks ?? new LockService(options.redis);
  const intervalMs = options.intervalMs ?? 60_000;
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let scheduledRunning = false;

  const run = async (trigger: "schedule" | "demand"): Promise<ExclusiveOutcome> => {
    const outcome = await runReconciliationExclusive(db, locks, {
      waitMs: trigger === "demand" ? (options.demandWaitMs ?? 30_000) : 0,
    });
    if (!outcome.ran) {
      log.debug({ trigger }, "reconciliation skipped: another process holds the lock");
      return outcome;
    }
    const { run: result } = outcome;
    const summary = {
      trigger,
      runId: result.id.toString(),
      fencingToken: result.fencingToken?.toString() ?? null,
      accountsChecked: result.accountsChecked,
      entriesChecked: result.entriesChecked.toString(),
      durationMs: result.durationMs,
    };
    if (result.status === "mismatch") {
      log.error(
        {
          ...summary,
          findings: result.findings.map((f) => ({
            id: f.id.toString(),
            kind: f.kind,
            userId: f.userId?.toString() ?? null,
            asset: f.asset,
            transferId: f.transferId?.toString() ?? null,
            expected: f.expected.toString(),
            actual: f.actual.toString(),
            detail: f.detail,
          })),
        },
        `reconciliation found ${result.findings.length} mismatch(es)`,
      );
    } else {
      log.info(summary, "reconciliation clean");
    }
    return outcome;
  };

  const tick = () => {
    if (stopped || scheduledRunning) return;
    scheduledRunning = true;
    const running = run("schedule")
      .catch((error: unknown) => {
        log.error({ err: error }, "reconciliation run failed");
      })
      .finally(() => {
        scheduledRunning = false;
      });
    inFlight = Promise.all([inFlight, running]);
  };

  const timer = setInterval(tick, intervalMs);
  timer.unref();
  if (options.runAtStart ?? true) tick();

  return {
    async runNow() {
      if (stopped) throw new Error("the reconciliation job is stopped");
      const running = run("demand");
      inFlight = Promise.all([inFlight, running.catch(() => undefined)]);
      return running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
