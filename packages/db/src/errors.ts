// How the ledger fails. At the boundary, a refusal the caller can act on is a LedgerError with a
// stable label — only those of ../shared/GATE_API.md where a trader can meet it (an unknown or
// disabled currency is INVALID_PARAM_VALUE, a frozen account FORBIDDEN); a broken invariant is a plain Error from `invariant`,
// because it means a bug, not a bad request, and must stop the work.

export const LEDGER_LABELS = [
  "BALANCE_NOT_ENOUGH",
  "INVALID_PARAM_VALUE",
  "INVALID_PRECISION",
  "INVALID_CURRENCY_PAIR",
  "AMOUNT_TOO_LITTLE",
  "ORDER_NOT_FOUND",
  /** No order of the user's in the pair with that client text, live or finished within the hour. */
  "CLIENT_ID_NOT_FOUND",
  "ORDER_CLOSED",
  "NOT_FOUND",
  "FORBIDDEN",
  // spotx's own, where gate.io has no label for the case:
  "WITHDRAWAL_DECIDED",
  "IDEMPOTENCY_CONFLICT",
  "STALE_FENCING_TOKEN",
  /** An operator deciding or adjusting their own account's money. */
  "SELF_ACTION_FORBIDDEN",
  /** An engine event that could not have happened (see settlement.ts): the market's settlement must stop. */
  "SETTLEMENT_REJECTED",
  /** The market was delisted (markets.status closed): no order, amend, price order or resume. */
  "MARKET_CLOSED",
  /** Listing: an asset or market with that symbol exists already. */
  "ASSET_EXISTS",
  "MARKET_EXISTS",
  /** Listing a market on an asset that is not listed. */
  "UNKNOWN_ASSET",
  /** Listing a market whose precisions and minimums the matching engine refuses (its message says why). */
  "INVALID_MARKET_CONFIG",
  /** A rules change asking for a tick or lot finer than the market's listing unit (decisions/006). */
  "TICK_FINER_THAN_UNIT",
  "LOT_FINER_THAN_UNIT",
] as const;

export type LedgerLabel = (typeof LEDGER_LABELS)[number];

export class LedgerError extends Error {
  constructor(
    readonly label: LedgerLabel,
    message: string,
  ) {
    super(message);
    this.name = "LedgerError";
  }
}

export function isLedgerError(error: unknown, label?: LedgerLabel): error is LedgerError {
  return error instanceof LedgerError && (label === undefined || error.label === label);
}

/** Asserts a state invariant; kept on in production, because continuing would corrupt money. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new Error(
      `ledger invariant broken: ${typeof message === "string" ? message : message()}`,
    );
  }
}
