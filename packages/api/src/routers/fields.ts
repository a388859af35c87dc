// The zod fields several procedures' inputs share: a market symbol, an asset, an id, a decimal
// amount, a page of results. Defined once so every procedure refuses the same bad value with the
// same words.
import { z } from "zod";

/** gate.io's currency pair id: BTC_USDT. */
export const marketField = z
  .string()
  .regex(/^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/, "a market is a pair like BTC_USDT");

/** An asset symbol: BTC. */
export const assetField = z.string().regex(/^[A-Z0-9]{2,12}$/, "an asset is a symbol like BTC");

/** A row id, as the decimal string every id is on the wire (bigint inside). */
export const idField = z.string().regex(/^[1-9][0-9]{0,17}$/, "an id is a positive whole number");

/** A positive decimal amount as a string ("0.5"); its precision is checked against the asset or market. */
export const decimalField = z
  .string()
  .regex(/^[0-9]{1,30}(\.[0-9]{1,30})?$/, 'an amount is a decimal string like "0.5"');

/** Free text a person typed (labels, addresses): printable, no control characters. */
export const textField = (max: number) =>
  z
    .string()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, "no control characters");

/** Page size: 1 to `max`, `fallback` when absent. */
export const limitField = (max: number, fallback: number) =>
  z.number().int().min(1).max(max).default(fallback);

/** A page of results and the cursor of the next one (null on the last page). */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Seconds since the epoch, as gate.io's `from`/`to` take them. */
export const unixSeconds = z.number().int().min(0).max(32_503_680_000);

// A timestamp as PostgreSQL writes one (`created_at::text`, "2026-11-24 07:13:24.5+00") or as
// ISO 8601 writes it. Cursors carry them as the client's text back into a `::timestamptz` cast.
const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:[+-](?:0\d|1[0-5])(?::?[0-5]\d){0,2}|Z)?$/;

/**
 * Whether PostgreSQL will read `text` as a timestamp: the shape, and a real calendar date and
 * time — month 13 or February 30 must be a labelled refusal here, not an error from the cast.
 */
export function isTimestampText(text: string): boolean {
  const parts = TIMESTAMP_TEXT.exec(text)?.slice(1, 7).map(Number);
  if (parts === undefined) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = parts;
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    year >= 1970 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}
