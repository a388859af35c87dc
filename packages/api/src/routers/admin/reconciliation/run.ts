// admin.reconciliation.run: runs reconciliation now, as the cluster-wide singleton (under the
// fenced `job:reconciliation` lock, waiting up to 10 s for a run in progress elsewhere), and
// answers with the run and its findings. The run records itself; the operator's request is
// audited right after it, in a transaction of its own — the run reads in one REPEATABLE READ
// snapshot, and the audit chain is only extended from READ COMMITTED ones.
import { runReconciliationExclusive } from "@spotx/db";
import { breakers } from "@spotx/platform/breakers";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { ApiError } from "../../../errors";
import { operatorProcedure } from "../../../trpc";
import { presentFinding, presentRun, reconciliationFinding, reconciliationRun } from "./runs";

/** How many findings the answer carries; all of them are in reconciliation.findings. */
const FINDINGS_SHOWN = 100;

export const runReconciliationOutput = z.object({
  run: reconciliationRun,
  findings: z.array(reconciliationFinding),
});

export const runReconciliationProcedure = operatorProcedure
  .output(runReconciliationOutput)
  .mutation(async ({ ctx }) => {
    const { redis, locks } = ctx.services;
    // The singleton lock lives in Redis: an unavailable Redis fails fast here.
    await breakers.redis.run(() => redis.ping());
    const outcome = await runReconciliationExclusive(ctx.db, locks, { waitMs: 10_000 });
    if (!outcome.ran) {
      // Another process held the singleton lock for the whole wait: its run will be in the
      // history; asking again shortly starts a fresh one.
      throw new ApiError(
        "SERVICE_UNAVAILABLE",
        "a reconciliation run is in progress elsewhere; its result will be in the run history",
        { retryAfterSeconds: 10 },
      );
    }
    const { run } = outcome;
    await ctx.db.transaction((tx) =>
      auditOperatorAction(tx, ctx, {
        action: "reconciliation.run",
        subject: `reconciliation:${run.id}`,
        before: null,
        after: { status: run.status, findings: run.findings.length, durationMs: run.durationMs },
      }),
    );
    const units = await MarketUnits.load(ctx.db);
    return {
      run: presentRun({
        ...run,
        findingsCount: run.findings.length,
        auditHeadId: null,
        auditHeadHash: null,
      }),
      findings: run.findings
        .slice(0, FINDINGS_SHOWN)
        .map((f) => presentFinding({ ...f, runId: run.id }, units)),
    };
  });
