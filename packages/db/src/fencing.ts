// The database side of fenced locks. A Redis lock (platform/locks.ts) hands its holder a
// fencing token; every write the lock guards calls `checkFence` in its own transaction, which
// records the highest token seen per resource and refuses an older one. So a holder that was
// paused past its TTL, while a newer holder wrote, cannot write afterwards.
import type { Fence, LockService } from "@spotx/platform/locks";
import { sql } from "drizzle-orm";
import type { Transaction } from "./client";
import { LedgerError } from "./errors";

export type { Fence } from "@spotx/platform/locks";

/**
 * Accepts `fence` if its token is at least the highest this resource has seen, and records it;
 * throws STALE_FENCING_TOKEN otherwise. Tokens are unique per acquisition, so an equal token
 * is the same holder writing again under the same acquisition (a job may guard several
 * transactions with one lock), while any newer acquisition's token shuts out all older ones.
 * The row lock taken here also serialises concurrent guarded transactions on the resource.
 */
export async function checkFence(tx: Transaction, fence: Fence): Promise<void> {
  const accepted = await tx.execute<{ last_token: bigint }>(sql`
    INSERT INTO fencing_tokens (resource, last_token) VALUES (${fence.resource}, ${fence.token})
    ON CONFLICT (resource) DO UPDATE
       SET last_token = EXCLUDED.last_token, updated_at = now()
     WHERE fencing_tokens.last_token <= EXCLUDED.last_token
    RETURNING last_token`);
  if (accepted.rows.length === 0) {
    throw new LedgerError(
      "STALE_FENCING_TOKEN",
      `lock ${fence.resource}: token ${fence.token} is older than one already used; the lock was lost`,
    );
  }
}

export const ACCOUNT_LOCK_TTL_MS = 10_000;

/**
 * Runs `work` holding the `account:<userId>` lock (withdrawal processing, operator
 * adjustments), passing the fence its guarded transaction must check.
 */
export async function withAccountLock<T>(
  locks: LockService,
  userId: bigint,
  work: (fence: Fence) => Promise<T>,
  options: { ttlMs?: number; waitMs?: number } = {},
): Promise<T> {
  return locks.withLock(
    `account:${userId}`,
    { ttlMs: options.ttlMs ?? ACCOUNT_LOCK_TTL_MS, waitMs: options.waitMs ?? 5_000 },
    (lock) => work(lock.fence),
  );
}
