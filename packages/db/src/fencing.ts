// The database side of fenced locks. A Redis lock (platform/locks.ts) hands its holder a
// fencing token; every write the lock guards calls `checkFence` in its own transaction, which
// records the highest token seen per resource and refuses an older one. So a holder that was
// paused past its TTL, while a newer holder wrote, cannot write afterwards.
import type { Fence, LockService } from "@spotx/platform/locks";
import { sql } from "drizzle-orm";
import type { Transaction } from "./client";
import { LedgerError } from "./errors";
import { requireBigint, requireId, requireObject, requireText } from "./input";

export type { Fence } from "@spotx/platform/locks";

/**
 * Accepts `fence` if its token is above the highest this resource has seen, or equal to it and
 * from the same owner (one acquisition may guard several transactions), and records it; throws
 * STALE_FENCING_TOKEN otherwise. Tokens come from a Redis counter; were an increment ever lost
 * in a crash, two acquisitions could draw the same token — the owner id (random per
 * acquisition) tells them apart, so only the first to write with it may go on.
 * The row lock taken here also serialises concurrent guarded transactions on the resource.
 */
export async function checkFence(tx: Transaction, fence: Fence): Promise<void> {
  const f = requireObject(fence, "fence");
  const resource = requireText(f.resource, "fence resource");
  const token = requireBigint(f.token, "fence token", { min: 0n });
  const owner = requireText(f.owner, "fence owner", 300);
  const accepted = await tx.execute<{ last_token: bigint }>(sql`
    INSERT INTO fencing_tokens (resource, last_token, last_owner)
    VALUES (${resource}, ${token}, ${owner})
    ON CONFLICT (resource) DO UPDATE
       SET last_token = EXCLUDED.last_token, last_owner = EXCLUDED.last_owner, updated_at = now()
     WHERE fencing_tokens.last_token < EXCLUDED.last_token
        OR (fencing_tokens.last_token = EXCLUDED.last_token
            AND fencing_tokens.last_owner = EXCLUDED.last_owner)
    RETURNING last_token`);
  if (accepted.rows.length === 0) {
    throw new LedgerError(
      "STALE_FENCING_TOKEN",
      `lock ${resource}: token ${token} of ${owner} is older than one already used, or was used by another holder; the lock was lost`,
    );
  }
}

export const ACCOUNT_LOCK_TTL_MS = 10_000;

/** A LockService (or anything with its withLock), else INVALID_PARAM_VALUE. */
export function requireLockService(locks: unknown): asserts locks is LockService {
  if (
    typeof locks !== "object" ||
    locks === null ||
    typeof (locks as { withLock?: unknown }).withLock !== "function"
  ) {
    throw new LedgerError("INVALID_PARAM_VALUE", "locks must be a LockService");
  }
}

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
  requireLockService(locks);
  requireId(userId, "userId");
  if (typeof work !== "function")
    throw new LedgerError("INVALID_PARAM_VALUE", "work must be a function");
  const o = requireObject(options, "options");
  for (const key of ["ttlMs", "waitMs"] as const) {
    const value = o[key];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 3_600_000)
    ) {
      throw new LedgerError("INVALID_PARAM_VALUE", `${key} must be 1 to 3,600,000 milliseconds`);
    }
  }
  return locks.withLock(
    `account:${userId}`,
    { ttlMs: options.ttlMs ?? ACCOUNT_LOCK_TTL_MS, waitMs: options.waitMs ?? 5_000 },
    (lock) => work(lock.fence),
  );
}
