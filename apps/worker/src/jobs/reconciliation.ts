// The reconciliation job: every few minutes, and on demand, one process in the cluster
// recomputes the ledger and compares it with balances and holds (@spotx/db runReconciliation),
// under the fenced `job:reconciliation` lock. Mismatches are logged at error level with the
// user and asset they concern; nothing is ever corrected here.
//
// How often: the run is a full scan of the ledger, so its cost grows with the exchange's
// history (1.4–1.9 s of a core after a few minutes of heavy trading on the dev machine, about 2 s
// per million entries), while what it guards is already enforced as it happens — balances never
// negative, every transfer balanced, history append-only are the database's own constraints and
// triggers. It is a detective check for bugs and tampering, for which minutes are soon enough;
// so the schedule waits at least `intervalMs` (5 minutes by default) and at least 50 times the
// last run's duration between runs, keeping the scan under 2 % of a core however large the
// ledger grows, instead of stalling a busy machine every minute.
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
  /** The least time between scheduled runs; default five minutes. */
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

/** A scheduled run takes at most 1/DUTY_FACTOR of the time: the wait after it is this many times its duration. */
export const DUTY_FACTOR = 50;

/** How long the schedule waits after a run that took `lastDurationMs` (null: none ran here). */
export function nextRunDelayMs(intervalMs: number, lastDurationMs: number | null): number {
  return Math.max(intervalMs, (lastDurationMs ?? 0) * DUTY_FACTOR);
}

export function startReconciliationJob(options: ReconciliationJobOptions): ReconciliationJob {
  const { db, log } = options;
  const locks = options.locks ?? new LockService(options.redis);
  const intervalMs = options.intervalMs ?? 300_000;
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let scheduledRunning = false;
  let timer: NodeJS.Timeout | undefined;

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

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(tick, delayMs);
    timer.unref();
  };

  const tick = () => {
    if (stopped || scheduledRunning) return;
    scheduledRunning = true;
    let duration: number | null = null;
    const running = run("schedule")
      .then((outcome) => {
        if (outcome.ran) duration = outcome.run.durationMs;
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "reconciliation run failed");
      })
      .finally(() => {
        scheduledRunning = false;
        schedule(nextRunDelayMs(intervalMs, duration));
      });
    inFlight = Promise.all([inFlight, running]);
  };

  if (options.runAtStart ?? true) tick();
  else schedule(intervalMs);

  return {
    async runNow() {
      if (stopped) throw new Error("the reconciliation job is stopped");
      const running = run("demand");
      inFlight = Promise.all([inFlight, running.catch(() => undefined)]);
      return running;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
