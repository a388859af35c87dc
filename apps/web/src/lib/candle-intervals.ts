// The chart's candle intervals: all 11 that markets.candles serves (gate.io's names), the
// default, and reading one from the URL (`?interval=4h`). The list is checked against the
// procedure's input type, so a backend interval added or removed fails the typecheck here
// (type-only import: nothing of the server reaches the browser).
import type { AppRouter } from "@spotx/api";
import type { inferRouterInputs } from "@trpc/server";

export type CandleInterval = inferRouterInputs<AppRouter>["markets"]["candles"]["interval"];

export const CANDLE_INTERVALS = [
  "10s",
  "1m",
  "5m",
  "15m",
  "30m",
  "1h",
  "4h",
  "8h",
  "1d",
  "7d",
  "30d",
] as const satisfies readonly CandleInterval[];

// Every interval the backend serves is in the list (the `satisfies` above checks the converse).
type Missing = Exclude<CandleInterval, (typeof CANDLE_INTERVALS)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

export const DEFAULT_CANDLE_INTERVAL: CandleInterval = "1m";

/** The query parameter that holds the chosen interval. */
export const INTERVAL_PARAM = "interval";

export function isCandleInterval(value: unknown): value is CandleInterval {
  return typeof value === "string" && (CANDLE_INTERVALS as readonly string[]).includes(value);
}

/** The interval a URL's `interval` parameter names; anything else is the default. */
export function intervalFromParam(value: string | string[] | undefined): CandleInterval {
  const first = Array.isArray(value) ? value[0] : value;
  return isCandleInterval(first) ? first : DEFAULT_CANDLE_INTERVAL;
}
