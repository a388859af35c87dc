// Amending a resting limit order in place, as the open-orders table previews it: what changed
// (only changed fields are sent), the market's rules checked with the server's labels, whether
// the order keeps its place in the queue (only a smaller amount at the same price does), and
// the hold before and after — what settlement leaves held once the engine applied the amend
// (a buy: the new price × what is left; a sell: what is left). Integers only.
import { decimalToUnits, unitsToDecimal } from "@spotx/engine/decimal";
import {
  basePerLot,
  normaliseTyped,
  quotePerTickLot,
  type TicketMarket,
  type TicketProblem,
} from "./order-ticket";

/** The rule the page states next to every amend. */
export const QUEUE_RULE =
  "Lowering the amount keeps your place in the queue; changing the price or raising the amount sends the order to the back.";

export type AmendedOrder = {
  side: "buy" | "sell";
  /** Limit price (decimal string). */
  price: string;
  /** The whole amount, in base. */
  amount: string;
  filledAmount: string;
};

export type AmendPlan = {
  /** What to send: only what changed. */
  changes: { price?: string; amount?: string };
  problems: TicketProblem[];
  /** A smaller amount at the same price: the order keeps its place in the queue. */
  keepsPlace: boolean;
  /** The new amount is at or below what already filled: the amend cancels the rest. */
  cancels: boolean;
  /** The hold now and once amended, in the asset the order holds. */
  hold: { asset: string; before: string; after: string } | null;
};

function units(text: string, decimals: number): bigint | null {
  const converted = decimalToUnits(normaliseTyped(text), decimals);
  return converted.ok ? converted.value : null;
}

export function planAmend(
  order: AmendedOrder,
  draft: { price: string; amount: string },
  m: TicketMarket,
): AmendPlan {
  const problems: TicketProblem[] = [];
  const oldTicks = units(order.price, m.pricePrecision);
  const oldLots = units(order.amount, m.amountPrecision);
  const filledLots = units(order.filledAmount, m.amountPrecision) ?? 0n;
  const ticks = units(draft.price, m.pricePrecision);
  const lots = units(draft.amount, m.amountPrecision);
  if (ticks === null || ticks === 0n) {
    problems.push({
      field: "price",
      label: "INVALID_PARAM_VALUE",
      message:
        ticks === null
          ? `Price is a number with at most ${m.pricePrecision} decimals`
          : "Price must be more than 0",
    });
  }
  if (lots === null || lots === 0n) {
    problems.push({
      field: "amount",
      label: "INVALID_PARAM_VALUE",
      message:
        lots === null
          ? `Amount is a number with at most ${m.amountPrecision} decimals`
          : "Amount must be more than 0",
    });
  }
  if (ticks === null || lots === null || oldTicks === null || oldLots === null || problems.length)
    return { changes: {}, problems, keepsPlace: false, cancels: false, hold: null };

  const changes: AmendPlan["changes"] = {};
  if (ticks !== oldTicks) changes.price = unitsToDecimal(ticks, m.pricePrecision);
  if (lots !== oldLots) changes.amount = unitsToDecimal(lots, m.amountPrecision);
  const cancels = lots <= filledLots;
  const minLots = units(m.minBaseAmount, m.amountPrecision);
  if (!cancels && minLots !== null && lots < minLots) {
    problems.push({
      field: "amount",
      label: "AMOUNT_TOO_LITTLE",
      message: `Amount is at least ${m.minBaseAmount} ${m.base}`,
    });
  }
  const holdOf = (t: bigint, l: bigint) => {
    const left = l > filledLots ? l - filledLots : 0n;
    return order.side === "buy"
      ? unitsToDecimal(t * left * quotePerTickLot(m), m.quoteDecimals)
      : unitsToDecimal(left * basePerLot(m), m.baseDecimals);
  };
  return {
    changes,
    problems,
    keepsPlace: ticks === oldTicks && lots <= oldLots,
    cancels,
    hold: {
      asset: order.side === "buy" ? m.quote : m.base,
      before: holdOf(oldTicks, oldLots),
      after: holdOf(ticks, lots),
    },
  };
}
