// How a tRPC call fails: every refusal carries a stable label (gate.io's where one fits, see
// ../shared/GATE_API.md) and a message a person can act on; the HTTP status follows the label.
// Procedures throw ApiError, the ledger throws LedgerError, zod refuses input — `toApiError`
// turns each into an ApiError so the caller always sees the same shape, and anything else stays
// an internal error whose cause is logged, never shown.
import { isLedgerError } from "@spotx/db";
import { isServiceUnavailable, ServiceUnavailableError } from "@spotx/platform/breakers";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";

/** Each label and the tRPC code (hence HTTP status) it answers with. */
const LABEL_CODES = {
  // gate.io's labels
  INVALID_PARAM_VALUE: "BAD_REQUEST",
  MISSING_REQUIRED_PARAM: "BAD_REQUEST",
  INVALID_PRECISION: "BAD_REQUEST",
  INVALID_CURRENCY_PAIR: "BAD_REQUEST",
  AMOUNT_TOO_LITTLE: "BAD_REQUEST",
  BALANCE_NOT_ENOUGH: "BAD_REQUEST",
  ORDER_CLOSED: "BAD_REQUEST",
  POC_FILL_IMMEDIATELY: "BAD_REQUEST",
  ORDER_NOT_FOUND: "NOT_FOUND",
  CLIENT_ID_NOT_FOUND: "NOT_FOUND",
  NOT_FOUND: "NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  /** A state-changing call without the CSRF header (see auth/csrf.ts). */
  MISSING_REQUIRED_HEADER: "FORBIDDEN",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  SERVER_ERROR: "INTERNAL_SERVER_ERROR",
  // spotx's own, where gate.io has none for the case
  /** No session, or it expired or was revoked: sign in (again). */
  LOGIN_REQUIRED: "UNAUTHORIZED",
  /** Unknown email or wrong password — deliberately the same answer for both. */
  INVALID_CREDENTIALS: "BAD_REQUEST",
  EMAIL_TAKEN: "CONFLICT",
  /**
   * A second factor is needed and was not given: a `totpCode` for an action of a user with
   * two-factor sign-in, or — for an operator without it — enrolment before any operator action.
   */
  TWO_FACTOR_REQUIRED: "FORBIDDEN",
  /** A two-factor code (or recovery code) that is wrong, or was already used. */
  INVALID_TWO_FACTOR_CODE: "BAD_REQUEST",
  TWO_FACTOR_ALREADY_ENABLED: "CONFLICT",
  TWO_FACTOR_NOT_ENABLED: "CONFLICT",
  /** An operator acting on their own account (their withdrawal, balance, status or role). */
  SELF_ACTION_FORBIDDEN: "FORBIDDEN",
  IDEMPOTENCY_CONFLICT: "CONFLICT",
  WITHDRAWAL_DECIDED: "CONFLICT",
  STALE_FENCING_TOKEN: "CONFLICT",
  /** Redis, etcd or Kafka is unreachable (its circuit breaker is open): retry shortly. */
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  SETTLEMENT_REJECTED: "INTERNAL_SERVER_ERROR",
  /** The market was delisted: orders, amends and price orders are refused, resume too. */
  MARKET_CLOSED: "BAD_REQUEST",
  /** Listing (admin.assets.create, admin.markets.create): the symbol is taken. */
  ASSET_EXISTS: "CONFLICT",
  MARKET_EXISTS: "CONFLICT",
  /** Listing a market on an asset that is not listed. */
  UNKNOWN_ASSET: "BAD_REQUEST",
  /** The matching engine refuses the market's precisions or minimums (the message says why). */
  INVALID_MARKET_CONFIG: "BAD_REQUEST",
  /**
   * admin.markets.changeRules: a tick or lot finer than the unit the market listed with (prices
   * and amounts are stored in those units for good; the finest step is one of them).
   */
  TICK_FINER_THAN_UNIT: "BAD_REQUEST",
  LOT_FINER_THAN_UNIT: "BAD_REQUEST",
} as const satisfies Record<string, TRPC_ERROR_CODE_KEY>;

export type ApiLabel = keyof typeof LABEL_CODES;
export const API_LABELS = Object.keys(LABEL_CODES) as ApiLabel[];

export class ApiError extends TRPCError {
  readonly label: ApiLabel;
  /** For TOO_MANY_REQUESTS and SERVICE_UNAVAILABLE: when a retry may succeed. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    label: ApiLabel,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super({ code: LABEL_CODES[label], message, cause: options.cause });
    this.name = "ApiError";
    this.label = label;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** SQLSTATEs of a PostgreSQL that cannot serve: connection exceptions, shutting down, full. */
const POSTGRES_DOWN_STATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/** How Node and the pg driver report a server that did not answer at all. */
const POSTGRES_DOWN_SOCKET =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;
const POSTGRES_DOWN_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|encountered a connection error|Connection refused/i;

/**
 * The outage an error means, if it means one: a circuit breaker's refusal, or PostgreSQL out of
 * reach. No breaker stands before PostgreSQL on the request path, yet a refused or dropped
 * connection is the same "retry shortly" to a caller (503 SERVICE_UNAVAILABLE, both front
 * doors), never an internal error. drizzle wraps the driver's error, so the chain is followed.
 */
export function serviceOutage(error: unknown): ServiceUnavailableError | undefined {
  if (isServiceUnavailable(error)) return error;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = "code" in current ? String(current.code) : "";
    if (
      POSTGRES_DOWN_STATE.test(code) ||
      POSTGRES_DOWN_SOCKET.test(code) ||
      POSTGRES_DOWN_MESSAGE.test(current.message)
    ) {
      return new ServiceUnavailableError("postgres", 1, { cause: error });
    }
    current = current.cause;
  }
  return undefined;
}

/** The label of a tRPC error as the caller sees it. */
export function errorLabel(error: TRPCError): ApiLabel {
  if (error instanceof ApiError) return error.label;
  switch (error.code) {
    case "UNAUTHORIZED":
      return "LOGIN_REQUIRED";
    case "FORBIDDEN":
      return "FORBIDDEN";
    case "NOT_FOUND":
      return "NOT_FOUND";
    case "TOO_MANY_REQUESTS":
      return "TOO_MANY_REQUESTS";
    case "SERVICE_UNAVAILABLE":
      return "SERVICE_UNAVAILABLE";
    case "INTERNAL_SERVER_ERROR":
    case "NOT_IMPLEMENTED":
    case "BAD_GATEWAY":
    case "GATEWAY_TIMEOUT":
      return "SERVER_ERROR";
    default:
      // The rest are the request's fault: unparseable JSON, a GET of a mutation, a batch too big.
      return "INVALID_PARAM_VALUE";
  }
}

/** The value at `path` in `input`, or undefined when the path leads nowhere. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** The first zod issue as one line, labelled: a field left out is MISSING_REQUIRED_PARAM. */
export function inputError(error: ZodError, rawInput: unknown): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError("INVALID_PARAM_VALUE", "invalid input");
  const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "input";
  const missing =
    issue.code === "invalid_type" &&
    issue.path.length > 0 &&
    valueAt(rawInput, issue.path) === undefined;
  if (missing) return new ApiError("MISSING_REQUIRED_PARAM", `${where} is required`);
  return new ApiError("INVALID_PARAM_VALUE", `${where}: ${issue.message}`);
}

/**
 * The error a caller should see for what a procedure failed with: labelled refusals become
 * ApiErrors; anything else is returned unchanged (an internal error, shown as "internal error").
 */
export function toApiError(error: TRPCError, rawInput: unknown): TRPCError {
  if (error instanceof ApiError) return error;
  const cause = error.cause;
  // Every ledger label is an ApiLabel (a new one fails the typecheck here).
  if (isLedgerError(cause)) return new ApiError(cause.label, cause.message, { cause });
  const outage = serviceOutage(cause);
  if (outage) {
    return new ApiError("SERVICE_UNAVAILABLE", outage.message, {
      cause,
      retryAfterSeconds: outage.retryAfterSeconds,
    });
  }
  // zod refusing the input (tRPC answers BAD_REQUEST); a ZodError from an output schema is our
  // bug and stays internal.
  if (error.code === "BAD_REQUEST" && cause instanceof ZodError) return inputError(cause, rawInput);
  return error;
}
