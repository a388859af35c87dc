// What a trader sends to place or cancel an order, in gate.io's terms (decimal strings, its
// field values), validated with zod at both front doors (tRPC and the REST API).
import { z } from "zod";

const decimalString = z.string().min(1).max(64);

export const placeOrderRequest = z.object({
  /** gate.io `currency_pair`, e.g. BTC_USDT. */
  market: z.string().min(1).max(40),
  side: z.enum(["buy", "sell"]),
  type: z.enum(["limit", "market"]).default("limit"),
  /** Base amount; for a market buy, the quote amount to spend (gate.io's rule). */
  amount: decimalString,
  /** Limit price in quote per base; absent for market orders. */
  price: decimalString.optional(),
  /** gtc (limit default), ioc, poc (post-only), fok; market orders are ioc. */
  timeInForce: z.enum(["gtc", "ioc", "poc", "fok"]).optional(),
  /** Client order id: "t-" and at most 28 more characters. */
  text: z
    .string()
    .regex(
      /^t-[A-Za-z0-9_.-]{1,28}$/,
      'must be "t-" followed by 1 to 28 letters, digits, "_", "." or "-"',
    )
    .optional(),
  /** Self-trade prevention: cancel newest, cancel oldest, cancel both. */
  stpAct: z.enum(["cn", "co", "cb"]).optional(),
});
export type PlaceOrderRequest = z.input<typeof placeOrderRequest>;

export const cancelOrderRequest = z.object({
  market: z.string().min(1).max(40),
  /** The order id, or its client `text` (gate.io accepts either in the path). */
  orderId: z.string().min(1).max(40),
});
export type CancelOrderRequest = z.input<typeof cancelOrderRequest>;

export const cancelAllRequest = z.object({
  market: z.string().min(1).max(40),
  side: z.enum(["buy", "sell"]).optional(),
});
export type CancelAllRequest = z.input<typeof cancelAllRequest>;
