// The double-entry core: accounts, balanced transfers and balance changes, and the simple
// operations built from them (deposit, operator adjustment). Every public operation is one
// PostgreSQL transaction, idempotent by its reference: the transfer's unique `ref`.

import type { LockService } from "@spotx/platform/locks";
import { sql } from "drizzle-orm";
import type { Database, Transaction } from "./client";
import { invariant, LedgerError } from "./errors";
import { checkFence, type Fence, withAccountLock } from "./fencing";

export type Bucket = "available" | "locked";
export type SystemAccountKind = "external" | "fees" | "adjustment";
export type TransferKind =
  | "deposit"
  | "hold"
  | "release"
  | "order_hold"
  | "order_release"
  | "trade"
  | "withdrawal_hold"
  | "withdrawal_payout"
  | "withdrawal_return"
  | "adjustment";

export type Entry = { accountId: bigint; asset: string; bucket: Bucket; amount: bigint };

export type Balance = {
  userId: bigint;
  asset: string;
  available: bigint;
  locked: bigint;
  updateId: bigint;
};

/** The balance changes and transfer of one applied operation (for user-private pushes). */
export type TransferOutcome = {
  transferId: bigint;
  /** True when the reference had been applied before: nothing changed this time. */
  duplicate: boolean;
  balances: Balance[];
};

// ---------------------------------------------------------------------------------------------
// PostgreSQL errors and retries

/** The SQLSTATE of a PostgreSQL error, looking through drizzle's wrapping. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const RETRYABLE = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected

/**
 * Runs a whole transaction again when PostgreSQL aborted it for a deadlock or serialization
 * failure. Safe because every operation is idempotent by its reference.
 */
export async function retryTransaction<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = pgErrorCode(error);
      if (attempt >= attempts || code === undefined || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts

/** The account id of a system account; every asset has one of each (created by trigger). */
export async function systemAccountId(
  tx: Transaction,
  kind: SystemAccountKind,
  asset: string,
): Promise<bigint> {
  const found = await tx.execute<{ id: bigint }>(
    sql`SELECT id FROM accounts WHERE kind = ${kind} AND user_id IS NULL AND asset = ${asset}`,
  );
  const id = found.rows[0]?.id;
  if (id === undefined) throw new LedgerError("INVALID_PARAM_VALUE", `unknown asset ${asset}`);
  return id;
}

/** The account id of a user's account in an asset, creating the account and its balance row. */
export async function userAccountId(
  tx: Transaction,
  userId: bigint,
  asset: string,
): Promise<bigint> {
  const ids = await userAccountIds(tx, [{ userId, asset }]);
  const id = ids.get(accountKey(userId, asset));
  invariant(id !== undefined, `account of user ${userId} in ${asset} was not created`);
  return id;
}

export const accountKey = (userId: bigint, asset: string) => `${userId}:${asset}`;

/** Account ids for many (user, asset) pairs, creating what is missing, keyed by accountKey. */
export async function userAccountIds(
  tx: Transaction,
  pairs: readonly { userId: bigint; asset: string }[],
): Promise<Map<string, bigint>> {
  const userIds = pairs.map((p) => p.userId);
  const assets = pairs.map((p) => p.asset);
  const select = () =>
    tx.execute<{ account_id: bigint; user_id: bigint; asset: string }>(sql`
      SELECT b.account_id, b.user_id, b.asset
        FROM balances b
        JOIN unnest(${sql.param(userIds)}::bigint[], ${sql.param(assets)}::text[]) AS p(user_id, asset)
          ON b.user_id = p.user_id AND b.asset = p.asset`);
  let rows = (await select()).rows;
  if (rows.length < new Set(pairs.map((p) => accountKey(p.userId, p.asset))).size) {
    // New accounts: concurrent creators wait on the unique constraint and then find the row.
    await tx.execute(sql`
      WITH p AS (
        SELECT DISTINCT * FROM unnest(${sql.param(userIds)}::bigint[], ${sql.param(assets)}::text[]) AS p(user_id, asset)
      )
      INSERT INTO accounts (kind, user_id, asset)
      SELECT 'user', user_id, asset FROM p
      ON CONFLICT ON CONSTRAINT accounts_identity DO NOTHING`);
    await tx.execute(sql`
      INSERT INTO balances (account_id, user_id, asset)
      SELECT a.id, a.user_id, a.asset
        FROM accounts a
        JOIN unnest(${sql.param(userIds)}::bigint[], ${sql.param(assets)}::text[]) AS p(user_id, asset)
          ON a.kind = 'user' AND a.user_id = p.user_id AND a.asset = p.asset
      ON CONFLICT DO NOTHING`);
    rows = (await select()).rows;
  }
  return new Map(rows.map((r) => [accountKey(r.user_id, r.asset), r.account_id]));
}

// ---------------------------------------------------------------------------------------------
// Transfers

/** Asserts the double-entry rule in code: ≥ 2 non-zero entries summing to zero per asset. */
export function assertBalanced(ref: string, entries: readonly Entry[]): void {
  invariant(entries.length >= 2, () => `transfer ${ref} has ${entries.length} entries`);
  const sums = new Map<string, bigint>();
  for (const entry of entries) {
    invariant(entry.amount !== 0n, () => `transfer ${ref} has a zero entry`);
    sums.set(entry.asset, (sums.get(entry.asset) ?? 0n) + entry.amount);
  }
  for (const [asset, sum] of sums) {
    invariant(sum === 0n, () => `transfer ${ref} does not balance in ${asset}: sum ${sum}`);
  }
}

/** Drops zero amounts (a zero fee has no entry) and checks what is left balances. */
export function balancedEntries(ref: string, entries: readonly Entry[]): Entry[] {
  const kept = entries.filter((e) => e.amount !== 0n);
  assertBalanced(ref, kept);
  return kept;
}

/** Inserts the transfer row, or returns null when its ref already exists (a duplicate). */
async function insertTransfer(tx: Transaction, kind: TransferKind, ref: string) {
  const inserted = await tx.execute<{ id: bigint }>(
    sql`INSERT INTO transfers (kind, ref) VALUES (${kind}, ${ref}) ON CONFLICT (ref) DO NOTHING RETURNING id`,
  );
  return inserted.rows[0]?.id ?? null;
}

async function insertEntries(tx: Transaction, transferId: bigint, entries: readonly Entry[]) {
  await tx.execute(sql`
    INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
    SELECT ${transferId}::bigint, idx - 1, account_id, asset, bucket, amount
      FROM unnest(
        ${sql.param(entries.map((e) => e.accountId))}::bigint[],
        ${sql.param(entries.map((e) => e.asset))}::text[],
        ${sql.param(entries.map((e) => e.bucket))}::ledger_bucket[],
        ${sql.param(entries.map((e) => e.amount))}::bigint[]
      ) WITH ORDINALITY AS e(account_id, asset, bucket, amount, idx)`);
}

/**
 * A transfer that was already applied under `ref`: fine if it moved the same amounts between
 * the same accounts, IDEMPOTENCY_CONFLICT if the reference was reused for something else.
 */
async function existingTransfer(tx: Transaction, ref: string, entries: readonly Entry[]) {
  const found = await tx.execute<{
    transfer_id: bigint;
    account_id: bigint;
    asset: string;
    bucket: Bucket;
    amount: bigint;
  }>(sql`
    SELECT e.transfer_id, e.account_id, e.asset, e.bucket, e.amount
      FROM transfers t JOIN ledger_entries e ON e.transfer_id = t.id
     WHERE t.ref = ${ref}
     ORDER BY e.idx`);
  const describe = (list: readonly Omit<Entry, never>[]) =>
    list.map((e) => `${e.accountId}/${e.asset}/${e.bucket}/${e.amount}`).join(",");
  const existing = found.rows.map((r) => ({
    accountId: r.account_id,
    asset: r.asset,
    bucket: r.bucket,
    amount: r.amount,
  }));
  if (describe(existing) !== describe(entries)) {
    throw new LedgerError(
      "IDEMPOTENCY_CONFLICT",
      `reference ${ref} was already used for a different operation`,
    );
  }
  const transferId = found.rows[0]?.transfer_id;
  invariant(transferId !== undefined, `transfer ${ref} has no entries`);
  return transferId;
}

/**
 * Changes one user balance by the given deltas if neither part would go negative; null when it
 * would (the caller decides whether that is BALANCE_NOT_ENOUGH or a broken invariant).
 */
export async function changeBalance(
  tx: Transaction,
  accountId: bigint,
  availableDelta: bigint,
  lockedDelta: bigint,
): Promise<Balance | null> {
  const updated = await tx.execute<{
    user_id: bigint;
    asset: string;
    available: bigint;
    locked: bigint;
    update_id: bigint;
  }>(sql`
    UPDATE balances
       SET available = available + ${availableDelta}::bigint,
           locked = locked + ${lockedDelta}::bigint,
           update_id = update_id + 1,
           updated_at = now()
     WHERE account_id = ${accountId}
       AND available + ${availableDelta}::bigint >= 0
       AND locked + ${lockedDelta}::bigint >= 0
     RETURNING user_id, asset, available, locked, update_id`);
  const row = updated.rows[0];
  return row
    ? {
        userId: row.user_id,
        asset: row.asset,
        available: row.available,
        locked: row.locked,
        updateId: row.update_id,
      }
    : null;
}

type UserChange = { accountId: bigint; available: bigint; locked: bigint };

/**
 * Posts one transfer inside `tx`: inserts the transfer (or finds it already applied), changes
 * the user balances it touches and writes its entries. The user changes must be exactly the
 * entries on user accounts; `insufficient` is thrown when a balance would go negative.
 */
export async function postTransfer(
  tx: Transaction,
  transfer: {
    kind: TransferKind;
    ref: string;
    entries: readonly Entry[];
    userChanges: readonly UserChange[];
    insufficient: () => Error;
  },
): Promise<TransferOutcome> {
  const entries = balancedEntries(transfer.ref, transfer.entries);
  const transferId = await insertTransfer(tx, transfer.kind, transfer.ref);
  if (transferId === null) {
    return {
      transferId: await existingTransfer(tx, transfer.ref, entries),
      duplicate: true,
      balances: [],
    };
  }
  const balances: Balance[] = [];
  // Debits first in a fixed order (by account id), so two transfers never wait on each other
  // in opposite orders.
  const changes = [...transfer.userChanges].sort((a, b) =>
    a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
  );
  for (const change of changes) {
    const balance = await changeBalance(tx, change.accountId, change.available, change.locked);
    if (!balance) throw transfer.insufficient();
    balances.push(balance);
  }
  await insertEntries(tx, transferId, entries);
  return { transferId, duplicate: false, balances };
}

/** Moves `amount` of a user's asset between buckets (available → locked for a hold). */
export async function moveBetweenBuckets(
  tx: Transaction,
  input: {
    userId: bigint;
    asset: string;
    amount: bigint;
    from: Bucket;
    kind: TransferKind;
    ref: string;
  },
): Promise<TransferOutcome> {
  invariant(input.amount > 0n, () => `${input.kind} ${input.ref} of ${input.amount}`);
  const accountId = await userAccountId(tx, input.userId, input.asset);
  const to: Bucket = input.from === "available" ? "locked" : "available";
  const toLocked = input.from === "available" ? input.amount : -input.amount;
  return postTransfer(tx, {
    kind: input.kind,
    ref: input.ref,
    entries: [
      { accountId, asset: input.asset, bucket: input.from, amount: -input.amount },
      { accountId, asset: input.asset, bucket: to, amount: input.amount },
    ],
    userChanges: [{ accountId, available: -toLocked, locked: toLocked }],
    insufficient: () =>
      new LedgerError(
        "BALANCE_NOT_ENOUGH",
        `user ${input.userId} has less than ${input.amount} ${input.asset} ${input.from}`,
      ),
  });
}

/**
 * Building blocks for callers composing their own transaction: a hold moves available →
 * locked, a release locked → available. Whatever a hold is for must be recorded in the same
 * transaction (an order's hold_remaining, a pending withdrawal), or reconciliation reports
 * the user's locked balance as unexplained.
 */
export function holdFunds(
  tx: Transaction,
  input: { userId: bigint; asset: string; amount: bigint; ref: string; kind?: TransferKind },
) {
  return moveBetweenBuckets(tx, { ...input, from: "available", kind: input.kind ?? "hold" });
}

export function releaseFunds(
  tx: Transaction,
  input: { userId: bigint; asset: string; amount: bigint; ref: string; kind?: TransferKind },
) {
  return moveBetweenBuckets(tx, { ...input, from: "locked", kind: input.kind ?? "release" });
}

// ---------------------------------------------------------------------------------------------
// Users and assets

async function requireUser(tx: Transaction, userId: bigint) {
  const found = await tx.execute<{ status: string; role: string }>(
    sql`SELECT status, role FROM users WHERE id = ${userId}`,
  );
  const user = found.rows[0];
  if (!user) throw new LedgerError("NOT_FOUND", `user ${userId} does not exist`);
  return user;
}

export async function requireActiveUser(tx: Transaction, userId: bigint) {
  const user = await requireUser(tx, userId);
  if (user.status !== "active") {
    throw new LedgerError("FORBIDDEN", `user ${userId} is frozen`);
  }
  return user;
}

export async function requireOperator(tx: Transaction, operatorId: bigint) {
  const user = await requireUser(tx, operatorId);
  if (user.role !== "operator" || user.status !== "active") {
    throw new LedgerError("FORBIDDEN", `user ${operatorId} is not an active operator`);
  }
}

export async function requireAsset(tx: Transaction, asset: string) {
  const found = await tx.execute<{
    decimals: number;
    deposit_enabled: boolean;
    withdraw_enabled: boolean;
  }>(sql`SELECT decimals, deposit_enabled, withdraw_enabled FROM assets WHERE symbol = ${asset}`);
  const row = found.rows[0];
  if (!row) throw new LedgerError("INVALID_PARAM_VALUE", `unknown asset ${asset}`);
  return row;
}

export function requirePositive(amount: bigint, what: string) {
  if (amount <= 0n) throw new LedgerError("INVALID_PARAM_VALUE", `${what} must be positive`);
}

export async function writeAudit(
  tx: Transaction,
  entry: { actorId: bigint | null; action: string; subject: string; details: unknown },
): Promise<bigint> {
  const inserted = await tx.execute<{ id: bigint }>(sql`
    INSERT INTO audit_log (actor_id, action, subject, details)
    VALUES (${entry.actorId}, ${entry.action}, ${entry.subject},
            ${JSON.stringify(entry.details, (_, v) => (typeof v === "bigint" ? v.toString() : v))}::jsonb)
    RETURNING id`);
  const id = inserted.rows[0]?.id;
  invariant(id !== undefined, "audit row not written");
  return id;
}

// ---------------------------------------------------------------------------------------------
// Deposits and adjustments

/**
 * Credits a user from the asset's external account (a simulated deposit). Idempotent by `ref`:
 * the same ref again changes nothing; the same ref with other values is IDEMPOTENCY_CONFLICT.
 */
export async function deposit(
  db: Database,
  input: { userId: bigint; asset: string; amount: bigint; ref: string },
): Promise<TransferOutcome> {
  requirePositive(input.amount, "deposit amount");
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      const asset = await requireAsset(tx, input.asset);
      if (!asset.deposit_enabled) {
        throw new LedgerError("INVALID_PARAM_VALUE", `deposits of ${input.asset} are disabled`);
      }
      await requireUser(tx, input.userId);
      const accountId = await userAccountId(tx, input.userId, input.asset);
      const external = await systemAccountId(tx, "external", input.asset);
      return postTransfer(tx, {
        kind: "deposit",
        ref: `deposit:${input.ref}`,
        entries: [
          { accountId: external, asset: input.asset, bucket: "available", amount: -input.amount },
          { accountId, asset: input.asset, bucket: "available", amount: input.amount },
        ],
        userChanges: [{ accountId, available: input.amount, locked: 0n }],
        insufficient: () => new Error("a deposit cannot make a balance negative"),
      });
    }),
  );
}

export type AdjustInput = {
  userId: bigint;
  asset: string;
  /** Signed: positive credits the user's available balance, negative debits it. */
  amount: bigint;
  reason: string;
  operatorId: bigint;
  ref: string;
  /** The reconciliation finding this corrects, when it corrects one. */
  findingId?: bigint;
  /** The fencing token of the `account:<userId>` lock the operator action holds. */
  fence: Fence;
};

/**
 * An operator's correction of a user's available balance against the asset's adjustment
 * account, always written to the audit log. Runs under the account lock's fence.
 */
export async function adjust(db: Database, input: AdjustInput): Promise<TransferOutcome> {
  if (input.amount === 0n) throw new LedgerError("INVALID_PARAM_VALUE", "adjustment of 0");
  if (input.reason.trim().length === 0) {
    throw new LedgerError("INVALID_PARAM_VALUE", "an adjustment needs a reason");
  }
  assertAccountFence(input.fence, input.userId);
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      await checkFence(tx, input.fence);
      await requireOperator(tx, input.operatorId);
      await requireAsset(tx, input.asset);
      await requireUser(tx, input.userId);
      const accountId = await userAccountId(tx, input.userId, input.asset);
      const adjustment = await systemAccountId(tx, "adjustment", input.asset);
      const outcome = await postTransfer(tx, {
        kind: "adjustment",
        ref: `adjustment:${input.ref}`,
        entries: [
          { accountId: adjustment, asset: input.asset, bucket: "available", amount: -input.amount },
          { accountId, asset: input.asset, bucket: "available", amount: input.amount },
        ],
        userChanges: [{ accountId, available: input.amount, locked: 0n }],
        insufficient: () =>
          new LedgerError(
            "BALANCE_NOT_ENOUGH",
            `user ${input.userId} has less than ${-input.amount} ${input.asset} available`,
          ),
      });
      if (!outcome.duplicate) {
        await writeAudit(tx, {
          actorId: input.operatorId,
          action: "ledger.adjust",
          subject: `user:${input.userId}`,
          details: {
            asset: input.asset,
            amount: input.amount,
            reason: input.reason,
            ref: input.ref,
            findingId: input.findingId ?? null,
            transferId: outcome.transferId,
            fencingToken: input.fence.token,
          },
        });
      }
      return outcome;
    }),
  );
}

/** An operator adjustment taken under the `account:<userId>` lock (see `adjust`). */
export async function adjustWithLock(
  db: Database,
  locks: LockService,
  input: Omit<AdjustInput, "fence">,
): Promise<TransferOutcome> {
  return withAccountLock(locks, input.userId, (fence) => adjust(db, { ...input, fence }));
}

/** The lock resource that serialises fund operations spanning an account. */
export const accountLockResource = (userId: bigint) => `account:${userId}`;

export function assertAccountFence(fence: Fence, userId: bigint) {
  if (fence.resource !== accountLockResource(userId)) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `operation on user ${userId} fenced by ${fence.resource}, not ${accountLockResource(userId)}`,
    );
  }
}
