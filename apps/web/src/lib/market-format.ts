// The one place prices, amounts, totals and balances become text for people: exact decimal
// strings in, exact text out (string work only, never a float), padded to the market's
// precision and grouped in thousands so columns line up.
import type { MarketView as MarketSummary } from "../trpc/views";

/** What formatting needs of a market (markets.list / markets.get give all of it). */
export type MarketPrecision = Pick<
  MarketSummary,
  | "symbol"
  | "base"
  | "quote"
  | "pricePrecision"
  | "amountPrecision"
  | "baseDecimals"
  | "quoteDecimals"
>;

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

function groupThousands(whole: string): string {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A decimal string with at least `minDecimals` fraction digits (zeros added, never cut: extra
 * digits of an exact value stay) and grouped thousands. "" or a non-number stays as given,
 * or "—" when empty.
 */
export function formatDecimal(text: string, minDecimals: number): string {
  const match = DECIMAL.exec(text);
  if (!match) return text === "" ? "—" : text;
  const [, sign = "", whole = "0", fraction = ""] = match;
  const padded = fraction.length >= minDecimals ? fraction : fraction.padEnd(minDecimals, "0");
  const grouped = groupThousands(whole);
  return padded.length > 0 ? `${sign}${grouped}.${padded}` : `${sign}${grouped}`;
}

/** A price at the market's price precision: "30000" → "30,000.00". */
export const formatPrice = (text: string, m: MarketPrecision) =>
  formatDecimal(text, m.pricePrecision);

/** A base amount at the market's amount precision: "0.5" → "0.5000". */
export const formatAmount = (text: string, m: MarketPrecision) =>
  formatDecimal(text, m.amountPrecision);

/** A quote total (price × amount): at least the price's decimals, exact beyond them. */
export const formatTotal = (text: string, m: MarketPrecision) =>
  formatDecimal(trimZeros(text), m.pricePrecision);

/** An amount of one asset at its ledger decimals: balances, fees, ledger entries. */
export const formatAsset = (text: string, decimals: number) => formatDecimal(text, decimals);

/** An amount of the market's base or quote asset, by which asset it is. */
export function formatIn(text: string, asset: string, m: MarketPrecision): string {
  if (asset === m.base) return formatDecimal(trimZeros(text), m.amountPrecision);
  if (asset === m.quote) return formatDecimal(trimZeros(text), m.pricePrecision);
  return text;
}

/** Drops trailing fraction zeros ("300.000000" → "300"). */
export function trimZeros(text: string): string {
  if (!text.includes(".")) return text;
  return text.replace(/\.?0+$/, "");
}

/** gate.io's change_percentage ("-2.03", "2") as "+2.00%" / "-2.03%", and its direction. */
export function formatChange(percent: string): { text: string; direction: "up" | "down" | "flat" } {
  const match = DECIMAL.exec(percent);
  if (!match) return { text: "—", direction: "flat" };
  const negative = match[1] === "-";
  const zero = /^0+$/.test(match[2] ?? "") && /^0*$/.test(match[3] ?? "");
  const body = formatDecimal(`${match[2]}${match[3] ? `.${match[3]}` : ""}`, 2);
  if (zero) return { text: `${body}%`, direction: "flat" };
  return negative
    ? { text: `-${body}%`, direction: "down" }
    : { text: `+${body}%`, direction: "up" };
}

/** A time in ms as the trader's local HH:MM:SS. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A time in ms as the trader's local date and time (YYYY-MM-DD HH:MM:SS). */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${formatClock(ms)}`;
}

/** "BTC_USDT" → "BTC/USDT". */
export const pairName = (m: Pick<MarketSummary, "base" | "quote">) => `${m.base}/${m.quote}`;
