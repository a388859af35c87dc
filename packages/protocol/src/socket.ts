// What travels over socket.io between the web servers and browsers or trading programs: the
// event names, their payloads (every price and amount a decimal string, converted once from
// ticks, lots and minor units here), and the client's side of the book stream — a pure
// reducer that keeps a local order book continuous from one snapshot and numbered deltas.
import { unitsToDecimal } from "@spotx/engine";
import { z } from "zod";
import type { BookDelta, BookSnapshot } from "./book-sync";

// The book stream's payloads and the client's reducer live in book-sync.ts (no zod, so a
// browser bundle takes only what it uses); they are part of this module's surface as before.
export * from "./book-sync";

import type {
  OperatorGuardsMessage,
  OperatorPipelineMessage,
  OperatorServicesMessage,
} from "./operator-feed";

// ---------------------------------------------------------------------------------------------
// Channels and event names

/** The public channels of a market: each is a socket.io room per market (and interval). */
export const MARKET_CHANNELS = ["book", "trades", "ticker", "candles", "status"] as const;
export type MarketChannel = (typeof MARKET_CHANNELS)[number];

/** Server → client events. */
export const SOCKET_EVENTS = {
  /** The whole book (top levels) at a sequence number: first thing after subscribing to `book`. */
  bookSnapshot: "book.snapshot",
  /** The levels that changed between two sequence numbers, absolute quantities ("0" deletes). */
  bookDelta: "book.delta",
  trades: "trades",
  ticker: "ticker",
  candle: "candle",
  /** A market halted or resumed (from the operator's live config or the engine itself). */
  marketStatus: "market.status",
  /** The connected user's own order changes, balances and fills (user room only). */
  userOrders: "user.orders",
  userBalances: "user.balances",
  userTrades: "user.trades",
  /** The connected user's stop-limit (price-triggered) orders as they change (user room only). */
  userStops: "user.stops",
} as const;

/** Client → server events; each is answered through the socket.io acknowledgement. */
export const SOCKET_REQUESTS = {
  subscribe: "subscribe",
  unsubscribe: "unsubscribe",
  /** Ask again for the book snapshot (after a gap); it arrives as a `book.snapshot` event. */
  bookResync: "book.resync",
} as const;

// ---------------------------------------------------------------------------------------------
// Payloads, server → client

/** A public trade (gate.io's spot.trades result); `id` is the engine sequence of the trade. */
export type TradeMessage = {
  id: number;
  create_time: number;
  create_time_ms: string;
  /** The taker's side. */
  side: "buy" | "sell";
  currency_pair: string;
  amount: string;
  price: string;
};

export type TradesMessage = { market: string; trades: TradeMessage[] };

/** gate.io's ticker object, plus the time it describes (ms). Unknown prices are "". */
export type TickerMessage = {
  currency_pair: string;
  last: string;
  lowest_ask: string;
  highest_bid: string;
  /** Percent change of the last price over 24 h, two decimals ("-2.03"). */
  change_percentage: string;
  base_volume: string;
  quote_volume: string;
  high_24h: string;
  low_24h: string;
  time: number;
};

/** gate.io's spot.candlesticks result: t = start (s), v = quote volume, a = base volume. */
export type CandleMessage = {
  market: string;
  interval: string;
  t: string;
  v: string;
  c: string;
  h: string;
  l: string;
  o: string;
  a: string;
  /** `${interval}_${market}`, as gate.io names the series. */
  n: string;
  /** True once the window has closed (a later trade opened the next one). */
  w: boolean;
};

export type MarketStatusMessage = {
  market: string;
  halted: boolean;
  reason: string | null;
  /** `config`: the operator's halt in etcd (placement refuses at once); `engine`: the book's own halt. */
  source: "config" | "engine";
  time: number;
  /** True once the market is delisted (closed for good; `halted` stays true). */
  closed?: boolean;
};

/** A user's order as settlement left it (status in gate.io's words). */
export type OrderUpdate = {
  id: string;
  currency_pair: string;
  side: "buy" | "sell";
  type: "limit" | "market";
  status: "open" | "closed" | "cancelled";
  finish_as: string;
  filled_amount: string;
  filled_total: string;
  /** filled_total / filled_amount; "0" before the first fill. */
  avg_deal_price: string;
  fee: string;
  fee_currency: string;
};

export type BalanceUpdate = {
  currency: string;
  available: string;
  locked: string;
  update_id: number;
};

/** One of the user's fills (gate.io's spot.usertrades). */
export type UserTrade = {
  id: number;
  create_time: number;
  create_time_ms: string;
  currency_pair: string;
  side: "buy" | "sell";
  role: "maker" | "taker";
  amount: string;
  price: string;
  order_id: string;
  fee: string;
  fee_currency: string;
};

/**
 * One of the user's stop-limit orders (gate.io's price-triggered order, flattened) as it stands
 * after a change: created, cancelled, expired, or fired — `finish` once its order is placed
 * (`fired_order_id`), `failed` when that placement was refused (`reason` says why).
 */
export type StopUpdate = {
  id: string;
  currency_pair: string;
  side: "buy" | "sell";
  type: "limit" | "market";
  /** The last trade price that fires it, and how: ">=" at or above, "<=" at or below. */
  trigger_price: string;
  rule: ">=" | "<=";
  /** The placed order's limit price; "0" for a market order. */
  price: string;
  /** In the base asset, except a market buy's (the quote to spend). */
  amount: string;
  /** gate.io's statuses: `open` while it waits (or while its fired order is being placed). */
  status: "open" | "cancelled" | "finish" | "failed" | "expired";
  /** Why it ended; "" while open. */
  reason: string;
  /** The order placed when it fired; "" before. */
  fired_order_id: string;
  create_time_ms: number;
  /** 0 while open. */
  finish_time_ms: number;
};

// ---------------------------------------------------------------------------------------------
// Requests, client → server

const marketSymbol = z.string().regex(/^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/, "a pair like BTC_USDT");

export const subscribeRequest = z.object({
  channel: z.enum(MARKET_CHANNELS),
  market: marketSymbol,
  /** Candles only: one of gate.io's intervals (10s, 1m, … 30d). */
  interval: z.string().max(4).optional(),
});
export type SubscribeRequest = z.infer<typeof subscribeRequest>;

export const bookResyncRequest = z.object({ market: marketSymbol });
export type BookResyncRequest = z.infer<typeof bookResyncRequest>;

/** A refusal carries gate.io-style labels: INVALID_PARAM_VALUE, INVALID_CURRENCY_PAIR, … */
export type SocketReply = { ok: true } | { ok: false; error: { label: string; message: string } };

/** socket.io's typed event maps (`new Server<ClientToServerEvents, ServerToClientEvents>`). */
export interface ServerToClientEvents {
  "book.snapshot": (snapshot: BookSnapshot) => void;
  "book.delta": (delta: BookDelta) => void;
  trades: (message: TradesMessage) => void;
  ticker: (ticker: TickerMessage) => void;
  candle: (candle: CandleMessage) => void;
  "market.status": (status: MarketStatusMessage) => void;
  "user.orders": (orders: OrderUpdate[]) => void;
  "user.balances": (balances: BalanceUpdate[]) => void;
  "user.trades": (trades: UserTrade[]) => void;
  "user.stops": (stops: StopUpdate[]) => void;
  /** The operator console's feed (operators room only; see operator-feed.ts). */
  "operator.services": (message: OperatorServicesMessage) => void;
  "operator.pipeline": (message: OperatorPipelineMessage) => void;
  "operator.guards": (message: OperatorGuardsMessage) => void;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, reply: (reply: SocketReply) => void) => void;
  unsubscribe: (request: SubscribeRequest, reply: (reply: SocketReply) => void) => void;
  "book.resync": (request: BookResyncRequest, reply: (reply: SocketReply) => void) => void;
  /** Joins the operators room (active operators' browser sessions only). */
  "operator.join": (request: Record<string, never>, reply: (reply: SocketReply) => void) => void;
  "operator.leave": (request: Record<string, never>, reply: (reply: SocketReply) => void) => void;
}

// ---------------------------------------------------------------------------------------------
// Units to decimal strings: the one place market data and user pushes format numbers.

/** What formatting a market's numbers needs. */
export type MarketPrecision = {
  symbol: string;
  base: string;
  quote: string;
  /** Price decimals (one tick = 10^-pricePrecision quote). */
  pricePrecision: number;
  /** Amount decimals (one lot = 10^-amountPrecision base). */
  amountPrecision: number;
  baseDecimals: number;
  quoteDecimals: number;
};

export const priceText = (ticks: bigint | number, m: MarketPrecision) =>
  unitsToDecimal(ticks, m.pricePrecision);
export const lotsText = (lots: bigint | number, m: MarketPrecision) =>
  unitsToDecimal(lots, m.amountPrecision);
export const baseText = (minor: bigint | number, m: MarketPrecision) =>
  unitsToDecimal(minor, m.baseDecimals);
export const quoteText = (minor: bigint | number, m: MarketPrecision) =>
  unitsToDecimal(minor, m.quoteDecimals);

/** `numerator / denominator` rounded half away from zero (bigint division truncates). */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  const twice = 2n * (remainder < 0n ? -remainder : remainder);
  if (twice < denominator) return quotient;
  return numerator < 0n ? quotient - 1n : quotient + 1n;
}

/**
 * The percent change from `open` to `last`, two decimals, by integer arithmetic:
 * open 3,000,000 ticks, last 3,060,000 → "2"; last 2,939,100 → "-2.03". "0" without an open.
 */
export function changePercentText(open: bigint, last: bigint): string {
  if (open <= 0n) return "0";
  return unitsToDecimal(divideRounded((last - open) * 10_000n, open), 2);
}

/** Extra decimals an average price keeps beyond the tick, so it is not rounded to the tick. */
const AVERAGE_EXTRA_DECIMALS = 4;

/**
 * The average fill price of `quoteMinor` spent on `lots`, as a decimal string with the price's
 * precision plus four decimals (rounded half up); "0" before any fill.
 */
export function averagePriceText(quoteMinor: bigint, lots: bigint, m: MarketPrecision): string {
  if (lots <= 0n) return "0";
  const decimals = m.pricePrecision + AVERAGE_EXTRA_DECIMALS;
  // price = (quote / 10^quoteDecimals) / (lots / 10^amountPrecision), scaled by 10^decimals.
  const numerator = quoteMinor * 10n ** BigInt(m.amountPrecision + decimals);
  const denominator = lots * 10n ** BigInt(m.quoteDecimals);
  return unitsToDecimal(divideRounded(numerator, denominator), decimals);
}
