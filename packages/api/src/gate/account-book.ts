// GET /spot/account_book (GATE_API_MORE.md, "REST: ledger and fees"): the caller's spot account
// changes, newest first, from the ledger (@spotx/db's accountBook). The book is of the
// *available* balance — what gate.io's `new_order` (funds held by an order) and `cancel_order`
// (given back) only make sense of — so `balance` is the available balance after the change.
// Every ledger source has a gate.io `type` and a `code`; gate.io's codes (its "Asset Record
// Code" table) are not published in what spotx follows, so the codes are spotx's own, stable
// numbers: 1xx funding, 2xx trading, 3xx the ledger's own moves. A `type` or `code` spotx never
// writes (gate.io has hundreds) is no rows, not an error: a client filtering on a gate.io type
// spotx has no use for (`margin_in`) gets what gate.io gives an account without any — nothing.
import { ACCOUNT_BOOK_SOURCES, type AccountBookSource, accountBook } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { z } from "zod";
import { callerOf, type GateCall, ok } from "./call";
import { GateError } from "./errors";
import { intParam, pageOffset, parseParams, secondsParam } from "./request-params";

/** gate.io's `type` and spotx's `code` of each source of an account book row. */
export const ACCOUNT_BOOK_TYPES = {
  deposit: { type: "deposit", code: "101" },
  // A withdrawal request takes the amount from available (held until an operator decides);
  // paying it out only empties the hold, so it has no row of its own.
  withdrawal_hold: { type: "withdraw", code: "102" },
  withdrawal_payout: { type: "withdraw", code: "102" },
  withdrawal_return: { type: "withdraw_refund", code: "103" },
  // An order's hold (and an amend's extra hold), and every return of what an order no longer
  // needs: a cancel, an ioc/fok/poc/stp ending, an amend that needs less, what a filled order
  // did not spend.
  order_hold: { type: "new_order", code: "201" },
  order_release: { type: "cancel_order", code: "202" },
  order_rejected: { type: "order_rej", code: "203" },
  // A fill is what was bought or sold, then its fee on a row of its own.
  trade: { type: "order_fill", code: "204" },
  trade_fee: { type: "order_fee", code: "205" },
  // The ledger's bare holds and releases (no caller uses them today), operators' corrections.
  hold: { type: "freeze", code: "301" },
  release: { type: "unfreeze", code: "302" },
  adjustment: { type: "system_adjust", code: "303" },
} as const satisfies Record<AccountBookSource, { type: string; code: string }>;

/** gate.io's rule: a range of at most 30 days. spotx's default without `from`: 7 days up to `to`. */
const MAX_RANGE_SECONDS = 30 * 86_400;
const DEFAULT_RANGE_SECONDS = 7 * 86_400;

/** An account book type or code as gate.io spells them: letters, digits, underscores. */
const wordParam = (max: number) =>
  z.string().regex(new RegExp(`^[A-Za-z0-9_]{1,${max}}$`), "must be letters, digits or _");

const accountBookQuery = z.strictObject({
  currency: z.string().min(1).max(40).optional(),
  from: secondsParam.optional(),
  to: secondsParam.optional(),
  page: intParam(1, 100_000).default(1),
  limit: intParam(1, 1000).default(100),
  type: wordParam(64).optional(),
  code: wordParam(32).optional(),
});

/** The sources a `code` (which wins) or a `type` names; all when neither is given. */
function sourcesNamed(code: string | undefined, type: string | undefined) {
  if (code === undefined && type === undefined) return undefined;
  return ACCOUNT_BOOK_SOURCES.filter((source) =>
    code !== undefined
      ? ACCOUNT_BOOK_TYPES[source].code === code
      : ACCOUNT_BOOK_TYPES[source].type === type,
  );
}

/** The time range in seconds, both ends inclusive, checked as gate.io limits it. */
function timeRange(from: number | undefined, to: number | undefined, nowSeconds: number) {
  // Without `to`, up to now — or to `from` itself, when that is later (no rows, not an error).
  const end = to ?? Math.max(nowSeconds, from ?? 0);
  const start = from ?? Math.max(0, end - DEFAULT_RANGE_SECONDS);
  if (start > end) throw new GateError("INVALID_PARAM_VALUE", "from must not be after to");
  if (end - start > MAX_RANGE_SECONDS) {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      `from and to span ${end - start} s; the account book is read at most 30 days (${MAX_RANGE_SECONDS} s) at a time`,
    );
  }
  return { start, end };
}

export async function listAccountBook(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(accountBookQuery, call.query);
  const offset = pageOffset(q.page, q.limit);
  const { start } = timeRange(q.from, q.to, Math.floor(Date.now() / 1000));
  const asked = q.currency === undefined ? null : await services.markets.asset(q.currency);
  const rows = await accountBook(services.db, {
    userId,
    asset: asked?.symbol,
    from: new Date(start * 1000),
    // Without `to`, up to now as the database sees it (no cut at this server's clock).
    to: q.to === undefined ? undefined : new Date((q.to + 1) * 1000),
    sources: sourcesNamed(q.code, q.type),
    offset,
    limit: q.limit,
  });
  const assets = await services.markets.assets();
  return ok(
    rows.map((row) => {
      const decimals = assets.get(row.asset)?.decimals ?? 0;
      const { type, code } = ACCOUNT_BOOK_TYPES[row.source];
      return {
        // The ledger entry (transfer id × 2^16 + entry × 2), +1 for a fill's fee row.
        id: String((row.transferId << 16n) + (BigInt(row.idx) << 1n) + BigInt(row.part)),
        time: row.timeMs,
        currency: row.asset,
        change: unitsToDecimal(row.change, decimals),
        balance: unitsToDecimal(row.balance, decimals),
        type,
        code,
        text: row.text,
      };
    }),
  );
}
