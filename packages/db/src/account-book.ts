// A user's account book: every change of their *available* balance, newest first, with the
// balance after it (gate.io's `GET /spot/account_book`). The available bucket is what the book
// shows because it is what a trader can spend: an order's hold takes from it, a cancel gives
// back, a fill credits what was bought (less the fee), a withdrawal request takes from it. Moves
// inside `locked` (a fill spending a hold, a withdrawal paid out) change nothing there and have
// no row. One SQL statement, so the rows and their balances come from one snapshot; every step
// of it walks an index (see accountBook).
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { LedgerError } from "./errors";
import {
  INT8_MAX,
  requireAssetSymbol,
  requireDate,
  requireId,
  requireOneOf,
  showValue,
} from "./input";
import { TRANSFER_KINDS, type TransferKind } from "./ledger";

/**
 * What caused a row: the transfer's kind, except that a trade's fee has a row of its own
 * (`trade_fee`; the `trade` row is then the whole amount bought or sold) and the release of a
 * rejected order's hold is `order_rejected` (every other release is `order_release`).
 */
export type AccountBookSource = TransferKind | "trade_fee" | "order_rejected";

export const ACCOUNT_BOOK_SOURCES: readonly AccountBookSource[] = [
  ...TRANSFER_KINDS,
  "trade_fee",
  "order_rejected",
];

export type AccountBookQuery = {
  userId: bigint;
  /** One asset's rows; all the user's assets when absent. */
  asset?: string;
  /** Rows of transfers made at or after this time. */
  from: Date;
  /** …and before this time (exclusive); up to now when absent. */
  to?: Date;
  /** Only rows of these sources; every source when absent. */
  sources?: readonly AccountBookSource[];
  /** Rows skipped (newest first), at most ACCOUNT_BOOK_MAX_OFFSET. */
  offset: number;
  /** Rows returned, 1 to ACCOUNT_BOOK_MAX_LIMIT. */
  limit: number;
};

export type AccountBookEntry = {
  /** The ledger entry's transfer and position in it; `part` 1 is a fill's fee row, else 0. */
  transferId: bigint;
  idx: number;
  part: 0 | 1;
  asset: string;
  /** When the transfer was made (ms since the epoch). */
  timeMs: number;
  source: AccountBookSource;
  /** Signed, in the asset's minor units. */
  change: bigint;
  /** The available balance right after this change. */
  balance: bigint;
  /** The order (holds, releases, fills, fees), the withdrawal, or the deposit's or adjustment's reference. */
  text: string;
};

export const ACCOUNT_BOOK_MAX_LIMIT = 1_000;
export const ACCOUNT_BOOK_MAX_OFFSET = 100_000;

/**
 * Transfer ids are drawn in time order, but `created_at` is the start of the transaction that
 * drew one, so a transfer may carry an earlier time than one with a smaller id — by at most the
 * time between its transaction's start and its insert. The transactions that write transfers
 * (placement, settlement, deposits, withdrawals, adjustments) are a few statements of at most
 * 10 s each, nowhere near this long. So a transfer made before `from` minus this slack has a
 * smaller id than any made at or after `from`, one made after `to` plus the slack a larger id
 * than any made before `to`: such ids bound the walk of the user's entries.
 */
const TRANSFER_TIME_SLACK_MS = 3_600_000;

/**
 * A recursive CTE `name(lo, hi)`: a binary search over the transfers' primary key for an id
 * bounding the transfers made before `floor` (the largest `lo` it finds, 0 if none) or after
 * `ceiling` (the smallest `hi`, past the last id if none). Any transfer on the right side of
 * the time is a correct bound, so times out of id order only make the bound looser — and no
 * index on created_at (another write on settlement's hottest insert) is needed.
 */
function transferIdSearch(name: string, side: { floor: Date } | { ceiling: Date }) {
  const found =
    "floor" in side
      ? sql`w.created_at < ${side.floor.toISOString()}::timestamptz`
      : sql`w.created_at > ${side.ceiling.toISOString()}::timestamptz`;
  const moveLo = "floor" in side ? sql`w.id` : sql`s.lo`;
  const moveHi = "floor" in side ? sql`s.hi` : sql`w.id`;
  const missLo = "floor" in side ? sql`s.lo` : sql`coalesce(w.id, (s.lo + s.hi) / 2)`;
  const missHi = "floor" in side ? sql`(s.lo + s.hi) / 2` : sql`s.hi`;
  return sql`${sql.identifier(name)} (lo, hi) AS (
      SELECT 0::int8, coalesce((SELECT max(id) FROM transfers), 0) + 1
      UNION ALL
      SELECT CASE WHEN ${found} THEN ${moveLo} ELSE ${missLo} END,
             CASE WHEN ${found} THEN ${moveHi} ELSE ${missHi} END
        FROM ${sql.identifier(name)} s
        LEFT JOIN LATERAL (
          SELECT id, created_at FROM transfers
           WHERE id >= (s.lo + s.hi) / 2 AND id < s.hi
           ORDER BY id LIMIT 1
        ) w ON true
       WHERE s.hi - s.lo > 1
    )`;
}

/** The transfer kinds whose entries can be rows of these sources. */
function kindsOf(sources: readonly AccountBookSource[]): TransferKind[] {
  const kinds = sources.map((source) =>
    source === "trade_fee" ? "trade" : source === "order_rejected" ? "order_release" : source,
  );
  return [...new Set(kinds)];
}

function requireCount(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `${what} must be a whole number from ${min} to ${max}, got ${showValue(value)}`,
    );
  }
  return value;
}

/** The times a query may name: from 1970 to the end of year 9998 (years of four digits after slack). */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);

function requireTime(value: unknown, what: string): Date {
  const date = requireDate(value, what);
  if (date.getTime() < EARLIEST || date.getTime() > LATEST) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `${what} must be from 1970 to 9998, got ${date.toISOString()}`,
    );
  }
  return date;
}

function parseQuery(raw: unknown) {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "an account book query must be an object");
  }
  const q = raw as Record<string, unknown>;
  const from = requireTime(q.from, "from");
  const to = q.to === undefined ? undefined : requireTime(q.to, "to");
  if (to !== undefined && to.getTime() < from.getTime()) {
    throw new LedgerError("INVALID_PARAM_VALUE", "from must not be after to");
  }
  let sources: AccountBookSource[] | undefined;
  if (q.sources !== undefined) {
    if (!Array.isArray(q.sources) || q.sources.length > ACCOUNT_BOOK_SOURCES.length) {
      throw new LedgerError(
        "INVALID_PARAM_VALUE",
        "sources must be a list of account book sources",
      );
    }
    sources = q.sources.map((s: unknown) => requireOneOf(s, ACCOUNT_BOOK_SOURCES, "source"));
  }
  return {
    userId: requireId(q.userId, "userId"),
    asset: q.asset === undefined ? undefined : requireAssetSymbol(q.asset),
    from,
    to,
    sources,
    offset: requireCount(q.offset, "offset", 0, ACCOUNT_BOOK_MAX_OFFSET),
    limit: requireCount(q.limit, "limit", 1, ACCOUNT_BOOK_MAX_LIMIT),
  };
}

type BookRow = {
  transfer_id: bigint;
  idx: number;
  part: number;
  asset: string;
  time_ms: string;
  source: AccountBookSource;
  change: string;
  balance: string;
  text: string;
};

/**
 * A page of the user's account book, newest first (by transfer id, then entry; a fill's fee
 * row before its fill, the fee being taken after). Each row's balance is the available balance now minus every change after
 * it — exact, and consistent with the rows: a row's balance is the next older row's plus its
 * change whatever the filters hide between them. The work grows with the user's entries since
 * the page (the walk back from now that the balances need), not with the whole ledger.
 */
export async function accountBook(
  db: Database,
  query: AccountBookQuery,
): Promise<AccountBookEntry[]> {
  const q = parseQuery(query);
  if (q.sources?.length === 0) return [];
  const floor = new Date(q.from.getTime() - TRANSFER_TIME_SLACK_MS);
  const ceiling = q.to && new Date(q.to.getTime() + TRANSFER_TIME_SLACK_MS);
  const inAsset = q.asset === undefined ? sql`` : sql`AND asset = ${q.asset}`;
  const before =
    q.to === undefined ? sql`` : sql`AND t.created_at < ${q.to.toISOString()}::timestamptz`;
  const ofKinds =
    q.sources === undefined
      ? sql``
      : sql`AND kind = ANY(${sql.param(kindsOf(q.sources))}::transfer_kind[])`;
  const ofSources =
    q.sources === undefined
      ? sql``
      : sql`AND (CASE WHEN p.part = 1 THEN 'trade_fee' ELSE c.source END) = ANY(${sql.param(q.sources)}::text[])`;
  const statement = sql`
    WITH RECURSIVE
    ${transferIdSearch("after_search", { floor })},
    ${ceiling ? transferIdSearch("before_search", { ceiling }) : sql`before_search (lo, hi) AS (SELECT 0::int8, ${INT8_MAX}::int8)`},
    bounds AS MATERIALIZED (
      SELECT (SELECT max(lo) FROM after_search) AS after_id,
             (SELECT min(hi) FROM before_search) AS before_id
    ),
    acct AS MATERIALIZED (
      SELECT account_id, asset, available FROM balances WHERE user_id = ${q.userId} ${inAsset}
    ),
    -- Per account, its newest offset + limit rows in range (walking ledger_entries_account
    -- backwards), then the page of them all.
    page AS MATERIALIZED (
      SELECT r.* FROM acct a CROSS JOIN bounds CROSS JOIN LATERAL (
        SELECT e.account_id, e.transfer_id, e.idx, p.part, t.created_at, c.fee,
               CASE WHEN p.part = 1 THEN 'trade_fee' ELSE c.source END AS source,
               CASE WHEN p.part = 1 THEN -c.fee ELSE e.amount + c.fee END AS change,
               c.text
          FROM ledger_entries e
          -- OFFSET 0 keeps this a lookup per entry: the walk is driven by the entries' index,
          -- never by a scan of transfers in the time range (every user's, with no index).
          CROSS JOIN LATERAL (
            SELECT kind, ref, created_at FROM transfers
             WHERE id = e.transfer_id ${ofKinds}
            OFFSET 0
          ) t
          -- The trade of a fill (its fee and orders), the order of a release (was it rejected?).
          LEFT JOIN trades tr
            ON tr.market = CASE WHEN t.kind = 'trade'
                  THEN substring(t.ref FROM '^trade:([A-Z0-9]+_[A-Z0-9]+):\\d{1,18}$') END
           AND tr.id = CASE WHEN t.kind = 'trade'
                  THEN substring(t.ref FROM '^trade:[A-Z0-9]+_[A-Z0-9]+:(\\d{1,18})$')::int8 END
          LEFT JOIN markets m ON m.symbol = tr.market
          LEFT JOIN orders o
            ON o.id = CASE WHEN t.kind = 'order_release'
                  THEN substring(t.ref FROM '^order:(\\d{1,18}):release$')::int8 END
          CROSS JOIN LATERAL (
            SELECT
              CASE WHEN o.finish_as = 'rejected' THEN 'order_rejected'
                   ELSE t.kind::text END AS source,
              -- A fill credits what was bought or sold less the fee: the fee comes from the
              -- trade, the buyer's in base and the seller's in quote.
              CASE WHEN t.kind <> 'trade' THEN 0::int8
                   WHEN e.asset = m.base THEN tr.buyer_fee ELSE tr.seller_fee END AS fee,
              CASE WHEN t.kind = 'trade'
                     THEN (CASE WHEN (e.asset = m.base) = (tr.taker_side = 'buy')
                                THEN tr.taker_order_id ELSE tr.maker_order_id END)::text
                   WHEN t.kind IN ('order_hold', 'order_release')
                     THEN substring(t.ref FROM '^order:(\\d+):')
                   WHEN t.kind IN ('withdrawal_hold', 'withdrawal_payout', 'withdrawal_return')
                     THEN substring(t.ref FROM '^withdrawal:(\\d+):')
                   ELSE regexp_replace(t.ref, '^(deposit|adjustment):', '') END AS text
          ) c
          CROSS JOIN LATERAL (VALUES (0), (1)) AS p(part)
         WHERE e.account_id = a.account_id
           AND e.transfer_id > bounds.after_id
           AND e.transfer_id < bounds.before_id
           AND e.bucket = 'available'
           AND t.created_at >= ${q.from.toISOString()}::timestamptz ${before}
           AND (p.part = 0 OR c.fee > 0)
           ${ofSources}
         ORDER BY e.transfer_id DESC, e.idx DESC, p.part DESC
         LIMIT ${q.offset + q.limit}
      ) r
      ORDER BY r.transfer_id DESC, r.idx DESC, r.part DESC
      OFFSET ${q.offset} LIMIT ${q.limit}
    ),
    -- The balance after each of the page's entries is the balance now less every change after
    -- it. Summed in disjoint stretches — from each entry of the page to the next newer one in
    -- its account (the newest: to now) — then added up newest first: one pass over the
    -- entries since the page's oldest, however thinly the filters spread the page.
    marks AS (
      SELECT account_id, transfer_id, idx,
             lag(transfer_id) OVER newer AS next_tid, lag(idx) OVER newer AS next_idx
        FROM (SELECT DISTINCT account_id, transfer_id, idx FROM page) d
      WINDOW newer AS (PARTITION BY account_id ORDER BY transfer_id DESC, idx DESC)
    ),
    later AS (
      SELECT s.account_id, s.transfer_id, s.idx,
             sum(s.stretch) OVER (
               PARTITION BY s.account_id ORDER BY s.transfer_id DESC, s.idx DESC) AS later
        FROM (
          SELECT mk.*, (
            SELECT coalesce(sum(x.amount), 0) FROM ledger_entries x
             WHERE x.account_id = mk.account_id AND x.bucket = 'available'
               AND x.transfer_id BETWEEN mk.transfer_id AND coalesce(mk.next_tid, ${INT8_MAX})
               AND (x.transfer_id, x.idx) > (mk.transfer_id, mk.idx)
               AND (mk.next_tid IS NULL OR (x.transfer_id, x.idx) <= (mk.next_tid, mk.next_idx))
          ) AS stretch
            FROM marks mk
        ) s
    )
    SELECT p.transfer_id, p.idx, p.part, a.asset, p.source, p.change::text AS change, p.text,
           floor(EXTRACT(EPOCH FROM p.created_at) * 1000)::int8::text AS time_ms,
           -- A fill's row comes before its fee's: the fee is not yet taken.
           (a.available - l.later + CASE WHEN p.part = 0 THEN p.fee ELSE 0 END)::text AS balance
      FROM page p
      JOIN later l USING (account_id, transfer_id, idx)
      JOIN acct a USING (account_id)
     ORDER BY p.transfer_id DESC, p.idx DESC, p.part DESC`;
  const found = await db.transaction(
    async (tx) => {
      // The plan's cost estimate is large (the walks' bounds are only known as it runs), large
      // enough for PostgreSQL to JIT-compile it — which takes longer than running it.
      await tx.execute(sql`SET LOCAL jit = off`);
      return tx.execute<BookRow>(statement);
    },
    { accessMode: "read only" },
  );
  return found.rows.map((row) => ({
    transferId: BigInt(row.transfer_id),
    idx: Number(row.idx),
    part: Number(row.part) === 1 ? 1 : 0,
    asset: row.asset,
    timeMs: Number(row.time_ms),
    source: row.source,
    change: BigInt(row.change),
    balance: BigInt(row.balance),
    text: row.text ?? "",
  }));
}
