// User-private pushes: what a settled batch changed for each user — orders, balances, fills —
// sent to that user's socket.io room (rooms.user(id)) through the Redis emitter, as decimal
// strings at each asset's precision. Settlement calls it after every applied batch.
import {
  type Database,
  loadMarkets,
  type OrderChange,
  type SettledTrade,
  type SettlementChanges,
} from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import type { Logger } from "@spotx/platform/logger";
import type { SocketEmitter } from "@spotx/platform/socket-emitter";
import { type Topology, topology } from "@spotx/platform/topology";
import {
  averagePriceText,
  type BalanceUpdate,
  baseText,
  lotsText,
  type MarketPrecision,
  type OrderUpdate,
  priceText,
  quoteText,
  type ServerToClientEvents,
  type UserTrade,
} from "@spotx/protocol";
import { marketDataMetrics } from "./market-publisher";

/** gate.io has no `pending` or `rejected` status: a live order is open, a refused one cancelled. */
function gateStatus(status: OrderChange["status"]): OrderUpdate["status"] {
  if (status === "pending" || status === "open") return "open";
  if (status === "closed") return "closed";
  return "cancelled";
}

function orderUpdate(order: OrderChange, m: MarketPrecision): OrderUpdate {
  const fee = order.feeAsset === m.base ? baseText(order.fee, m) : quoteText(order.fee, m);
  return {
    id: String(order.id),
    currency_pair: order.market,
    side: order.side,
    type: order.type,
    status: gateStatus(order.status),
    finish_as: order.finishAs,
    filled_amount: lotsText(order.filledBaseLots, m),
    filled_total: quoteText(order.filledQuote, m),
    avg_deal_price: averagePriceText(order.filledQuote, order.filledBaseLots, m),
    fee,
    fee_currency: order.feeAsset,
  };
}

/** The buyer's and the seller's view of one trade: each pays its fee in what it receives. */
function userTrades(trade: SettledTrade, m: MarketPrecision): Array<[bigint, UserTrade]> {
  const common = {
    id: Number(trade.tradeId),
    create_time: Math.floor(trade.time.getTime() / 1000),
    create_time_ms: String(trade.time.getTime()),
    currency_pair: trade.market,
    amount: lotsText(trade.qtyLots, m),
    price: priceText(trade.priceTicks, m),
  };
  return [
    [
      trade.buyerUserId,
      {
        ...common,
        side: "buy",
        role: trade.takerSide === "buy" ? "taker" : "maker",
        order_id: String(trade.buyOrderId),
        fee: baseText(trade.buyerFee, m),
        fee_currency: m.base,
      },
    ],
    [
      trade.sellerUserId,
      {
        ...common,
        side: "sell",
        role: trade.takerSide === "sell" ? "taker" : "maker",
        order_id: String(trade.sellOrderId),
        fee: quoteText(trade.sellerFee, m),
        fee_currency: m.quote,
      },
    ],
  ];
}

function group<T>(into: Map<bigint, T[]>, userId: bigint, item: T) {
  const list = into.get(userId);
  if (list) list.push(item);
  else into.set(userId, [item]);
}

/**
 * Sends each user what the batch changed for them: `user.orders`, `user.balances` and
 * `user.trades`, one message of each kind per user (in the batch's order). `markets` must
 * know every market of the changes (a batch is one market's). Returns the messages sent.
 */
export function publishSettlementChanges(
  emitter: SocketEmitter<ServerToClientEvents>,
  changes: SettlementChanges,
  markets: ReadonlyMap<string, MarketPrecision>,
  names: Pick<Topology, "rooms"> = topology(),
): number {
  const market = (symbol: string) => {
    const found = markets.get(symbol);
    if (!found) throw new Error(`no precision known for market ${symbol}`);
    return found;
  };
  const assetDecimals = new Map<string, number>();
  for (const m of markets.values()) {
    assetDecimals.set(m.base, m.baseDecimals);
    assetDecimals.set(m.quote, m.quoteDecimals);
  }

  const orders = new Map<bigint, OrderUpdate[]>();
  for (const order of changes.orders) {
    group(orders, order.userId, orderUpdate(order, market(order.market)));
  }
  const balances = new Map<bigint, BalanceUpdate[]>();
  for (const balance of changes.balances) {
    const decimals = assetDecimals.get(balance.asset);
    if (decimals === undefined) throw new Error(`no decimals known for asset ${balance.asset}`);
    group(balances, balance.userId, {
      currency: balance.asset,
      available: unitsToDecimal(balance.available, decimals),
      locked: unitsToDecimal(balance.locked, decimals),
      update_id: Number(balance.updateId),
    });
  }
  const fills = new Map<bigint, UserTrade[]>();
  for (const trade of changes.trades) {
    for (const [userId, fill] of userTrades(trade, market(trade.market))) {
      group(fills, userId, fill);
    }
  }

  let sent = 0;
  const users = new Set([...orders.keys(), ...balances.keys(), ...fills.keys()]);
  for (const userId of users) {
    const room = names.rooms.user(userId);
    const userOrders = orders.get(userId);
    const userBalances = balances.get(userId);
    const userFills = fills.get(userId);
    if (userOrders) emitter.to(room).emit("user.orders", userOrders);
    if (userBalances) emitter.to(room).emit("user.balances", userBalances);
    if (userFills) emitter.to(room).emit("user.trades", userFills);
    sent += (userOrders ? 1 : 0) + (userBalances ? 1 : 0) + (userFills ? 1 : 0);
  }
  marketDataMetrics.fanout.inc({ event: "user" }, sent);
  return sent;
}

/**
 * Settlement's `onApplied` hook: loads (once) the precision of the markets it sees and
 * publishes each applied batch's changes. A failure is logged, never thrown: settlement has
 * committed, and a lost push is repaired by the client's next read.
 */
export function userUpdatePublisher(options: {
  db: Database;
  emitter: SocketEmitter<ServerToClientEvents>;
  names: Pick<Topology, "rooms">;
  log: Logger;
}): (market: string, changes: SettlementChanges) => Promise<void> {
  const markets = new Map<string, MarketPrecision>();
  return async (symbol, changes) => {
    try {
      if (!markets.has(symbol)) {
        for (const [name, spec] of await loadMarkets(options.db, [symbol])) markets.set(name, spec);
      }
      publishSettlementChanges(options.emitter, changes, markets, options.names);
    } catch (error) {
      options.log.error({ err: error, market: symbol }, "could not push settled changes to users");
    }
  };
}
