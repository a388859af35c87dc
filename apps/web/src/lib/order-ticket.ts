// The order form's arithmetic, in integers: what a typed price and amount mean in ticks, lots
// and minor units; the total and the fee preview; an amount from a share of the balance or
// from a value in quote; and the market's rules checked before submitting, each refusal with
// the label and words the server would use. Components render what this returns.
import { decimalToUnits, unitsToDecimal } from "@spotx/engine/decimal";
import type { MarketPrecision } from "./market-format";

export type TicketMarket = MarketPrecision & {
  minBaseAmount: string;
  minQuoteAmount: string;
  makerFeePercent: string;
  takerFeePercent: string;
};

export type TicketSide = "buy" | "sell";
export type TicketType = "limit" | "market";
export type TicketTimeInForce = "gtc" | "ioc" | "fok" | "poc";

export type TicketInput = {
  side: TicketSide;
  type: TicketType;
  timeInForce: TicketTimeInForce;
  /** Limit price, as typed. */
  price: string;
  /** Base amount; for a market buy, the quote amount to spend (gate.io's rule). */
  amount: string;
};

/** The trader's available balances of the market's two assets (decimal strings), if known. */
export type TicketBalances = { base: string | null; quote: string | null };

/** `trigger`: a stop-limit ticket's trigger price (stop-ticket.ts). */
export type TicketField = "price" | "amount" | "total" | "trigger";
export type TicketProblem = { field: TicketField; label: string; message: string };

export type FeePreview =
  /** An exact fee on a known amount received. */
  | { kind: "exact"; amount: string; asset: string; rate: "maker" | "taker" | "at most taker" }
  /** A market order: the fee is the taker rate on what the book gives. */
  | { kind: "rate"; percent: string; asset: string };

export type TicketPreview = {
  /** Quote value of the order (limit: price × amount; market buy: the spend); null if unknown. */
  total: string | null;
  fee: FeePreview | null;
  /** What submitting would hold: in base (sells) or quote (buys). */
  hold: { amount: string; asset: string } | null;
  problems: TicketProblem[];
};

const pow10 = (n: number) => 10n ** BigInt(n);

/**
 * A number as typed ("30000.", ".5", "007") in the canonical form the server takes ("30000",
 * "0.5", "7"); "" stays "".
 */
export function normaliseTyped(text: string): string {
  let t = text.trim();
  if (t.startsWith(".")) t = `0${t}`;
  if (t.endsWith(".")) t = t.slice(0, -1);
  t = t.replace(/^0+(?=\d)/, "");
  return t;
}

type Parsed = { ok: true; units: bigint } | { ok: false; problem: TicketProblem };

function parseField(text: string, decimals: number, field: TicketField, what: string): Parsed {
  const typed = normaliseTyped(text);
  if (typed === "") {
    return {
      ok: false,
      problem: { field, label: "MISSING_REQUIRED_PARAM", message: `Enter ${what}` },
    };
  }
  const converted = decimalToUnits(typed, decimals);
  if (!converted.ok) {
    return converted.error === "INVALID_PRECISION"
      ? {
          ok: false,
          problem: {
            field,
            label: "INVALID_PRECISION",
            message: `${capitalise(what)} has at most ${decimals} decimals`,
          },
        }
      : {
          ok: false,
          problem: {
            field,
            label: "INVALID_PARAM_VALUE",
            message: `${capitalise(what)} is not a number`,
          },
        };
  }
  if (converted.value === 0n) {
    return {
      ok: false,
      problem: {
        field,
        label: "INVALID_PARAM_VALUE",
        message: `${capitalise(what)} must be more than 0`,
      },
    };
  }
  return { ok: true, units: converted.value };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Parts per million from gate.io's percent string ("0.2" → 2000). */
export function feePpm(percent: string): bigint {
  const converted = decimalToUnits(percent, 4);
  return converted.ok ? converted.value : 0n;
}

/** ceil(amount × ppm / 1,000,000): the ledger's fee rule (rounded up, in minor units). */
export function feeOn(receivedMinor: bigint, ppm: bigint): bigint {
  const numerator = receivedMinor * ppm;
  return (numerator + 999_999n) / 1_000_000n;
}

/** Quote minor units in one tick × one lot (exact: precisions never exceed the quote's decimals). */
export function quotePerTickLot(m: MarketPrecision): bigint {
  return pow10(m.quoteDecimals - m.pricePrecision - m.amountPrecision);
}

/** Base minor units in one lot. */
export function basePerLot(m: MarketPrecision): bigint {
  return pow10(m.baseDecimals - m.amountPrecision);
}

function availableMinor(text: string | null, decimals: number): bigint | null {
  if (text === null) return null;
  const converted = decimalToUnits(text, decimals);
  return converted.ok ? converted.value : null;
}

/** Checks the ticket against the market's rules and the balance, and previews its cost. */
export function previewTicket(
  input: TicketInput,
  m: TicketMarket,
  balances: TicketBalances,
): TicketPreview {
  const problems: TicketProblem[] = [];
  const minLots = decimalToUnits(m.minBaseAmount, m.amountPrecision);
  const minQuote = decimalToUnits(m.minQuoteAmount, m.quoteDecimals);
  const qptl = quotePerTickLot(m);
  const bpl = basePerLot(m);
  const takerPpm = feePpm(m.takerFeePercent);
  const makerPpm = feePpm(m.makerFeePercent);
  const baseAvailable = availableMinor(balances.base, m.baseDecimals);
  const quoteAvailable = availableMinor(balances.quote, m.quoteDecimals);
  const quote = (minor: bigint) => unitsToDecimal(minor, m.quoteDecimals);
  const base = (minor: bigint) => unitsToDecimal(minor, m.baseDecimals);

  if (input.type === "market") {
    if (input.side === "buy") {
      const spend = parseField(input.amount, m.quoteDecimals, "amount", `the ${m.quote} to spend`);
      if (!spend.ok) return { total: null, fee: null, hold: null, problems: [spend.problem] };
      if (minQuote.ok && spend.units < minQuote.value) {
        problems.push({
          field: "amount",
          label: "AMOUNT_TOO_LITTLE",
          message: `Spend at least ${m.minQuoteAmount} ${m.quote}`,
        });
      }
      if (quoteAvailable !== null && spend.units > quoteAvailable) {
        problems.push(notEnough("amount", m.quote));
      }
      return {
        total: quote(spend.units),
        fee: { kind: "rate", percent: m.takerFeePercent, asset: m.base },
        hold: { amount: quote(spend.units), asset: m.quote },
        problems,
      };
    }
    const lots = parseField(input.amount, m.amountPrecision, "amount", `the ${m.base} amount`);
    if (!lots.ok) return { total: null, fee: null, hold: null, problems: [lots.problem] };
    if (minLots.ok && lots.units < minLots.value) {
      problems.push(tooLittleAmount(m));
    }
    if (baseAvailable !== null && lots.units * bpl > baseAvailable) {
      problems.push(notEnough("amount", m.base));
    }
    return {
      total: null,
      fee: { kind: "rate", percent: m.takerFeePercent, asset: m.quote },
      hold: { amount: base(lots.units * bpl), asset: m.base },
      problems,
    };
  }

  const price = parseField(input.price, m.pricePrecision, "price", "a price");
  const lots = parseField(input.amount, m.amountPrecision, "amount", `the ${m.base} amount`);
  if (!price.ok) problems.push(price.problem);
  if (!lots.ok) problems.push(lots.problem);
  if (!price.ok || !lots.ok) return { total: null, fee: null, hold: null, problems };

  const totalMinor = price.units * lots.units * qptl;
  if (minLots.ok && lots.units < minLots.value) problems.push(tooLittleAmount(m));
  if (minQuote.ok && totalMinor < minQuote.value) {
    problems.push({
      field: "total",
      label: "AMOUNT_TOO_LITTLE",
      message: `Order value is at least ${m.minQuoteAmount} ${m.quote}`,
    });
  }
  const rate =
    input.timeInForce === "poc" ? "maker" : input.timeInForce === "gtc" ? "at most taker" : "taker";
  const ppm = rate === "maker" ? makerPpm : takerPpm;
  let fee: FeePreview;
  let hold: TicketPreview["hold"];
  if (input.side === "buy") {
    fee = { kind: "exact", amount: base(feeOn(lots.units * bpl, ppm)), asset: m.base, rate };
    hold = { amount: quote(totalMinor), asset: m.quote };
    if (quoteAvailable !== null && totalMinor > quoteAvailable)
      problems.push(notEnough("total", m.quote));
  } else {
    fee = { kind: "exact", amount: quote(feeOn(totalMinor, ppm)), asset: m.quote, rate };
    hold = { amount: base(lots.units * bpl), asset: m.base };
    if (baseAvailable !== null && lots.units * bpl > baseAvailable)
      problems.push(notEnough("amount", m.base));
  }
  return { total: quote(totalMinor), fee, hold, problems };
}

function tooLittleAmount(m: TicketMarket): TicketProblem {
  return {
    field: "amount",
    label: "AMOUNT_TOO_LITTLE",
    message: `Amount is at least ${m.minBaseAmount} ${m.base}`,
  };
}

function notEnough(field: TicketField, asset: string): TicketProblem {
  return { field, label: "BALANCE_NOT_ENOUGH", message: `Not enough ${asset} available` };
}

/**
 * The amount field for `percent` (0–100, whole) of the balance that pays for the order: a buy
 * spends quote (a limit buy needs its price to know how many lots that buys), a sell spends
 * base. Rounded down to a whole lot (or quote minor unit for a market buy), so it never asks
 * for more than the balance. Null when it cannot be known yet.
 */
export function amountForShare(
  percent: number,
  input: Pick<TicketInput, "side" | "type" | "price">,
  m: TicketMarket,
  balances: TicketBalances,
): string | null {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) return null;
  const share = BigInt(percent);
  if (input.side === "sell") {
    const available = availableMinor(balances.base, m.baseDecimals);
    if (available === null) return null;
    const lots = (available * share) / 100n / basePerLot(m);
    return unitsToDecimal(lots, m.amountPrecision);
  }
  const available = availableMinor(balances.quote, m.quoteDecimals);
  if (available === null) return null;
  const budget = (available * share) / 100n;
  if (input.type === "market") return unitsToDecimal(budget, m.quoteDecimals);
  return amountForValue(unitsToDecimal(budget, m.quoteDecimals), input.price, m);
}

/**
 * The base amount (whole lots, rounded down) that `value` of quote buys at `price`: the form's
 * "total" field typed in. Null when either is not a usable number.
 */
export function amountForValue(value: string, price: string, m: TicketMarket): string | null {
  const ticks = decimalToUnits(normaliseTyped(price), m.pricePrecision);
  const valueMinor = decimalToUnits(normaliseTyped(value), m.quoteDecimals);
  if (!ticks.ok || !valueMinor.ok || ticks.value === 0n) return null;
  const lots = valueMinor.value / (ticks.value * quotePerTickLot(m));
  return unitsToDecimal(lots, m.amountPrecision);
}
