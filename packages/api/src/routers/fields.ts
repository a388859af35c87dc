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
