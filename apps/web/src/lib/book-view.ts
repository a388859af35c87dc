// What the order book panel and the depth chart draw, computed from the live book in integers:
// levels grouped by a price step (bids rounded down to the step, asks up, so a group never
// shows a better price than its orders), cumulative amounts from the best price outwards, the
// spread, and each row's share of the deepest cumulative amount (the only Number here: a bar's
// width, converted at the end).
import { decimalToUnits, unitsToDecimal } from "@spotx/engine/decimal";
import type { BookLevel } from "@spotx/protocol";
import type { MarketPrecision } from "./market-format";

export type BookSide = "bid" | "ask";

export type BookRow = {
  /** The group's price in ticks, and as text at the market's precision. */
  priceTicks: bigint;
  price: string;
  /** Lots resting in the group. */
  lots: bigint;
  amount: string;
  /** Lots from the best price through this group. */
  cumulativeLots: bigint;
  cumulative: string;
  /** cumulativeLots over the deepest cumulative of both sides shown, 0…1 (bar width). */
  depthShare: number;
};

export type BookView = {
  /** Best first: asks ascending, bids descending. */
  asks: BookRow[];
  bids: BookRow[];
  /** Best ask − best bid, and as a percent of the best ask (two decimals); null when a side is empty. */
  spread: { price: string; percent: string } | null;
};

/** A decimal string as integer units; a malformed one (never sent by the server) is skipped. */
function units(text: string, decimals: number): bigint | null {
  const converted = decimalToUnits(text, decimals);
  return converted.ok ? converted.value : null;
}

/** The price steps offered for a market: 1, 10, 100, 1000 ticks (0.01 … 10 for 2 decimals). */
export function priceSteps(
  m: Pick<MarketPrecision, "pricePrecision">,
): { ticks: bigint; label: string }[] {
  return [1n, 10n, 100n, 1000n].map((ticks) => ({
    ticks,
    label: unitsToDecimal(ticks, m.pricePrecision),
  }));
}

/** Sums one side's levels into groups of `stepTicks`, best first, at most `rows` groups. */
export function groupLevels(
  levels: readonly BookLevel[],
  side: BookSide,
  stepTicks: bigint,
  rows: number,
  m: Pick<MarketPrecision, "pricePrecision" | "amountPrecision">,
): { priceTicks: bigint; lots: bigint }[] {
  if (stepTicks <= 0n) throw new RangeError("a price step is at least one tick");
  const groups = new Map<bigint, bigint>();
  for (const [priceText, amountText] of levels) {
    const ticks = units(priceText, m.pricePrecision);
    const lots = units(amountText, m.amountPrecision);
    if (ticks === null || lots === null || lots === 0n) continue;
    const floor = (ticks / stepTicks) * stepTicks;
    const key = side === "bid" || floor === ticks ? floor : floor + stepTicks;
    groups.set(key, (groups.get(key) ?? 0n) + lots);
  }
  const sorted = [...groups].sort(([a], [b]) =>
    side === "bid" ? (a > b ? -1 : a < b ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0,
  );
  return sorted.slice(0, rows).map(([priceTicks, lots]) => ({ priceTicks, lots }));
}

/** `part / whole` as a Number in 0…1 with four decimals of resolution, for drawing only. */
export function shareOf(part: bigint, whole: bigint): number {
  if (whole <= 0n) return 0;
  return Number((part * 10_000n) / whole) / 10_000;
}

/** The book panel's rows for both sides, grouped by `stepTicks`, `rows` per side. */
export function bookView(
  book: { bids: readonly BookLevel[]; asks: readonly BookLevel[] },
  stepTicks: bigint,
  rows: number,
  m: Pick<MarketPrecision, "pricePrecision" | "amountPrecision">,
): BookView {
  const withTotals = (groups: { priceTicks: bigint; lots: bigint }[]) => {
    let running = 0n;
    return groups.map((g) => {
      running += g.lots;
      return { ...g, cumulativeLots: running };
    });
  };
  const asks = withTotals(groupLevels(book.asks, "ask", stepTicks, rows, m));
  const bids = withTotals(groupLevels(book.bids, "bid", stepTicks, rows, m));
  const deepest = [...asks, ...bids].reduce(
    (max, row) => (row.cumulativeLots > max ? row.cumulativeLots : max),
    0n,
  );
  const present = (row: (typeof asks)[number]): BookRow => ({
    priceTicks: row.priceTicks,
    price: unitsToDecimal(row.priceTicks, m.pricePrecision),
    lots: row.lots,
    amount: unitsToDecimal(row.lots, m.amountPrecision),
    cumulativeLots: row.cumulativeLots,
    cumulative: unitsToDecimal(row.cumulativeLots, m.amountPrecision),
    depthShare: shareOf(row.cumulativeLots, deepest),
  });
  return {
    asks: asks.map(present),
    bids: bids.map(present),
    spread: spreadOf(book, m),
  };
}

/** Best ask − best bid from the ungrouped book (grouping would widen it). */
export function spreadOf(
  book: { bids: readonly BookLevel[]; asks: readonly BookLevel[] },
  m: Pick<MarketPrecision, "pricePrecision" | "amountPrecision">,
): BookView["spread"] {
  const [bestBid] = groupLevels(book.bids, "bid", 1n, 1, m);
  const [bestAsk] = groupLevels(book.asks, "ask", 1n, 1, m);
  if (!bestBid || !bestAsk) return null;
  const spread = bestAsk.priceTicks - bestBid.priceTicks;
  // percent = spread / ask × 100, two decimals, rounded down.
  const percentHundredths = (spread * 10_000n) / bestAsk.priceTicks;
  return {
    price: unitsToDecimal(spread, m.pricePrecision),
    percent: unitsToDecimal(percentHundredths, 2, true),
  };
}

// ---------------------------------------------------------------------------------------------
// The depth chart: cumulative amount against price, both sides.

export type DepthPoint = { priceTicks: bigint; cumulativeLots: bigint };

export type DepthSeries = {
  bids: DepthPoint[];
  asks: DepthPoint[];
  /** The price range and the deepest cumulative amount drawn. */
  lowTicks: bigint;
  highTicks: bigint;
  deepestLots: bigint;
};

/**
 * Cumulative depth per side, best outwards, over the price range the book's nearest `levels`
 * levels span around the mid price — at most `rangeBps` of it, so one far-away order does not
 * flatten the chart. Null when both sides are empty.
 */
export function depthSeries(
  book: { bids: readonly BookLevel[]; asks: readonly BookLevel[] },
  m: Pick<MarketPrecision, "pricePrecision" | "amountPrecision">,
  rangeBps = 500n,
  levels = 40,
): DepthSeries | null {
  const all = 1_000_000;
  const bidLevels = groupLevels(book.bids, "bid", 1n, all, m);
  const askLevels = groupLevels(book.asks, "ask", 1n, all, m);
  const bestBid = bidLevels[0]?.priceTicks;
  const bestAsk = askLevels[0]?.priceTicks;
  if (bestBid === undefined && bestAsk === undefined) return null;
  const mid =
    bestBid !== undefined && bestAsk !== undefined
      ? (bestBid + bestAsk) / 2n
      : (bestBid ?? bestAsk ?? 0n);
  const farthest = (side: { priceTicks: bigint }[]) => {
    const edge = side[Math.min(levels, side.length) - 1];
    if (!edge) return 0n;
    return edge.priceTicks > mid ? edge.priceTicks - mid : mid - edge.priceTicks;
  };
  const cap = (mid * rangeBps) / 10_000n;
  const spanned = [farthest(bidLevels), farthest(askLevels)].reduce((a, b) => (a > b ? a : b));
  // A little beyond the last level shown, so its step is visible; never past the cap.
  const padded = spanned + spanned / 10n + 1n;
  const reach = padded < cap ? padded : cap;
  const low = mid - reach;
  const high = mid + reach;
  const cumulate = (
    sideLevels: { priceTicks: bigint; lots: bigint }[],
    inRange: (p: bigint) => boolean,
  ) => {
    let running = 0n;
    const points: DepthPoint[] = [];
    for (const level of sideLevels) {
      if (!inRange(level.priceTicks)) break;
      running += level.lots;
      points.push({ priceTicks: level.priceTicks, cumulativeLots: running });
    }
    return points;
  };
  const bids = cumulate(bidLevels, (p) => p >= low);
  const asks = cumulate(askLevels, (p) => p <= high);
  const deepestLots = [bids.at(-1)?.cumulativeLots ?? 0n, asks.at(-1)?.cumulativeLots ?? 0n].reduce(
    (a, b) => (a > b ? a : b),
  );
  return { bids, asks, lowTicks: low, highTicks: high, deepestLots };
}

/**
 * SVG paths of both sides' areas in a `width` × `height` box (price left to right, depth bottom
 * to top), drawn as steps: each level holds its cumulative amount until the next price.
 */
export function depthPaths(
  series: DepthSeries,
  width: number,
  height: number,
): { bid: string; ask: string } {
  const span = series.highTicks - series.lowTicks;
  const x = (ticks: bigint) =>
    span <= 0n ? width / 2 : shareOf(ticks - series.lowTicks, span) * width;
  const y = (lots: bigint) => height - shareOf(lots, series.deepestLots) * height;
  const area = (points: DepthPoint[], edge: number) => {
    if (points.length === 0) return "";
    const first = points[0];
    if (!first) return "";
    let path = `M${x(first.priceTicks).toFixed(1)},${height}`;
    let previous = 0n;
    for (const point of points) {
      const px = x(point.priceTicks).toFixed(1);
      path += ` L${px},${y(previous).toFixed(1)} L${px},${y(point.cumulativeLots).toFixed(1)}`;
      previous = point.cumulativeLots;
    }
    path += ` L${edge.toFixed(1)},${y(previous).toFixed(1)} L${edge.toFixed(1)},${height} Z`;
    return path;
  };
  return { bid: area(series.bids, 0), ask: area(series.asks, width) };
}
