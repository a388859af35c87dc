// Putting back what spotx keeps on Redis and etcd after one of them comes back empty (a lost
// volume, a cluster rebuilt from nothing, a restore from an older snapshot). PostgreSQL holds
// what each needs: the highest fencing token written under every lock (fencing_tokens), every
// market's halt (markets.status), and the highest engine-owner epoch settlement accepted
// (market_sequences.last_epoch, an etcd revision). docs/operations/backups.md says when to run
// each; all three are idempotent.
import type { Database } from "@spotx/db";
import type { Etcd3 } from "@spotx/platform/etcd";
import { setMarketHalt } from "@spotx/platform/market-config";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";
import { BackupError } from "./backup";

/** Raises a counter to at least ARGV[1]; never lowers one that is already past it. */
const RAISE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0`;

/**
 * Sets each lock's fencing counter in Redis (`<ns>:lock:{<resource>}:token`) to at least the
 * highest token PostgreSQL accepted for it. A counter that restarted from zero hands out tokens
 * the database refuses (STALE_FENCING_TOKEN): the outbox relay could no longer mark rows sent,
 * reconciliation and fenced account operations would fail. Returns the resources raised.
 */
export async function restoreFencingCounters(
  db: Database,
  redis: Redis,
  names: Topology,
): Promise<string[]> {
  const found = await db.execute<{ resource: string; last_token: bigint }>(
    sql`SELECT resource, last_token FROM fencing_tokens ORDER BY resource`,
  );
  const raised: string[] = [];
  for (const { resource, last_token } of found.rows) {
    const key = `${names.locks.keyPrefix}{${resource}}:token`;
    if ((await redis.eval(RAISE, 1, key, last_token.toString())) === 1) raised.push(resource);
  }
  return raised;
}

/**
 * Writes the live halt (etcd `/<ns>/config/markets/<symbol>`) of every market that
 * markets.status says is halted or delisted and that has no live configuration: without it,
 * every process takes the market for trading and its engine owner appends a resume. A key that
 * exists is left alone. Returns the markets written.
 */
export async function restoreLiveHalts(
  db: Database,
  etcd: Etcd3,
  names: Topology,
): Promise<string[]> {
  const found = await db.execute<{ symbol: string; status: string }>(
    sql`SELECT symbol, status FROM markets WHERE status <> 'trading' ORDER BY symbol`,
  );
  const written: string[] = [];
  for (const { symbol, status } of found.rows) {
    if ((await etcd.get(names.etcd.marketConfig(symbol)).string()) !== null) continue;
    await setMarketHalt(
      etcd,
      symbol,
      { halted: true, reason: `restored from markets.status (${status})`, by: "restore" },
      names,
    );
    written.push(symbol);
  }
  return written;
}

/** The highest engine-owner epoch (etcd revision) settlement has accepted for any market. */
export async function highestEpoch(db: Database): Promise<bigint> {
  const found = await db.execute<{ epoch: bigint }>(
    sql`SELECT coalesce(max(last_epoch), 0)::int8 AS epoch FROM market_sequences`,
  );
  return found.rows[0]?.epoch ?? 0n;
}

/** Refuses to write more than this many keys: a bigger gap is a mistake in `past`. */
const MAX_ADVANCE = 10_000_000n;

/**
 * Writes a scratch key until etcd's revision is past `past`. An engine owner's epoch is the
 * revision of its ownership key; an etcd whose revisions start again from 1 gives new owners
 * epochs below the ones settlement has seen, and settlement ignores their events as a zombie's.
 * etcd has no way to set its revision (etcdutl's --bump-revision is 3.5.8+, on restore only),
 * so it is moved on by writes. Returns the revision reached.
 */
export async function advanceEtcdRevision(
  etcd: Etcd3,
  names: Topology,
  past: bigint,
): Promise<bigint> {
  if (typeof past !== "bigint" || past < 0n) {
    throw new BackupError("INVALID_PARAM_VALUE", "past must be a non-negative bigint");
  }
  const key = `/${names.namespace}/maintenance/revision`;
  const put = async () => BigInt((await etcd.put(key).value("advance")).header.revision);
  let revision = await put();
  if (past - revision > MAX_ADVANCE) {
    throw new BackupError(
      "INVALID_PARAM_VALUE",
      `etcd is at revision ${revision}: advancing past ${past} would take more than ${MAX_ADVANCE} writes`,
    );
  }
  while (revision <= past) {
    // A few hundred writes in flight at once; each moves the revision by one.
    const batch = Number(past - revision < 500n ? past - revision + 1n : 500n);
    const reached = await Promise.all(Array.from({ length: batch }, put));
    for (const r of reached) if (r > revision) revision = r;
  }
  await etcd.delete().key(key);
  return revision;
}
