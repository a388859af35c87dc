// The order pipeline end to end, with real processes: a crossing buy and sell placed through
// the placement service become one trade in the worker's engine, settled exactly once, with
// both users' balances, holds and fees exactly right — and a socket.io client sees the book
// move, the trade and the ticker, while each user's private room sees their own order and
// balance changes.
import { runReconciliation } from "@spotx/db";
import { signSocketToken } from "@spotx/platform/secrets";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { balance, type Exchange, orderRow, startExchange, waitFor } from "./exchange";
import { type SocketInstance, startSocketInstance } from "./sockets";

let exchange: Exchange;
let sockets: SocketInstance;
beforeAll(async () => {
  exchange = await startExchange();
  exchange.startWorker();
  sockets = await startSocketInstance(exchange);
});
afterAll(async () => {
  await sockets?.stop();
  await exchange?.stop();
});

describe("a crossing buy and sell", () => {
  it("trade once, settle both users exactly, and show on the socket streams", {
    timeout: 60_000,
  }, async () => {
    const { trading, db } = exchange;
    const buyer = await exchange.createUser();
    const seller = await exchange.createUser();
    await exchange.fund(buyer, "USDT", 1_000_000_000n); // 1,000 USDT
    await exchange.fund(seller, "BTC", 100_000_000n); // 1 BTC

    const market = await sockets.connect();
    for (const channel of ["book", "trades", "ticker"] as const) {
      // Until the worker has written the market's first book snapshot, a book subscription is
      // answered "subscribe again shortly" — as a client would, ask again until it is taken.
      await expect
        .poll(() => market.socket.emitWithAck("subscribe", { channel, market: "BTC_USDT" }), {
          timeout: 15_000,
        })
        .toEqual({ ok: true });
    }
    const buyerRoom = await sockets.connect(await signSocketToken(buyer, sockets.secretKey, 300));
    const sellerRoom = await sockets.connect(await signSocketToken(seller, sockets.secretKey, 300));

    const sell = await trading.placeOrder(seller, {
      market: "BTC_USDT",
      side: "sell",
      type: "limit",
      amount: "0.01",
      price: "30000",
    });
    // Answered at once, before the engine saw it; the hold is already taken.
    expect(sell.order.status).toBe("pending");
    expect(await balance(db, seller, "BTC")).toEqual({
      available: 99_000_000n,
      locked: 1_000_000n,
    });
    // The resting sell appears in the book.
    await market.next("book.delta", (d) => d.asks.some(([p, q]) => p === "30000" && q === "0.01"));

    const buy = await trading.placeOrder(buyer, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.01",
      price: "30000",
    });
    for (const order of [buy.order, sell.order]) {
      await waitFor(async () => (await orderRow(db, order.id))?.status === "closed", {
        what: `order ${order.id} to fill`,
      });
    }

    const trades = await db.execute<{ qty_lots: bigint; price_ticks: bigint; taker_side: string }>(
      sql`SELECT qty_lots, price_ticks, taker_side FROM trades WHERE market = 'BTC_USDT'`,
    );
    expect(trades.rows).toEqual([{ qty_lots: 100n, price_ticks: 3_000_000n, taker_side: "buy" }]);
    // Buyer (taker, 0.2 %): paid 300 USDT, received 0.01 BTC less 0.00002 BTC.
    expect(await balance(db, buyer, "USDT")).toEqual({ available: 700_000_000n, locked: 0n });
    expect(await balance(db, buyer, "BTC")).toEqual({ available: 998_000n, locked: 0n });
    // Seller (maker, 0.1 %): received 300 USDT less 0.3 USDT.
    expect(await balance(db, seller, "USDT")).toEqual({ available: 299_700_000n, locked: 0n });
    expect(await balance(db, seller, "BTC")).toEqual({ available: 99_000_000n, locked: 0n });
    expect(await orderRow(db, buy.order.id)).toMatchObject({
      finish_as: "filled",
      filled_base_lots: 100n,
      filled_quote: 300_000_000n,
      fee: 2_000n,
      hold_remaining: 0n,
    });
    expect((await runReconciliation(db)).findings).toEqual([]);

    // The public streams: the trade, the ticker, and the ask taken out of the book.
    const traded = await market.next("trades", (m) => m.trades.length > 0);
    expect(traded.trades[0]).toMatchObject({
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
    });
    await market.next("ticker", (t) => t.last === "30000" && t.base_volume === "0.01");
    await market.next("book.delta", (d) => d.asks.some(([p, q]) => p === "30000" && q === "0"));

    // The private rooms: each user sees their own order closed and their balances, exactly.
    await buyerRoom.next("user.orders", (orders) =>
      orders.some(
        (o) => o.id === String(buy.order.id) && o.status === "closed" && o.filled_amount === "0.01",
      ),
    );
    await buyerRoom.next("user.balances", (balances) =>
      balances.some((b) => b.currency === "BTC" && b.available === "0.00998" && b.locked === "0"),
    );
    await buyerRoom.next("user.trades", (fills) =>
      fills.some((f) => f.role === "taker" && f.fee === "0.00002" && f.fee_currency === "BTC"),
    );
    await sellerRoom.next("user.balances", (balances) =>
      balances.some((b) => b.currency === "USDT" && b.available === "299.7"),
    );
    await sellerRoom.next("user.orders", (orders) =>
      orders.some((o) => o.id === String(sell.order.id) && o.status === "closed"),
    );
  });
});
