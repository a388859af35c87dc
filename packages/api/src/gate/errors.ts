// How the gate.io API fails: `{label, message}` with gate.io's labels and status codes
// (../shared/GATE_API.md), whatever went wrong inside. A refusal the ledger or the trading
// service labelled keeps its label; an outage (a circuit breaker open, PostgreSQL out of reach)
// is 503 SERVICE_UNAVAILABLE; anything else is a bug: logged in full, answered 500 SERVER_ERROR with
// nothing of its cause.
import { isLedgerError, type LedgerLabel } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import { serviceOutage } from "../errors";

export const GATE_LABEL_STATUS = {
  INVALID_SIGNATURE: 401,
  INVALID_KEY: 401,
  MISSING_REQUIRED_HEADER: 401,
  REQUEST_EXPIRED: 401,
  FORBIDDEN: 403,
  BALANCE_NOT_ENOUGH: 400,
  INVALID_CURRENCY_PAIR: 400,
  INVALID_PARAM_VALUE: 400,
  MISSING_REQUIRED_PARAM: 400,
  INVALID_PRECISION: 400,
  AMOUNT_TOO_LITTLE: 400,
  POC_FILL_IMMEDIATELY: 400,
  ORDER_CLOSED: 400,
  // In gate.io's label list; spotx answers it to a key created with replay "strict" when the
  // same signed request arrives twice inside the Timestamp window.
  DUPLICATE_REQUEST: 400,
  // The batch endpoints' refusals of a whole batch (GATE_API_MORE.md): more than 4 pairs, more
  // than 10 orders in one pair, accounts mixed.
  TOO_MANY_CURRENCY_PAIRS: 400,
  TOO_MANY_ORDERS: 400,
  MIXED_ACCOUNT_TYPE: 400,
  ORDER_NOT_FOUND: 404,
  // gate.io's answer to a lookup by a client text it cannot find (GATE_API_MORE.md).
  CLIENT_ID_NOT_FOUND: 404,
  NOT_FOUND: 404,
  // The WebSocket trading API's answer to an unsigned request on a connection not logged in
  // (status "400", message "Not login", as gate.io sends it).
  AUTHENTICATION_FAILED: 400,
  TOO_MANY_REQUESTS: 429,
  SERVER_ERROR: 500,
  // Not in gate.io's list: the answer when a server spotx needs is down.
  SERVICE_UNAVAILABLE: 503,
} as const;

export type GateLabel = keyof typeof GATE_LABEL_STATUS;

export class GateError extends Error {
  readonly status: number;

  constructor(
    readonly label: GateLabel,
    message: string,
    /** Extra response headers (Retry-After, the rate-limit headers). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GateError";
    this.status = GATE_LABEL_STATUS[label];
  }
}

/** The ledger labels a trader can meet, as gate.io names them; the others are internal. */
const LEDGER_TO_GATE: Partial<Record<LedgerLabel, GateLabel>> = {
  BALANCE_NOT_ENOUGH: "BALANCE_NOT_ENOUGH",
  INVALID_PARAM_VALUE: "INVALID_PARAM_VALUE",
  INVALID_PRECISION: "INVALID_PRECISION",
  INVALID_CURRENCY_PAIR: "INVALID_CURRENCY_PAIR",
  AMOUNT_TOO_LITTLE: "AMOUNT_TOO_LITTLE",
  ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
  CLIENT_ID_NOT_FOUND: "CLIENT_ID_NOT_FOUND",
  ORDER_CLOSED: "ORDER_CLOSED",
  NOT_FOUND: "NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  // A delisted pair: gate.io has no label of its own for it; INVALID_CURRENCY_PAIR is what it
  // answers for a pair that cannot be traded (and what a halted one gets here too).
  MARKET_CLOSED: "INVALID_CURRENCY_PAIR",
};

/** Any failure as the GateError to answer with; unexpected ones are logged here. */
export function toGateError(error: unknown, log: Logger, context: Record<string, unknown> = {}) {
  if (error instanceof GateError) return error;
  if (isLedgerError(error)) {
    const label = LEDGER_TO_GATE[error.label];
    if (label) return new GateError(label, error.message);
  }
  const outage = serviceOutage(error);
  if (outage) {
    return new GateError("SERVICE_UNAVAILABLE", "service temporarily unavailable; retry shortly", {
      "Retry-After": String(outage.retryAfterSeconds),
    });
  }
  log.error({ err: error, ...context }, "gate.io API request failed");
  return new GateError("SERVER_ERROR", "internal error");
}
