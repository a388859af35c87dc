// How the console writes times and amounts: times in UTC (operators compare them with logs and
// with each other, across time zones; and the server's render and the browser's agree), amounts
// as the exact decimal strings the API sends, grouped in thousands (string work only).
import { formatDecimal } from "../../lib/market-format";

const two = (n: number) => String(n).padStart(2, "0");

/** "2025-03-04 13:05:09 UTC". */
export function consoleTime(value: Date | string | number): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`;
}

/** An exact amount as sent, grouped: "12345.678" → "12,345.678"; a signed one keeps its sign. */
export const consoleAmount = (text: string) => formatDecimal(text, 0);
