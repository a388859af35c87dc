// Query parameters and bodies as gate.io takes them, validated with zod: a missing required
// parameter is MISSING_REQUIRED_PARAM, anything else wrong INVALID_PARAM_VALUE, each naming the
// parameter. Numbers in the query are decimal integers only (no signs, exponents or spaces).
// Signed endpoints take their queries with z.strictObject: a name they do not know is refused,
// not ignored — a parameter the client meant (and signed) must never silently drop out.
import { z } from "zod";
import { GateError } from "./errors";

/** The query string as an object: first value of each name (gate.io takes one of each). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of query) if (!(name in out)) out[name] = value;
  return out;
}

/** `raw` parsed by `schema`, or the GateError that names what is wrong. */
export function parseParams<S extends z.ZodType>(
  schema: S,
  raw: Record<string, unknown>,
): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      `unknown parameter${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`,
    );
  }
  const name = issue?.path.map(String).join(".") ?? "";
  const top = issue?.path[0];
  if (typeof top === "string" && issue?.path.length === 1 && raw[top] === undefined) {
    throw new GateError("MISSING_REQUIRED_PARAM", `missing required parameter: ${name}`);
  }
  throw new GateError(
    "INVALID_PARAM_VALUE",
    name ? `invalid ${name}: ${issue?.message ?? "invalid value"}` : (issue?.message ?? "invalid"),
  );
}

/** A signed endpoint that takes no query parameters. */
export const noQuery = z.strictObject({});

/**
 * The most rows a page may skip: gate.io bounds `limit * (page - 1)` the same way. Deeper
 * history is reached with a narrower `from`/`to` (or `last_id` for public trades), which the
 * indexes serve, instead of an OFFSET PostgreSQL must walk.
 */
export const MAX_PAGE_OFFSET = 100_000;

/** The rows a page skips, or INVALID_PARAM_VALUE past MAX_PAGE_OFFSET. */
export function pageOffset(page: number, limit: number): number {
  const offset = (page - 1) * limit;
  if (offset > MAX_PAGE_OFFSET) {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      `page × limit reaches ${offset} rows back; at most ${MAX_PAGE_OFFSET}: narrow the range with from/to (or last_id) instead`,
    );
  }
  return offset;
}

/** A currency pair's name; whether it exists (INVALID_CURRENCY_PAIR) is the market directory's to say. */
export const pairParam = z.string().min(1).max(40);

/** A whole number within [min, max], from its decimal text. */
export function intParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** Unix seconds. */
export const secondsParam = intParam(0, 253_402_300_799);

/** An id (orders, trades): a positive integer of at most 18 digits, as bigint. */
export const idParam = z
  .string()
  .regex(/^[1-9]\d{0,17}$/, "must be a positive whole number")
  .transform(BigInt);

/** gate.io's booleans in a query: "true" / "false". */
export const boolParam = z.enum(["true", "false"]).transform((v) => v === "true");

/** `account`: spotx has only the spot account. */
/** An order id or its client text, as gate.io accepts either wherever an order is named. */
export const orderIdOrText = z
  .string()
  .regex(/^(\d{1,18}|t-[A-Za-z0-9_.-]{1,28})$/, "must be an order id or a text starting with t-");

/** Amounts and prices are decimal strings: a JSON number would be a float on the way in. */
export const decimalText = z.string({ error: "must be a decimal string" }).min(1).max(64);

export const accountParam = z.literal("spot", { error: 'only the "spot" account exists' });

export const sideParam = z.enum(["buy", "sell"]);
