// An operator's commands for a Redis or an etcd that came back empty (docs/operations/backups.md),
// run with every worker stopped:
//   npx tsx tools/deploy/src/backup-cli.ts redis-came-back-empty
//   npx tsx tools/deploy/src/backup-cli.ts etcd-came-back-empty [--margin N]
// Each reads PostgreSQL (DATABASE_URL) and writes Redis (REDIS_URL) or etcd (ETCD_ENDPOINTS)
// under SPOTX_NAMESPACE, as the services do; each is safe to run again. And to check a restored
// copy (DATABASE_URL pointing at it) before trusting it; exits 1 when reconciliation finds anything:
//   npx tsx tools/deploy/src/backup-cli.ts check-restore
import { database } from "@spotx/db";
import { etcdClient } from "@spotx/platform/etcd";
import { postgresPool } from "@spotx/platform/postgres";
import { redisClient } from "@spotx/platform/redis";
import { topology } from "@spotx/platform/topology";
import { checkRestore } from "./backup-check";
import {
  advanceEtcdRevision,
  highestEpoch,
  restoreFencingCounters,
  restoreLiveHalts,
} from "./backup-recovery";

const USAGE = `usage: backup-cli.ts redis-came-back-empty
       backup-cli.ts etcd-came-back-empty [--margin N]   (N: 0 to 1000000, default 10000)
       backup-cli.ts check-restore`;

/**
 * Revisions beyond the highest epoch settlement accepted: ownership claims made after its last
 * batch (takeovers whose events were not settled yet) carry higher epochs than it has seen.
 */
const DEFAULT_MARGIN = 10_000n;

function parseMargin(args: string[]): bigint | undefined {
  if (args.length === 0) return DEFAULT_MARGIN;
  if (args.length !== 2 || args[0] !== "--margin" || !/^\d{1,7}$/.test(args[1] ?? "")) {
    return undefined;
  }
  const margin = BigInt(args[1] ?? "");
  return margin <= 1_000_000n ? margin : undefined;
}

const [command, ...rest] = process.argv.slice(2);
const names = topology();
try {
  if (command === "redis-came-back-empty" && rest.length === 0) {
    const raised = await restoreFencingCounters(database(), redisClient(), names);
    console.log(`fencing counters raised: ${raised.length === 0 ? "none" : raised.join(", ")}`);
    redisClient().disconnect();
  } else if (command === "etcd-came-back-empty" && parseMargin(rest) !== undefined) {
    const margin = parseMargin(rest) ?? DEFAULT_MARGIN;
    const epoch = await highestEpoch(database());
    const revision = await advanceEtcdRevision(etcdClient(), names, epoch + margin);
    console.log(`etcd revision now ${revision} (highest settled epoch ${epoch}, margin ${margin})`);
    const halts = await restoreLiveHalts(database(), etcdClient(), names);
    console.log(`live halts written: ${halts.length === 0 ? "none" : halts.join(", ")}`);
    etcdClient().close();
  } else if (command === "check-restore" && rest.length === 0) {
    const check = await checkRestore(database());
    const { reconciliation: run } = check;
    console.log(
      `reconciliation: ${run.status}, ${run.accountsChecked} accounts, ${run.entriesChecked} entries`,
    );
    for (const finding of run.findings) console.log(`  ${finding.kind}: ${finding.detail}`);
    console.log(
      `users ${check.users}, trades ${check.trades}, orders ${JSON.stringify(check.orders, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`,
    );
    for (const [market, seq] of Object.entries(check.lastSeq)) {
      console.log(`  ${market}: settled through sequence ${seq}`);
    }
    console.log(
      `newest trade ${check.newestTradeAt ?? "none"}, newest order ${check.newestOrderAt ?? "none"}`,
    );
    if (run.findings.length > 0) process.exitCode = 1;
  } else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} finally {
  await postgresPool().end();
}
