// The double-entry core: accounts, balanced transfers and balance changes, and the simple
// operations built from them (deposit, operator adjustment). Every public operation is one
// PostgreSQL transaction, idempotent by its reference: the transfer's unique `ref`.

import type { LockService } from "@spotx/platform/locks";
import { sql } from "drizzle-orm";
import { type AuditOrigin, parseAuditOrigin } from "./audit-origin";
import type { Database, Transaction } from "./client";
import { invariant, LedgerError } from "./errors";
import { checkFence, type Fence, withAccountLock } from "./fencing";
import {
  INT8_MAX,
  requireAmount,
  requireAssetSymbol,
  requireBigint,
  requireId,
  requireObject,
  requireOneOf,
  requireText,
  showValue,
} from "./input";
import { jsonSafe } from "./orders";

export type Bucket = "available" | "locked";
export type SystemAccountKind = "external" | "fees" | "adjustment";
const SYSTEM_ACCOUNT_KINDS: readonly SystemAccountKind[] = ["external", "fees", "adjustment"];
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

/** The constraint a PostgreSQL error names (unique, check, foreign key), through drizzle's wrapping. */
export function pgConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const constraint = (current as { constraint?: unknown }).constraint;
    if (typeof constraint === "string") return constraint;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const RETRYABLE = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected

/**
 * Runs a whole transaction again when PostgreSQL aborted it for a deadlock or serialization
 * failure (or for what `retryAlso` accepts). Safe because every operation is idempotent by its
 * reference.
 */
export async function retryTransaction<T>(
  work: () => Promise<T>,
  attempts = 5,
  retryAlso?: (error: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = pgErrorCode(error);
      const retryable = (code !== undefined && RETRYABLE.has(code)) || retryAlso?.(error) === true;
      if (attempt >= attempts || !retryable) throw error;
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
  requireOneOf(kind, SYSTEM_ACCOUNT_KINDS, "system account kind");
  requireAssetSymbol(asset);
  const found = await tx.execute<{ id: bigint }>(
    sql`SELECT id FROM accounts WHERE kind = ${kind} AND user_id IS NULL AND asset = ${asset}`,
  );
  const id = found.rows[0]?.id;
  if (id === undefined) throw new LedgerError("INVALID_PARAM_VALUE", `unknown asset ${asset}`);
  return id;
}

/**
 * The account id of a user's account in an asset, creating the account and its balance row.
 * NOT_FOUND for an unknown user, INVALID_PARAM_VALUE for an unknown asset.
 */
export async function userAccountId(
  tx: Transaction,
  userId: bigint,
  asset: string,
): Promise<bigint> {
  requireId(userId, "userId");
  requireAssetSymbol(asset);
  await requireUser(tx, userId);
  await requireAsset(tx, asset);
  return accountIdOf(tx, userId, asset);
}

/** userAccountId for a user and asset the caller has already checked. */
async function accountIdOf(tx: Transaction, userId: bigint, asset: string): Promise<bigint> {
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
 * would (the caller decides whether that is BALANCE_NOT_ENOUGH or a broken invariant). A change
 * that would carry a part past the largest int8 is INVALID_PARAM_VALUE (compared in numeric,
 * so PostgreSQL never raises its own overflow error).
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
    too_large: boolean;
  }>(sql`
    WITH b AS (
      SELECT account_id,
             available::numeric + ${availableDelta}::numeric AS available,
             locked::numeric + ${lockedDelta}::numeric AS locked
        FROM balances WHERE account_id = ${accountId}
    ), u AS (
      UPDATE balances
         SET available = b.available::bigint, locked = b.locked::bigint,
             update_id = update_id + 1, updated_at = now()
        FROM b
       WHERE balances.account_id = b.account_id
         AND b.available BETWEEN 0 AND ${INT8_MAX}::numeric
         AND b.locked BETWEEN 0 AND ${INT8_MAX}::numeric
      RETURNING balances.user_id, balances.asset, balances.available, balances.locked,
                balances.update_id, false AS too_large
    )
    SELECT * FROM u
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, NULL, true FROM b
     WHERE NOT EXISTS (SELECT 1 FROM u)
       AND (b.available > ${INT8_MAX}::numeric OR b.locked > ${INT8_MAX}::numeric)`);
  const row = updated.rows[0];
  if (row?.too_large) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      "the balance would exceed the largest amount a balance holds",
    );
  }
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

type TransferSpec = {
  kind: TransferKind;
  ref: string;
  entries: readonly Entry[];
  userChanges: readonly UserChange[];
  insufficient: () => Error;
};

export const TRANSFER_KINDS: readonly TransferKind[] = [
  "deposit",
  "hold",
  "release",
  "order_hold",
  "order_release",
  "trade",
  "withdrawal_hold",
  "withdrawal_payout",
  "withdrawal_return",
  "adjustment",
];

/**
 * Posts one transfer inside `tx`: inserts the transfer (or finds it already applied), changes
 * the user balances it touches and writes its entries. The user changes must be exactly the
 * entries on user accounts; `insufficient` is thrown when a balance would go negative. A
 * transfer that is malformed, does not balance, names accounts that do not exist or do not fit
 * the entry, or whose user changes differ from its entries is INVALID_PARAM_VALUE.
 */
export async function postTransfer(
  tx: Transaction,
  transfer: TransferSpec,
): Promise<TransferOutcome> {
  const t = requireObject(transfer, "transfer");
  const kind = requireOneOf(t.kind, TRANSFER_KINDS, "transfer kind");
  const ref = requireText(t.ref, "ref", 300);
  if (typeof t.insufficient !== "function") {
    throw new LedgerError("INVALID_PARAM_VALUE", "insufficient must be a function");
  }
  if (!Array.isArray(t.entries) || !Array.isArray(t.userChanges)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "entries and userChanges must be lists");
  }
  const entries: Entry[] = t.entries.map((raw: unknown, i: number) => {
    const e = requireObject(raw, `entry ${i}`);
    return {
      accountId: requireId(e.accountId, `entry ${i} accountId`),
      asset: requireAssetSymbol(e.asset, `entry ${i} asset`),
      bucket: requireOneOf(e.bucket, ["available", "locked"] as const, `entry ${i} bucket`),
      amount: requireBigint(e.amount, `entry ${i} amount`, { min: -INT8_MAX }),
    };
  });
  const changes: UserChange[] = t.userChanges.map((raw: unknown, i: number) => {
    const c = requireObject(raw, `user change ${i}`);
    return {
      accountId: requireId(c.accountId, `user change ${i} accountId`),
      available: requireBigint(c.available, `user change ${i} available`, { min: -INT8_MAX }),
      locked: requireBigint(c.locked, `user change ${i} locked`, { min: -INT8_MAX }),
    };
  });
  const kept = entries.filter((e) => e.amount !== 0n);
  const sums = new Map<string, bigint>();
  for (const e of kept) sums.set(e.asset, (sums.get(e.asset) ?? 0n) + e.amount);
  if (kept.length < 2 || [...sums.values()].some((sum) => sum !== 0n)) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `transfer ${ref} needs two or more entries summing to zero per asset`,
    );
  }
  const accountIds = [...new Set(kept.map((e) => e.accountId))];
  const accounts = await tx.execute<{ id: bigint; kind: string; asset: string }>(sql`
    SELECT id, kind, asset FROM accounts WHERE id = ANY(${sql.param(accountIds)}::bigint[])`);
  const accountOf = new Map(accounts.rows.map((a) => [a.id, a]));
  const expected = new Map<bigint, { available: bigint; locked: bigint }>();
  for (const e of kept) {
    const account = accountOf.get(e.accountId);
    if (
      !account ||
      account.asset !== e.asset ||
      (account.kind !== "user" && e.bucket === "locked")
    ) {
      throw new LedgerError(
        "INVALID_PARAM_VALUE",
        `transfer ${ref}: account ${e.accountId} does not exist or does not hold ${e.bucket} ${e.asset}`,
      );
    }
    if (account.kind === "user") {
      const change = expected.get(e.accountId) ?? { available: 0n, locked: 0n };
      change[e.bucket] += e.amount;
      expected.set(e.accountId, change);
    }
  }
  const given = new Map<bigint, { available: bigint; locked: bigint }>();
  for (const c of changes) {
    const change = given.get(c.accountId) ?? { available: 0n, locked: 0n };
    change.available += c.available;
    change.locked += c.locked;
    given.set(c.accountId, change);
  }
  const same = [...new Set([...expected.keys(), ...given.keys()])].every((id) => {
    const a = expected.get(id) ?? { available: 0n, locked: 0n };
    const b = given.get(id) ?? { available: 0n, locked: 0n };
    return a.available === b.available && a.locked === b.locked;
  });
  if (!same) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `transfer ${ref}: the user balance changes differ from its entries`,
    );
  }
  return postCheckedTransfer(tx, {
    kind,
    ref,
    entries: kept,
    userChanges: changes,
    insufficient: t.insufficient as () => Error,
  });
}

/** postTransfer for a transfer the ledger built itself (balanced and consistent by construction). */
async function postCheckedTransfer(
  tx: Transaction,
  transfer: TransferSpec,
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
async function moveBetweenBuckets(
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
  const accountId = await accountIdOf(tx, input.userId, input.asset);
  const to: Bucket = input.from === "available" ? "locked" : "available";
  const toLocked = input.from === "available" ? input.amount : -input.amount;
  return postCheckedTransfer(tx, {
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

type BucketMove = {
  userId: bigint;
  asset: string;
  amount: bigint;
  ref: string;
  kind?: TransferKind;
};

/** Checks a hold or release request; NOT_FOUND for an unknown user, INVALID_PARAM_VALUE else. */
async function checkMove(tx: Transaction, raw: BucketMove, fallback: TransferKind) {
  const input = requireObject(raw, "input");
  const move = {
    userId: requireId(input.userId, "userId"),
    asset: requireAssetSymbol(input.asset),
    amount: requireAmount(input.amount, "amount"),
    ref: requireText(input.ref, "ref", 300),
    kind: input.kind === undefined ? fallback : requireOneOf(input.kind, TRANSFER_KINDS, "kind"),
  };
  await requireUser(tx, move.userId);
  await requireAsset(tx, move.asset);
  return move;
}

/**
 * Building blocks for callers composing their own transaction: a hold moves available →
 * locked, a release locked → available. Whatever a hold is for must be recorded in the same
 * transaction (an order's hold_remaining, a pending withdrawal), or reconciliation reports
 * the user's locked balance as unexplained.
 */
export async function holdFunds(tx: Transaction, input: BucketMove): Promise<TransferOutcome> {
  const move = await checkMove(tx, input, "hold");
  return moveBetweenBuckets(tx, { ...move, from: "available" });
}

export async function releaseFunds(tx: Transaction, input: BucketMove): Promise<TransferOutcome> {
  const move = await checkMove(tx, input, "release");
  return moveBetweenBuckets(tx, { ...move, from: "locked" });
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

/** pg_advisory_xact_lock key that serialises audit writers, so the hash chain never forks. */
const AUDIT_CHAIN_LOCK = 7_305_002;

/**
 * Appends a row to the audit log's hash chain (see audit_row_hash in 0005_ledger_guards.sql):
 * under a transaction-scoped lock it reads the last row's hash and inserts the new row with
 * that hash and its own, its id drawn after the lock so ids follow the chain. The caller's
 * transaction must be READ COMMITTED, so the read after the lock sees the previous writer's row.
 */
export async function writeAudit(
  tx: Transaction,
  entry: { actorId: bigint | null; action: string; subject: string; details: unknown },
): Promise<bigint> {
  const e = requireObject(entry, "audit entry");
  const actorId = e.actorId === null ? null : requireId(e.actorId, "actorId");
  const action = requireText(e.action, "action", 200);
  const subject = requireText(e.subject, "subject", 200);
  const details = JSON.stringify(jsonSafe(e.details) ?? {});
  if (actorId !== null) await requireUser(tx, actorId);
  const locked = await tx.execute<{ isolation: string }>(sql`
    SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}::bigint) AS locked,
           current_setting('transaction_isolation') AS isolation`);
  invariant(
    locked.rows[0]?.isolation === "read committed",
    "writeAudit needs a READ COMMITTED transaction to extend the audit chain",
  );
  const inserted = await tx.execute<{ id: bigint }>(sql`
    WITH prev AS (SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS hash),
         next AS (SELECT nextval('audit_log_id_seq') AS id, now() AS created_at)
    INSERT INTO audit_log (id, actor_id, action, subject, details, created_at, prev_hash, hash)
    SELECT next.id, ${actorId}::bigint, ${action}, ${subject}, ${details}::jsonb,
           next.created_at, prev.hash,
           audit_row_hash(prev.hash, next.id, ${actorId}::bigint, ${action},
                          ${subject}, ${details}::jsonb, next.created_at)
      FROM prev, next
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
  const raw = requireObject(input, "deposit");
  const userId = requireId(raw.userId, "userId");
  const symbol = requireAssetSymbol(raw.asset);
  const amount = requireAmount(raw.amount, "deposit amount");
  const ref = requireText(raw.ref, "ref", 200);
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      const asset = await requireAsset(tx, symbol);
      if (!asset.deposit_enabled) {
        throw new LedgerError("INVALID_PARAM_VALUE", `deposits of ${symbol} are disabled`);
      }
      await requireUser(tx, userId);
      const accountId = await accountIdOf(tx, userId, symbol);
      const external = await systemAccountId(tx, "external", symbol);
      return postCheckedTransfer(tx, {
        kind: "deposit",
        ref: `deposit:${ref}`,
        entries: [
          { accountId: external, asset: symbol, bucket: "available", amount: -amount },
          { accountId, asset: symbol, bucket: "available", amount },
        ],
        userChanges: [{ accountId, available: amount, locked: 0n }],
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
  /** Where the operator's request came from, for the audit row. */
  origin?: AuditOrigin | null;
};

/** Checks an adjustment's fields (all but the fence). */
function parseAdjustment(input: unknown) {
  const raw = requireObject(input, "adjustment");
  const amount = requireBigint(raw.amount, "amount", { min: -INT8_MAX });
  if (amount === 0n) throw new LedgerError("INVALID_PARAM_VALUE", "adjustment of 0");
  const reason = requireText(raw.reason, "reason", 500);
  return {
    userId: requireId(raw.userId, "userId"),
    asset: requireAssetSymbol(raw.asset),
    amount,
    reason,
    operatorId: requireId(raw.operatorId, "operatorId"),
    ref: requireText(raw.ref, "ref", 200),
    findingId: raw.findingId === undefined ? undefined : requireId(raw.findingId, "findingId"),
    origin: parseAuditOrigin(raw.origin),
  };
}

/**
 * An operator's correction of a user's available balance against the asset's adjustment
 * account, always written to the audit log. Runs under the account lock's fence.
 */
export async function adjust(db: Database, input: AdjustInput): Promise<TransferOutcome> {
  const a = parseAdjustment(input);
  const fence = input.fence;
  assertAccountFence(fence, a.userId);
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      await checkFence(tx, fence);
      await requireOperator(tx, a.operatorId);
      // Four eyes: an operator's own money is adjusted by another operator.
      if (a.operatorId === a.userId) {
        throw new LedgerError(
          "SELF_ACTION_FORBIDDEN",
          `operator ${a.operatorId} cannot adjust their own balance; another operator must`,
        );
      }
      await requireAsset(tx, a.asset);
      await requireUser(tx, a.userId);
      const accountId = await accountIdOf(tx, a.userId, a.asset);
      const adjustment = await systemAccountId(tx, "adjustment", a.asset);
      const outcome = await postCheckedTransfer(tx, {
        kind: "adjustment",
        ref: `adjustment:${a.ref}`,
        entries: [
          { accountId: adjustment, asset: a.asset, bucket: "available", amount: -a.amount },
          { accountId, asset: a.asset, bucket: "available", amount: a.amount },
        ],
        userChanges: [{ accountId, available: a.amount, locked: 0n }],
        insufficient: () =>
          new LedgerError(
            "BALANCE_NOT_ENOUGH",
            `user ${a.userId} has less than ${-a.amount} ${a.asset} available`,
          ),
      });
      if (!outcome.duplicate) {
        const after = outcome.balances.find((b) => b.asset === a.asset);
        await writeAudit(tx, {
          actorId: a.operatorId,
          action: "ledger.adjust",
          subject: `user:${a.userId}`,
          details: {
            asset: a.asset,
            amount: a.amount,
            reason: a.reason,
            ref: a.ref,
            findingId: a.findingId ?? null,
            transferId: outcome.transferId,
            fencingToken: fence.token,
            before: after ? { available: after.available - a.amount, locked: after.locked } : null,
            after: after ? { available: after.available, locked: after.locked } : null,
            origin: a.origin,
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
  const a = parseAdjustment(input);
  return withAccountLock(locks, a.userId, (fence) => adjust(db, { ...a, fence }));
}

/** The lock resource that serialises fund operations spanning an account. */
export const accountLockResource = (userId: bigint) => `account:${requireId(userId, "userId")}`;

/** The fence must be the `account:<userId>` lock's (checked for shape first). */
export function assertAccountFence(fence: Fence, userId: bigint) {
  const f = requireObject(fence, "fence");
  if (f.resource !== accountLockResource(userId)) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `operation on user ${userId} fenced by ${showValue(f.resource)}, not ${accountLockResource(userId)}`,
    );
  }
}
