// The edge between gate.io's decimal strings and the engine's integers. Every conversion
// is exact (bigint and string arithmetic only); a string with more precision than the
// market allows is refused, never rounded.

/** A non-negative decimal as `mantissa × 10^-scale`, e.g. "0.050" → { mantissa: 50n, scale: 3 }. */
export interface Decimal {
  readonly mantissa: bigint;
  readonly scale: number;
}

export type DecimalError = "INVALID_NUMBER" | "INVALID_PRECISION" | "OUT_OF_RANGE";

export type Converted<T> = { ok: true; value: T } | { ok: false; error: DecimalError };

const DECIMAL_PATTERN = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
// Longer strings cannot be a sane price or amount and would only make bigint work expensive.
const MAX_DECIMAL_LENGTH = 64;

/**
 * Parses a plain non-negative decimal string ("30000", "0.01", "1.50"). Signs, exponents,
 * spaces, leading zeros ("007"), a bare "." or a missing integer part (".5") are refused.
 */
export function parseDecimal(text: string): Decimal | undefined {
  if (text.length === 0 || text.length > MAX_DECIMAL_LENGTH) return undefined;
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return undefined;
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  return { mantissa: BigInt(whole + fraction), scale: fraction.length };
}

const TEN = 10n;

function pow10(exponent: number): bigint {
  return TEN ** BigInt(exponent);
}

/**
 * The decimal string `text` as an integer count of `10^-decimals` units, exactly.
 * "1.5" with 2 decimals → 150n. Trailing zeros beyond `decimals` are fine ("1.500" with
 * 2 decimals → 150n); any non-zero digit beyond them is INVALID_PRECISION.
 */
export function decimalToUnits(text: string, decimals: number): Converted<bigint> {
  const parsed = parseDecimal(text);
  if (parsed === undefined) return { ok: false, error: "INVALID_NUMBER" };
  return decimalValueToUnits(parsed, decimals);
}

function decimalValueToUnits(value: Decimal, decimals: number): Converted<bigint> {
  if (value.scale <= decimals) {
    return { ok: true, value: value.mantissa * pow10(decimals - value.scale) };
  }
  const divisor = pow10(value.scale - decimals);
  if (value.mantissa % divisor !== 0n) return { ok: false, error: "INVALID_PRECISION" };
  return { ok: true, value: value.mantissa / divisor };
}

/**
 * An integer count of `10^-decimals` units as a decimal string. Trailing fractional zeros
 * are dropped ("150" units at 2 decimals → "1.5") unless `fixed` is set ("1.50").
 */
export function unitsToDecimal(units: bigint | number, decimals: number, fixed = false): string {
  let value: bigint;
  if (typeof units === "number") {
    if (!Number.isSafeInteger(units)) throw new RangeError(`not a safe integer: ${units}`);
    value = BigInt(units);
  } else {
    value = units;
  }
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  const sign = negative ? "-" : "";
  if (decimals === 0) return sign + digits;
  const padded = digits.padStart(decimals + 1, "0");
  const whole = padded.slice(0, padded.length - decimals);
  let fraction = padded.slice(padded.length - decimals);
  if (!fixed) fraction = fraction.replace(/0+$/, "");
  return fraction.length === 0 ? sign + whole : `${sign + whole}.${fraction}`;
}

/**
 * A step size ("0.01", "0.05", "5") as `step × 10^-decimals` with the fewest decimals:
 * the form in which a market's tick and lot are kept.
 */
export function parseStep(text: string): { units: bigint; decimals: number } | undefined {
  const parsed = parseDecimal(text);
  if (parsed === undefined || parsed.mantissa === 0n) return undefined;
  let { mantissa, scale } = parsed;
  while (scale > 0 && mantissa % TEN === 0n) {
    mantissa /= TEN;
    scale -= 1;
  }
  return { units: mantissa, decimals: scale };
}

/**
 * Exact conversions for one market: decimal strings ↔ ticks (price), lots (base amount),
 * quote minor units and base minor units. Built from the market's tick and lot size and the
 * decimals at which the ledger keeps each asset.
 */
export class MarketScale {
  readonly tickUnits: bigint;
  readonly priceDecimals: number;
  readonly lotUnits: bigint;
  readonly amountDecimals: number;
  readonly baseDecimals: number;
  readonly quoteDecimals: number;
  /** Quote minor units in one tick × one lot; see `MarketConfig` for why it must be whole. */
  readonly quotePerTickLot: bigint;
  /** Base minor units in one lot. */
  readonly basePerLot: bigint;

  constructor(tickSize: string, lotSize: string, baseDecimals: number, quoteDecimals: number) {
    const tick = parseStep(tickSize);
    if (tick === undefined)
      throw new RangeError(`tickSize "${tickSize}" is not a positive decimal`);
    const lot = parseStep(lotSize);
    if (lot === undefined) throw new RangeError(`lotSize "${lotSize}" is not a positive decimal`);
    if (!isDecimalsCount(baseDecimals)) throw new RangeError(`bad baseDecimals ${baseDecimals}`);
    if (!isDecimalsCount(quoteDecimals)) throw new RangeError(`bad quoteDecimals ${quoteDecimals}`);
    this.tickUnits = tick.units;
    this.priceDecimals = tick.decimals;
    this.lotUnits = lot.units;
    this.amountDecimals = lot.decimals;
    this.baseDecimals = baseDecimals;
    this.quoteDecimals = quoteDecimals;

    // One tick × one lot = tickUnits·lotUnits × 10^-(priceDecimals+amountDecimals) quote.
    const notionalDecimals = tick.decimals + lot.decimals;
    const notionalUnits = tick.units * lot.units;
    if (quoteDecimals >= notionalDecimals) {
      this.quotePerTickLot = notionalUnits * pow10(quoteDecimals - notionalDecimals);
    } else {
      const divisor = pow10(notionalDecimals - quoteDecimals);
      if (notionalUnits % divisor !== 0n) {
        throw new RangeError(
          `tick ${tickSize} × lot ${lotSize} = ${unitsToDecimal(notionalUnits, notionalDecimals)} ` +
            `quote is finer than the quote asset's ${quoteDecimals} decimals, so trade amounts ` +
            `could not be exact: keep the quote asset at ≥ ${notionalDecimals} decimals in the ` +
            `ledger or coarsen the tick or lot`,
        );
      }
      this.quotePerTickLot = notionalUnits / divisor;
    }
    if (baseDecimals >= lot.decimals) {
      this.basePerLot = lot.units * pow10(baseDecimals - lot.decimals);
    } else {
      const divisor = pow10(lot.decimals - baseDecimals);
      if (lot.units % divisor !== 0n) {
        throw new RangeError(
          `lot ${lotSize} is finer than the base asset's ${baseDecimals} decimals`,
        );
      }
      this.basePerLot = lot.units / divisor;
    }
  }

  /** "30000.01" → ticks, refusing prices that are not a whole number of ticks. */
  priceToTicks(price: string): Converted<number> {
    return this.toSteps(price, this.tickUnits, this.priceDecimals);
  }

  ticksToPrice(ticks: number | bigint): string {
    return unitsToDecimal(BigInt(ticks) * this.tickUnits, this.priceDecimals);
  }

  /** Base amount "0.5" → lots, refusing amounts that are not a whole number of lots. */
  amountToLots(amount: string): Converted<number> {
    return this.toSteps(amount, this.lotUnits, this.amountDecimals);
  }

  lotsToAmount(lots: number | bigint): string {
    return unitsToDecimal(BigInt(lots) * this.lotUnits, this.amountDecimals);
  }

  /** Quote amount "300.5" → quote minor units (e.g. a market buy's spend). */
  quoteToMinor(amount: string): Converted<number> {
    const units = decimalToUnits(amount, this.quoteDecimals);
    if (!units.ok) return units;
    return toSafeNumber(units.value);
  }

  minorToQuote(minor: number | bigint): string {
    return unitsToDecimal(BigInt(minor), this.quoteDecimals);
  }

  /** Base amount "0.5" → base minor units (ledger). */
  baseToMinor(amount: string): Converted<number> {
    const units = decimalToUnits(amount, this.baseDecimals);
    if (!units.ok) return units;
    return toSafeNumber(units.value);
  }

  minorToBase(minor: number | bigint): string {
    return unitsToDecimal(BigInt(minor), this.baseDecimals);
  }

  /** Lots → base minor units, as the ledger moves them. */
  lotsToBaseMinor(lots: number | bigint): bigint {
    return BigInt(lots) * this.basePerLot;
  }

  /** The exact quote minor units of `lots` at `ticks`: ticks × lots × quotePerTickLot. */
  notional(ticks: number | bigint, lots: number | bigint): bigint {
    return BigInt(ticks) * BigInt(lots) * this.quotePerTickLot;
  }

  private toSteps(text: string, stepUnits: bigint, decimals: number): Converted<number> {
    const units = decimalToUnits(text, decimals);
    if (!units.ok) return units;
    if (units.value % stepUnits !== 0n) return { ok: false, error: "INVALID_PRECISION" };
    return toSafeNumber(units.value / stepUnits);
  }
}

function isDecimalsCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 36;
}

function toSafeNumber(value: bigint): Converted<number> {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: "OUT_OF_RANGE" };
  return { ok: true, value: Number(value) };
}
