// Every endpoint of the gate.io API v4 subset spotx serves (../shared/GATE_API.md): method, path
// under /api/v4, who may call it (public, any valid key, or a key with `trade` permission of an
// active user) and which rate-limit class it spends.
import type { RateLimitClass } from "../guards/rate-limits";
import { listAccountBook } from "./account-book";
import { listAccounts } from "./accounts";
import { amendOrder } from "./amend-order";
import { amendBatchOrders, cancelBatchOrders, placeBatchOrders } from "./batch-orders";
import type { GateAnswer, GateCall } from "./call";
import { cancelAllOrders, cancelOrder } from "./cancel-orders";
import { listCandlesticks } from "./candlesticks";
import { countdownCancelAll } from "./countdown";
import { batchFee, spotFee, walletFee } from "./fees";
import {
  getCurrency,
  getCurrencyPair,
  listCurrencies,
  listCurrencyPairs,
  listMarginPairs,
  serverTime,
} from "./markets";
import { listMyTrades } from "./my-trades";
import { getOrder, listOpenOrders, listOrders } from "./order-queries";
import { placeOrder } from "./place-order";
import {
  cancelAllPriceOrders,
  cancelPriceOrder,
  createPriceOrder,
  getPriceOrder,
  listPriceOrders,
} from "./price-orders";
import { listTrades } from "./public-trades";
import { listTickers, orderBook } from "./tickers";

export type RouteAccess = "public" | "read" | "trade";
export type RouteMethod = "GET" | "POST" | "DELETE" | "PATCH";

export type GateRoute = {
  method: RouteMethod;
  /** Under /api/v4; `{name}` segments are path parameters. */
  path: string;
  access: RouteAccess;
  rateClass: RateLimitClass;
  handle: (call: GateCall) => Promise<GateAnswer>;
};

const publicRead = (path: string, handle: GateRoute["handle"]): GateRoute => ({
  method: "GET",
  path,
  access: "public",
  rateClass: "reads",
  handle,
});
const signedRead = (path: string, handle: GateRoute["handle"]): GateRoute => ({
  method: "GET",
  path,
  access: "read",
  rateClass: "reads",
  handle,
});
const trade = (method: RouteMethod, path: string, handle: GateRoute["handle"]): GateRoute => ({
  method,
  path,
  access: "trade",
  rateClass: "orders",
  handle,
});

export const GATE_ROUTES: readonly GateRoute[] = [
  publicRead("/spot/time", serverTime),
  publicRead("/spot/currencies", listCurrencies),
  publicRead("/spot/currencies/{currency}", getCurrency),
  publicRead("/spot/currency_pairs", listCurrencyPairs),
  publicRead("/spot/currency_pairs/{currency_pair}", getCurrencyPair),
  publicRead("/margin/currency_pairs", listMarginPairs),
  publicRead("/spot/tickers", listTickers),
  publicRead("/spot/order_book", orderBook),
  publicRead("/spot/trades", listTrades),
  publicRead("/spot/candlesticks", listCandlesticks),
  signedRead("/spot/accounts", listAccounts),
  trade("POST", "/spot/orders", placeOrder),
  signedRead("/spot/orders", listOrders),
  trade("DELETE", "/spot/orders", cancelAllOrders),
  signedRead("/spot/orders/{order_id}", getOrder),
  trade("DELETE", "/spot/orders/{order_id}", cancelOrder),
  trade("PATCH", "/spot/orders/{order_id}", amendOrder),
  trade("POST", "/spot/batch_orders", placeBatchOrders),
  trade("POST", "/spot/cancel_batch_orders", cancelBatchOrders),
  trade("POST", "/spot/amend_batch_orders", amendBatchOrders),
  trade("POST", "/spot/countdown_cancel_all", countdownCancelAll),
  trade("POST", "/spot/price_orders", createPriceOrder),
  signedRead("/spot/price_orders", listPriceOrders),
  trade("DELETE", "/spot/price_orders", cancelAllPriceOrders),
  signedRead("/spot/price_orders/{order_id}", getPriceOrder),
  trade("DELETE", "/spot/price_orders/{order_id}", cancelPriceOrder),
  signedRead("/spot/open_orders", listOpenOrders),
  signedRead("/spot/my_trades", listMyTrades),
  signedRead("/spot/account_book", listAccountBook),
  signedRead("/spot/fee", spotFee),
  signedRead("/spot/batch_fee", batchFee),
  signedRead("/wallet/fee", walletFee),
];

export type RouteMatch =
  | { found: true; route: GateRoute; params: Record<string, string> }
  /** `pathExists`: some route has the path, with another method. */
  | { found: false; pathExists: boolean };

type Compiled = { route: GateRoute; segments: string[] };

/** Matches a method and a path (under /api/v4, still percent-encoded) to a route. */
export class GateRouter {
  private readonly exact = new Map<string, GateRoute>();
  private readonly withParams: Compiled[] = [];

  constructor(routes: readonly GateRoute[] = GATE_ROUTES) {
    for (const route of routes) {
      if (route.path.includes("{")) {
        this.withParams.push({ route, segments: route.path.split("/") });
      } else {
        this.exact.set(`${route.method} ${route.path}`, route);
      }
    }
  }

  match(method: string, path: string): RouteMatch {
    const exact = this.exact.get(`${method} ${path}`);
    if (exact) return { found: true, route: exact, params: {} };
    const segments = path.split("/");
    let pathExists = [...this.exact.keys()].some((key) => key.endsWith(` ${path}`));
    for (const { route, segments: pattern } of this.withParams) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { found: true, route, params };
      pathExists = true;
    }
    return { found: false, pathExists };
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const given = segments[i] ?? "";
    if (part.startsWith("{") && part.endsWith("}")) {
      if (given.length === 0) return null;
      let decoded: string;
      try {
        decoded = decodeURIComponent(given);
      } catch {
        return null;
      }
      params[part.slice(1, -1)] = decoded;
    } else if (part !== given) {
      return null;
    }
  }
  return params;
}
