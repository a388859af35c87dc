// `npm run reconcile -w @spotx/db`: one reconciliation run now, as the cluster-wide singleton
// (waits up to 30 s for a run in progress elsewhere). Exits 1 when it finds mismatches.
import { LockService } from "@spotx/platform/locks";
import { postgresPool } from "@spotx/platform/postgres";
import { redisClient } from "@spotx/platform/redis";
import { database } from "../client";
import { runReconciliationExclusive } from "../reconciliation";

const outcome = await runReconciliationExclusive(database(), new LockService(redisClient()), {
  waitMs: 30_000,
});
if (!outcome.ran) {
  console.log("another process is reconciling; try again later");
} else {
  const { run } = outcome;
  console.log(
    `run ${run.id}: ${run.status}, ${run.accountsChecked} accounts, ${run.entriesChecked} entries, ${run.durationMs} ms`,
  );
  for (const finding of run.findings)
    console.log(`  #${finding.id} ${finding.kind}: ${finding.detail}`);
}
await postgresPool().end();
redisClient().disconnect();
process.exitCode = outcome.ran && outcome.run.status === "mismatch" ? 1 : 0;
