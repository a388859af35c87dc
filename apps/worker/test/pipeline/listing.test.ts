// Listing and delisting at runtime (issue 19), with a real worker that was already running: an
// asset and a market created after the worker took its partitions over trade at once — crossing
// orders placed through the placement service fill in the worker's engine and settle exactly —
// and its delisting cancels the resting order (finish_as delisted, hold released to the minor
// unit), closes the market, keeps its trades and candles, and leaves reconciliation clean.
import {
  createAsset,
  createMarket,
  delistMarket,
  isLedgerError,
  runReconciliation,
} from "@spotx/db";
import { delistCommand } from "@spotx/protocol";
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

describe("a market listed while the worker runs", () => {
  it("trades, settles, and delists with every hold released", { timeout: 90_000 }, async () => {
    const { trading, db } = exchange;
    // The worker is live on BTC_USDT before the new market exists.
    const warm = await exchange.createUser();
    await exchange.fund(warm, "USDT", 10_000_000n);
    const first = await trading.placeOrder(warm, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.0001",
      price: "20000",
    });
    await waitFor(async () => (await orderRow(db, first.order.id))?.status === "open", {
      what: "the worker to take BTC_USDT",
    });

    // List SOL (9 decimals) and SOL_USDT: tick 0.01 USDT, lot 0.001 SOL.
    await createAsset(db, { symbol: "SOL", name: "Solana", decimals: 9 });
    await createMarket(db, {
      symbol: "SOL_USDT",
      base: "SOL",
      quote: "USDT",
      pricePrecision: 2,
      amountPrecision: 3,
      minBaseLots: 10n, // 0.01 SOL
      minQuoteAmount: 1_000_000n, // 1 USDT
      makerFeePpm: 1_000,
      takerFeePpm: 2_000,
    });
    const buyer = await exchange.createUser();
    const seller = await exchange.createUser();
    await exchange.fund(buyer, "USDT", 1_000_000_000n); // 1,000 USDT
    await exchange.fund(seller, "SOL", 10_000_000_000n); // 10 SOL

    const market = await sockets.connect();
    expect(
      await market.socket.emitWithAck("subscribe", { channel: "trades", market: "SOL_USDT" }),
    ).toEqual({ ok: true });

    // The placement service's market cache (2 s) learns the new market without a restart.
    const sell = await waitFor(
      () =>
        trading.placeOrder(seller, {
          market: "SOL_USDT",
          side: "sell",
          type: "limit",
          amount: "3",
          price: "150.25",
        }),
      { what: "the placement service to know SOL_USDT", timeoutMs: 5_000 },
    );
    const buy = await trading.placeOrder(buyer, {
      market: "SOL_USDT",
      side: "buy",
      type: "limit",
      amount: "2",
      price: "150.25",
    });
    await waitFor(async () => (await orderRow(db, buy.order.id))?.status === "closed", {
      what: "the new market's buy to fill",
    });
    await waitFor(async () => (await orderRow(db, sell.order.id))?.filled_base_lots === 2_000n, {
      what: "the new market's sell to fill in part",
    });
    // Buyer (taker 0.2 %): paid 300.5 USDT, received 2 SOL less 0.004 SOL.
    expect(await balance(db, buyer, "USDT")).toEqual({ available: 699_500_000n, locked: 0n });
    expect(await balance(db, buyer, "SOL")).toEqual({ available: 1_996_000_000n, locked: 0n });
    // Seller (maker 0.1 %): 300.5 USDT less 0.3005; 1 SOL still held by the resting rest.
    expect(await balance(db, seller, "USDT")).toEqual({ available: 300_199_500n, locked: 0n });
    expect(await balance(db, seller, "SOL")).toEqual({
      available: 7_000_000_000n,
      locked: 1_000_000_000n,
    });
    await market.next("trades", (m) =>
      m.trades.some(
        (t) => t.currency_pair === "SOL_USDT" && t.amount === "2" && t.price === "150.25",
      ),
    );
    expect((await runReconciliation(db)).findings).toEqual([]);

    // Delist: the command goes through the outbox like any cancel.
    const delisting = await db.transaction((tx) =>
      delistMarket(tx, "SOL_USDT", {
        topic: exchange.names.kafka.orders.topic,
        payload: delistCommand("SOL_USDT", Date.now()),
      }),
    );
    expect(delisting).toEqual({ previous: "trading", liveOrders: 1, openPriceOrders: 0 });
    await waitFor(async () => (await orderRow(db, sell.order.id))?.status === "cancelled", {
      what: "the resting sell to be cancelled by the delisting",
    });
    expect(await orderRow(db, sell.order.id)).toMatchObject({
      finish_as: "delisted",
      filled_base_lots: 2_000n,
      hold_remaining: 0n,
    });
    expect(await balance(db, seller, "SOL")).toEqual({ available: 8_000_000_000n, locked: 0n });
    const status = await db.execute<{ status: string }>(
      sql`SELECT status FROM markets WHERE symbol = 'SOL_USDT'`,
    );
    expect(status.rows[0]?.status).toBe("closed");
    // History stays: the trade, its candles.
    const kept = await db.execute<{ trades: number; candles: number }>(sql`
      SELECT (SELECT count(*)::int FROM trades WHERE market = 'SOL_USDT') AS trades,
             (SELECT count(*)::int FROM candles WHERE market = 'SOL_USDT') AS candles`);
    expect(kept.rows[0]?.trades).toBe(1);
    expect(kept.rows[0]?.candles).toBeGreaterThan(0);
    const refused = await trading
      .placeOrder(buyer, {
        market: "SOL_USDT",
        side: "buy",
        type: "limit",
        amount: "1",
        price: "150",
      })
      .catch((e: unknown) => e);
    // The placement service's cache may still say trading: the ledger's own check refuses.
    expect(
      isLedgerError(refused, "MARKET_CLOSED") || isLedgerError(refused, "INVALID_CURRENCY_PAIR"),
    ).toBe(true);
    expect(await balance(db, buyer, "USDT")).toEqual({ available: 699_500_000n, locked: 0n });
    expect((await runReconciliation(db)).findings).toEqual([]);
  });
});
