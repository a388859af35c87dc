// Input checks at the ledger's boundary. Callers are TypeScript, but values arrive from the
// wire, from Kafka and from operators' forms: a number where a bigint belongs, an amount past
// int8, a side that is not one, must come back as INVALID_PARAM_VALUE, never as a PostgreSQL
// error (22003, 22P02) or a JavaScript TypeError halfway through a transaction.
import { LedgerError } from "./errors";

/** The largest value an int8 column (every amount, id and sequence) holds. */
export const INT8_MAX = 2n ** 63n - 1n;

const bad = (message: string) => new LedgerError("INVALID_PARAM_VALUE", message);

/** A value as it may appear in an error message, whatever it is (never throws). */
export function showValue(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (value === null || value === undefined) return String(value);
  return typeof value === "number" ? String(value) : typeof value;
}

/** A bigint in [min, max] (default: any int8 ≥ min). */
export function requireBigint(
  value: unknown,
  what: string,
  range: { min?: bigint; max?: bigint } = {},
): bigint {
  if (typeof value !== "bigint") throw bad(`${what} must be a bigint, got ${showValue(value)}`);
  const min = range.min ?? -INT8_MAX - 1n;
  const max = range.max ?? INT8_MAX;
  if (value < min || value > max) {
    throw bad(`${what} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** A positive amount that fits int8. */
export const requireAmount = (value: unknown, what: string): bigint =>
  requireBigint(value, what, { min: 1n });

/** A database id: positive, int8. */
export const requireId = (value: unknown, what: string): bigint =>
  requireBigint(value, what, { min: 1n });

/** A non-empty string of at most `max` characters (no NUL, which PostgreSQL text refuses). */
export function requireText(value: unknown, what: string, max = 200): string {
  if (typeof value !== "string") throw bad(`${what} must be a string, got ${showValue(value)}`);
  if (value.trim().length === 0) throw bad(`${what} must not be empty`);
  if (value.length > max) throw bad(`${what} is longer than ${max} characters`);
  if (value.includes("\u0000")) throw bad(`${what} contains a NUL character`);
  return value;
}

/** A string of at most `max` characters, possibly empty (no NUL). */
export function requireString(value: unknown, what: string, max = 200): string {
  if (typeof value !== "string") throw bad(`${what} must be a string, got ${showValue(value)}`);
  if (value.length > max) throw bad(`${what} is longer than ${max} characters`);
  if (value.includes("\u0000")) throw bad(`${what} contains a NUL character`);
  return value;
}

export function optionalText(value: unknown, what: string, max = 200): string | null {
  return value === undefined || value === null ? null : requireText(value, what, max);
}

export function requireOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw bad(`${what} must be one of ${allowed.join(", ")}, got ${showValue(value)}`);
  }
  return value as T;
}

/** An asset symbol as the schema allows it (2–12 upper-case letters or digits). */
export function requireAssetSymbol(value: unknown, what = "asset"): string {
  if (typeof value !== "string" || !/^[A-Z0-9]{2,12}$/.test(value)) {
    throw bad(`${what} must be an asset symbol like BTC, got ${showValue(value)}`);
  }
  return value;
}

/** A market symbol BASE_QUOTE; INVALID_CURRENCY_PAIR otherwise (gate.io's label). */
export function requireMarketSymbol(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/.test(value)) {
    throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${showValue(value)}`);
  }
  return value;
}

export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad(`${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

export function requireDate(value: unknown, what: string): Date {
  if (!(value instanceof Date) || !Number.isFinite(value.getTime())) {
    throw bad(`${what} must be a valid Date`);
  }
  return value;
}

/** Throws when a computed amount would not fit an int8 column. */
export function requireFitsInt8(value: bigint, what: string): bigint {
  if (value > INT8_MAX || value < -INT8_MAX - 1n) throw bad(`${what} is too large`);
  return value;
}
