// Rejection reasons as the engine reports them, and the gate.io error label each one becomes
// at the API (only labels from the gate.io subset spotx speaks).
import type { CancelReason, RejectReason } from "./types";

export const REJECT_REASONS: readonly RejectReason[] = [
  "INVALID_PARAM",
  "MARKET_HALTED",
  "MARKET_CLOSED",
  "DUPLICATE_ORDER_ID",
  "TICK_SIZE",
  "PRICE_TOO_HIGH",
  "LOT_SIZE",
  "AMOUNT_TOO_LARGE",
  "AMOUNT_TOO_LITTLE",
  "PRICE_BAND",
  "TOO_MANY_OPEN_ORDERS",
  "BOOK_FULL",
  "POC_FILL_IMMEDIATELY",
  "ORDER_NOT_FOUND",
];

export type GateLabel =
  | "INVALID_PARAM_VALUE"
  | "INVALID_PRECISION"
  | "AMOUNT_TOO_LITTLE"
  | "POC_FILL_IMMEDIATELY"
  | "ORDER_NOT_FOUND"
  | "SERVER_ERROR";

export const GATE_LABELS: Readonly<Record<RejectReason, GateLabel>> = {
  INVALID_PARAM: "INVALID_PARAM_VALUE",
  MARKET_HALTED: "INVALID_PARAM_VALUE",
  MARKET_CLOSED: "INVALID_PARAM_VALUE",
  DUPLICATE_ORDER_ID: "INVALID_PARAM_VALUE",
  TICK_SIZE: "INVALID_PRECISION",
  PRICE_TOO_HIGH: "INVALID_PARAM_VALUE",
  LOT_SIZE: "INVALID_PRECISION",
  AMOUNT_TOO_LARGE: "INVALID_PARAM_VALUE",
  AMOUNT_TOO_LITTLE: "AMOUNT_TOO_LITTLE",
  PRICE_BAND: "INVALID_PARAM_VALUE",
  TOO_MANY_OPEN_ORDERS: "INVALID_PARAM_VALUE",
  // Capacity is the operator's to raise (MarketConfig.maxOrders); a client cannot fix it.
  BOOK_FULL: "SERVER_ERROR",
  POC_FILL_IMMEDIATELY: "POC_FILL_IMMEDIATELY",
  ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
};

export const REJECT_MESSAGES: Readonly<Record<RejectReason, string>> = {
  INVALID_PARAM: "malformed command: a field is missing, of the wrong kind or out of range",
  MARKET_HALTED: "the market is halted: only cancels and quantity decreases are accepted",
  MARKET_CLOSED: "the market is delisted: it accepts no order again",
  DUPLICATE_ORDER_ID: "an open order with this id already exists in the market",
  TICK_SIZE:
    "price is not a positive whole number of ticks, or not a multiple of the market's tick",
  PRICE_TOO_HIGH: "price is above the market's maximum price",
  LOT_SIZE:
    "amount is not a positive whole number of lots (or quote minor units), or not a multiple of the market's lot",
  AMOUNT_TOO_LARGE: "amount is above the market's maximum order size",
  AMOUNT_TOO_LITTLE: "amount or order value is below the market's minimum",
  PRICE_BAND: "price is too far from the last trade price",
  TOO_MANY_OPEN_ORDERS: "the user already has the maximum number of open orders in this market",
  BOOK_FULL: "the market holds the maximum number of orders it is configured for",
  POC_FILL_IMMEDIATELY: "post-only order would take liquidity",
  ORDER_NOT_FOUND: "no open order with this id for this user",
};

/** gate.io `finish_as` for each cancel reason. */
export const FINISH_AS: Readonly<Record<CancelReason, string>> = {
  user: "cancelled",
  ioc: "ioc",
  fok: "fok",
  stp: "stp",
  poc: "poc",
  // spotx's own: gate.io shows a delisted order as "cancelled" (the gate.io API maps it).
  delisted: "delisted",
  // spotx's own too: a rules change cancelled it (the gate.io API shows "cancelled").
  market_rules: "market_rules",
};
