// The zod pieces every admin procedure shares: how an id, a reason, a percentage and a page are
// given, and how a page comes back. Amounts travel as decimal strings; ids as bigints (superjson
// carries them), a digit string being accepted too for callers that cannot send a bigint.
import { LedgerError } from "@spotx/db";
import { decimalToUnits } from "@spotx/engine";
import { z } from "zod";
import { isTimestampText } from "../routers/fields";

const INT8_MAX = 2n ** 63n - 1n;

/** A database id: a positive int8, as a bigint or a string of digits. */
export const entityId = z
  .union([z.bigint(), z.string().regex(/^[1-9][0-9]{0,18}$/, "must be a positive whole number")])
  .transform((value) => BigInt(value))
  .refine((value) => value >= 1n && value <= INT8_MAX, "must be a positive id that fits int8");

/** Why an operator does what they do: kept in the audit log. */
export const reason = z
  .string()
  .trim()
  .min(3, "give a reason of at least 3 characters")
  .max(500)
  .refine((text) => !text.includes("\u0000"), "must not contain NUL");

export const marketSymbol = z
  .string()
  .regex(/^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/, "must be a market like BTC_USDT");

export const assetSymbol = z.string().regex(/^[A-Z0-9]{2,12}$/, "must be an asset like BTC");

/** A plain decimal string ("0.25"), no sign, no exponent. */
export const decimalText = z
  .string()
  .trim()
  .regex(/^[0-9]{1,30}(\.[0-9]{1,30})?$/, "must be a decimal number like 0.25");

/**
 * A percentage as text ("0.1" for 0.1 %) with at most `decimals` places, as an integer count of
 * 10^-decimals percent. Fees: 4 places = parts per million; price band: 2 places = basis points.
 */
export function percentIn(
  text: string,
  decimals: number,
  field: string,
  range: { min: bigint; max: bigint },
): number {
  const converted = decimalToUnits(text, decimals);
  if (!converted.ok) {
    throw new LedgerError(
      converted.error === "INVALID_PRECISION" ? "INVALID_PRECISION" : "INVALID_PARAM_VALUE",
      `${field} ${text} must be a percentage with at most ${decimals} decimals`,
    );
  }
  if (converted.value < range.min || converted.value > range.max) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `${field} ${text} % is outside ${range.min} … ${range.max} (in 10^-${decimals} %)`,
    );
  }
  return Number(converted.value);
}

export const pageInput = {
  /** Rows per page. */
  limit: z.number().int().min(1).max(200).default(50),
  /** `nextCursor` of the previous page; absent for the first. */
  cursor: z.string().min(1).max(300).optional(),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** A keyset cursor: the sort key of the last row shown, opaque to the caller. */
export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

export function decodeCursor(cursor: string, count: number): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(parts) &&
      parts.length === count &&
      parts.every((p): p is string => typeof p === "string" && p.length <= 100)
    ) {
      return parts;
    }
  } catch {
    // falls through to the refusal
  }
  throw new LedgerError("INVALID_PARAM_VALUE", "cursor is not one this list gave out");
}

/** A cursor part that must be an id. */
export function cursorId(part: string | undefined): bigint {
  // Up to 18 digits, like idField: always within int8.
  if (part === undefined || !/^[1-9][0-9]{0,17}$/.test(part)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "cursor is not one this list gave out");
  }
  return BigInt(part);
}

/** A cursor part that must be a PostgreSQL timestamp (its own text, microseconds kept). */
export function cursorTimestamp(part: string | undefined): string {
  if (part === undefined || !isTimestampText(part)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "cursor is not one this list gave out");
  }
  return part;
}

/** Takes one row more than the page to know whether another page follows. */
export function pageFrom<R, T>(
  rows: readonly R[],
  limit: number,
  present: (row: R) => T,
  cursorOf: (row: R) => readonly string[],
): { items: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map(present),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}

/** An optional time range filter. */
export const timeRange = {
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
};
