// The stop-limit ticket's words and checks: the trigger rule said as a person would read it
// ("Buy when last price ≥ 70,000.00"), the trigger price checked against the market's tick, and
// the one-line summary of what placing it does. The limit price and amount are the limit
// ticket's (order-ticket.ts). String work and integers only.
import { decimalToUnits } from "@spotx/engine/decimal";
import { formatPrice, type MarketPrecision, trimZeros } from "./market-format";
import { normaliseTyped, type TicketProblem, type TicketSide } from "./order-ticket";

/** ">=": fires when the last price is at or above the trigger; "<=": at or below. */
export type StopRule = ">=" | "<=";

/** The classic stop: a buy fires as the price rises to the trigger, a sell as it falls to it. */
export const defaultRule = (side: TicketSide): StopRule => (side === "buy" ? ">=" : "<=");

const SIGN = { ">=": "≥", "<=": "≤" } as const;

/** "when last price ≥ 70,000.00" (the trigger as typed or stored; "" reads "the trigger price"). */
export function ruleWhen(rule: StopRule, trigger: string, m: MarketPrecision): string {
  const typed = normaliseTyped(trigger);
  const price = DECIMAL.test(typed) ? formatPrice(typed, m) : "the trigger price";
  return `when last price ${SIGN[rule]} ${price}`;
}

/** "Buy when last price ≥ 70,000.00". */
export function ruleInWords(
  side: TicketSide,
  rule: StopRule,
  trigger: string,
  m: MarketPrecision,
): string {
  return `${side === "buy" ? "Buy" : "Sell"} ${ruleWhen(rule, trigger, m)}`;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** The trigger price's problem, if any (the words and labels the server would use). */
export function triggerProblem(trigger: string, m: MarketPrecision): TicketProblem | null {
  const typed = normaliseTyped(trigger);
  if (typed === "") {
    return { field: "trigger", label: "MISSING_REQUIRED_PARAM", message: "Enter a trigger price" };
  }
  const converted = decimalToUnits(typed, m.pricePrecision);
  if (!converted.ok) {
    return converted.error === "INVALID_PRECISION"
      ? {
          field: "trigger",
          label: "INVALID_PRECISION",
          message: `Trigger price has at most ${m.pricePrecision} decimals`,
        }
      : {
          field: "trigger",
          label: "INVALID_PARAM_VALUE",
          message: "Trigger price is not a number",
        };
  }
  if (converted.value === 0n) {
    return {
      field: "trigger",
      label: "INVALID_PARAM_VALUE",
      message: "Trigger price must be more than 0",
    };
  }
  return null;
}

/**
 * What placing the stop does, in one sentence: "When last price ≥ 70,000.00, a limit buy of
 * 0.5 BTC at 70,100.00 USDT is placed." Null until the three numbers are there.
 */
export function stopSummary(
  input: { side: TicketSide; trigger: string; price: string; amount: string },
  m: MarketPrecision,
): string | null {
  const trigger = normaliseTyped(input.trigger);
  const price = normaliseTyped(input.price);
  const amount = normaliseTyped(input.amount);
  if (![trigger, price, amount].every((t) => DECIMAL.test(t))) return null;
  const when = ruleWhen(defaultRule(input.side), trigger, m);
  return `${when.charAt(0).toUpperCase()}${when.slice(1)}, a limit ${input.side} of ${trimZeros(amount)} ${m.base} at ${formatPrice(price, m)} ${m.quote} is placed.`;
}
