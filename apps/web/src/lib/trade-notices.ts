// The trade page's notices for what happened to the trader's orders without their asking —
// the system cancelled one (self-trade prevention, an immediate-or-cancel or fill-or-kill
// remainder, a post-only that would have taken, a change of the market's tick or lot, a
// delisting), a stop-limit fired (or could not place its order, or expired), the market halted
// or resumed — each saying why, from the pushes the page already receives. The trader's own
// cancels and plain fills say nothing here (fills have their own toasts). Pure: text in, text out.
import type { OrderUpdate, StopUpdate } from "@spotx/protocol";
import { formatDecimal, trimZeros } from "./market-format";

export type Notice = { tone: "success" | "error" | "info"; title: string; message: string };

/** "BTC_USDT" → "BTC/USDT"; the base asset of a pair. */
const pair = (symbol: string) => symbol.replace("_", "/");
const baseOf = (symbol: string) => symbol.split("_")[0] ?? symbol;

/** "0.5000" → "0.5"; "70100" → "70,100". */
const figure = (text: string) => formatDecimal(trimZeros(text), 0);

function filledPart(order: OrderUpdate): string {
  const filled = trimZeros(order.filled_amount);
  return filled === "0" || filled === ""
    ? "none of it had filled"
    : `${figure(filled)} ${baseOf(order.currency_pair)} had filled`;
}

/** A notice for an order the system ended, or null (filled, still open, or the trader's cancel). */
export function orderNotice(order: OrderUpdate): Notice | null {
  const side = order.side;
  const where = `your ${order.type} ${side} on ${pair(order.currency_pair)}`;
  switch (order.finish_as) {
    case "stp":
      return {
        tone: "info",
        title: "Order cancelled: self-trade prevention",
        message: `${capital(where)} would have traded with your own order; ${filledPart(order)}.`,
      };
    case "ioc":
      return {
        tone: "info",
        title:
          order.type === "market"
            ? "Unfilled remainder of your market order cancelled"
            : "Unfilled remainder of your immediate-or-cancel order cancelled",
        message: `${capital(where)}: ${filledPart(order)}; the rest found no match at once.`,
      };
    case "fok":
      return {
        tone: "info",
        title: "Fill-or-kill order cancelled",
        message: `${capital(where)} could not be filled in full at once, so none of it was.`,
      };
    case "poc":
      return {
        tone: "error",
        title: "Post-only order cancelled",
        message: `POC_FILL_IMMEDIATELY: ${where} would have taken liquidity.`,
      };
    case "market_rules":
      return {
        tone: "info",
        title: "Cancelled: the market's tick/lot changed",
        message: `${capital(where)} no longer fit the market's price or amount steps; ${filledPart(order)}. Its hold is released.`,
      };
    case "delisted":
      return {
        tone: "info",
        title: "Cancelled: market delisted",
        message: `${pair(order.currency_pair)} was delisted: ${where} was cancelled and its hold released.`,
      };
    default:
      return null;
  }
}

/** What a stop-limit's order is: "buy 0.5 BTC at 70,100". */
function stopOrderText(stop: StopUpdate): string {
  const base = baseOf(stop.currency_pair);
  if (stop.type === "market") return `${stop.side} ${figure(stop.amount)} at market`;
  return `${stop.side} ${figure(stop.amount)} ${base} at ${figure(stop.price)}`;
}

/** The reason a stop records when its owner cancels it (packages/db/src/price-orders.ts). */
const CANCELLED_BY_USER = "cancelled by the user";

/** A notice for a stop-limit that fired, failed or ended without its owner; null otherwise. */
export function stopNotice(stop: StopUpdate): Notice | null {
  const when = `last price ${stop.rule === ">=" ? "≥" : "≤"} ${figure(stop.trigger_price)}`;
  switch (stop.status) {
    case "finish":
      return {
        tone: "success",
        title: `Stop triggered: ${stopOrderText(stop)} placed`,
        message: `The ${pair(stop.currency_pair)} ${when} fired it; order ${stop.fired_order_id} is in your open orders.`,
      };
    case "failed":
      return {
        tone: "error",
        title: "Stop triggered, but its order was refused",
        message: `${capital(stopOrderText(stop))} (${when}): ${stop.reason || "the placement was refused"}.`,
      };
    case "expired":
      return {
        tone: "info",
        title: "Stop expired",
        message: `${capital(stopOrderText(stop))} (${when}) expired before it fired.`,
      };
    case "cancelled":
      if (stop.reason === CANCELLED_BY_USER) return null;
      return {
        tone: "info",
        title: "Stop cancelled",
        message: `${capital(stopOrderText(stop))} (${when}): ${stop.reason || "cancelled by the exchange"}.`,
      };
    default:
      return null;
  }
}

/** The market halted or resumed (the operator's change, as `market.status` tells it). */
export function statusNotice(
  symbol: string,
  status: { halted: boolean; reason: string | null },
): Notice {
  return status.halted
    ? {
        tone: "error",
        title: `${pair(symbol)} halted: placing orders is paused`,
        message: `${status.reason ? `${status.reason}. ` : ""}Your open orders stay and can still be cancelled.`,
      }
    : {
        tone: "success",
        title: `${pair(symbol)} resumed: placing orders is back`,
        message: "New orders are accepted again.",
      };
}

const capital = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
