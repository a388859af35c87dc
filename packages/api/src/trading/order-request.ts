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

export const amendOrderRequest = z
  .object({
    market: z.string().min(1).max(40),
    /** The order id, or its client `text`. */
    orderId: z.string().min(1).max(40),
    /** A new limit price. */
    price: decimalString.optional(),
    /** A new WHOLE amount (gate.io's meaning: at or below what filled cancels the order). */
    amount: decimalString.optional(),
    /** gate.io's `amend_text`: the client's note on this amend, kept on the order. */
    amendText: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,31}$/, 'must be 1 to 31 letters, digits, "_", "." or "-"')
      .optional(),
  })
  .refine((r) => r.price !== undefined || r.amount !== undefined, {
    message: "an amend changes the price, the amount or both",
    path: ["amount"],
  });
export type AmendOrderRequest = z.input<typeof amendOrderRequest>;

/** gate.io's price-triggered order, in its own terms (`trigger` and `put`). */
export const priceOrderRequest = z.object({
  market: z.string().min(1).max(40),
  trigger: z.object({
    price: decimalString,
    /** Fires when the last trade price is at or above (">=") or at or below ("<=") it. */
    rule: z.enum([">=", "<="]),
    /** Seconds it waits before expiring; absent or 0: never. */
    expiration: z
      .number()
      .int()
      .min(0)
      .max(365 * 86_400)
      .optional(),
  }),
  put: z.object({
    type: z.enum(["limit", "market"]).default("limit"),
    side: z.enum(["buy", "sell"]),
    price: decimalString.optional(),
    amount: decimalString,
    timeInForce: z.enum(["gtc", "ioc"]).optional(),
    /** gate.io's put.text: where the order came from (e.g. "api"), not a client id. */
    text: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,31}$/)
      .optional(),
  }),
});
export type PriceOrderRequest = z.input<typeof priceOrderRequest>;
