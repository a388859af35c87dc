// `npm run demo:trade`: against a running exchange (`npm start`), the two demo traders place
// crossing orders on BTC_USDT, and this prints what moves: the book deltas, the trade and the
// ticker from the public socket.io stream, then the trade and balances in PostgreSQL.
// Orders go through the placement service (the same module the web's tRPC and REST API call).
import { TradingService } from "@spotx/api";
import { createDatabase, DEMO_USERS, formatMinor, parseDecimal, schema } from "@spotx/db";
import { createEtcd } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createPostgresPool } from "@spotx/platform/postgres";
import { topology } from "@spotx/platform/topology";
import {
  type BookDelta,
  type BookSnapshot,
  SOCKET_EVENTS,
  type TickerMessage,
  type TradesMessage,
} from "@spotx/protocol";
import { desc, eq, inArray, sql } from "drizzle-orm";
import { io } from "socket.io-client";
import { stackEnv } from "../stack";

const MARKET = "BTC_USDT";
/** BTC_USDT's prices are in cents (the seed's tick). */
const TICK_DECIMALS = 2;

/**
 * A price strictly between the best bid and the best ask, so that the demo sell rests and the
 * demo buy meets it rather than the market maker's quotes; none when the spread is one tick.
 */
function insideSpread(book: BookSnapshot | undefined): bigint | undefined {
  const bid = book?.bids[0]?.[0];
  const ask = book?.asks[0]?.[0];
  if (bid === undefined || ask === undefined) return undefined;
  const low = parseDecimal(bid, TICK_DECIMALS);
  const high = parseDecimal(ask, TICK_DECIMALS);
  return high - low >= 2n ? (low + high) / 2n : undefined;
}

export async function demoTrade(webPort: number): Promise<void> {
  const env = stackEnv();
  const pool = createPostgresPool(env.DATABASE_URL, { max: 4, applicationName: "spotx-demo" });
  const db = createDatabase(pool);
  const etcd = createEtcd(env.ETCD_ENDPOINTS.split(","));
  const names = topology();
  const halts = new MarketConfigWatcher(etcd, logger("demo"), names);
  const socket = io(`http://localhost:${webPort}`, { transports: ["websocket"] });
  try {
    await halts.start();
    const emails = DEMO_USERS.filter((u) => u.role === "trader").map((u) => u.email);
    const traders = await db
      .select({ id: schema.users.id, email: schema.users.email })
      .from(schema.users)
      .where(inArray(schema.users.email, emails))
      .orderBy(schema.users.email);
    const [buyer, seller] = traders;
    if (!buyer || !seller) throw new Error("the demo traders are missing: run `npm start` first");

    const seen = { deltas: 0, trades: 0, tickers: 0, earlier: 0 };
    // Subscribing to trades first sends the recent tape; only trades after our orders count.
    let placed = false;
    let book: BookSnapshot | undefined;
    socket.on(SOCKET_EVENTS.bookSnapshot, (snapshot: BookSnapshot) => {
      book ??= snapshot;
    });
    const traded = new Promise<void>((resolve) => {
      socket.on(SOCKET_EVENTS.bookDelta, (delta: BookDelta) => {
        seen.deltas += 1;
        console.log(
          `  book.delta  seq ${delta.U}…${delta.u}  bids ${JSON.stringify(delta.bids)}  asks ${JSON.stringify(delta.asks)}`,
        );
      });
      socket.on(SOCKET_EVENTS.ticker, (ticker: TickerMessage) => {
        seen.tickers += 1;
        console.log(`  ticker      last ${ticker.last}  24h volume ${ticker.base_volume} BTC`);
      });
      socket.on(SOCKET_EVENTS.trades, (message: TradesMessage) => {
        if (!placed) {
          seen.earlier += message.trades.length;
          return;
        }
        for (const trade of message.trades) {
          seen.trades += 1;
          console.log(
            `  trade       #${trade.id} ${trade.side} ${trade.amount} BTC at ${trade.price}`,
          );
        }
        if (message.trades.length > 0) resolve();
      });
    });
    // The socket may have connected while the lines above ran: then there is no event to await.
    await new Promise<void>((resolve, reject) => {
      if (socket.connected) return resolve();
      socket.once("connect", resolve);
      socket.once("connect_error", (error) =>
        reject(new Error(`cannot reach the web server on port ${webPort}: ${error.message}`)),
      );
    });
    for (const channel of ["book", "trades", "ticker"] as const) {
      await socket.emitWithAck("subscribe", { channel, market: MARKET });
    }

    const last = await db
      .select({ price: schema.trades.priceTicks })
      .from(schema.trades)
      .where(eq(schema.trades.market, MARKET))
      .orderBy(desc(schema.trades.id))
      .limit(1);
    const price = formatMinor(insideSpread(book) ?? last[0]?.price ?? 3_000_000n, TICK_DECIMALS);
    const trading = new TradingService({ db, names, halts });
    console.log(`• BTC_USDT: ${seen.earlier} recent trades on the tape before ours`);
    console.log(
      `• ${seller.email} sells 0.01 BTC at ${price}; ${buyer.email} buys 0.01 BTC at ${price}`,
    );
    placed = true;
    const sell = await trading.placeOrder(seller.id, {
      market: MARKET,
      side: "sell",
      type: "limit",
      amount: "0.01",
      price,
    });
    const buy = await trading.placeOrder(buyer.id, {
      market: MARKET,
      side: "buy",
      type: "limit",
      amount: "0.01",
      price,
    });
    console.log(
      `  orders ${sell.order.id} and ${buy.order.id} placed; live from the socket stream:`,
    );
    await Promise.race([
      traded,
      new Promise((_, reject) =>
        setTimeout(
          () =>
            reject(new Error("no trade on the socket stream within 15 s: is the worker running?")),
          15_000,
        ),
      ),
    ]);
    // Settlement may finish a moment after the public stream shows the trade.
    for (let i = 0; i < 100; i++) {
      const rows = await db
        .select({ status: schema.orders.status })
        .from(schema.orders)
        .where(inArray(schema.orders.id, [sell.order.id, buy.order.id]));
      if (rows.every((r) => r.status === "closed")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log("• in PostgreSQL:");
    const trades = await db.execute<{
      id: bigint;
      price_ticks: bigint;
      qty_lots: bigint;
      buyer_fee: bigint;
      seller_fee: bigint;
    }>(sql`
      SELECT id, price_ticks, qty_lots, buyer_fee, seller_fee FROM trades
       WHERE market = ${MARKET} AND (maker_order_id = ${sell.order.id} OR taker_order_id = ${buy.order.id})`);
    for (const t of trades.rows) {
      console.log(
        `  trade #${t.id}: ${formatMinor(t.qty_lots, 4)} BTC at ${formatMinor(t.price_ticks, 2)}, buyer fee ${formatMinor(t.buyer_fee, 8)} BTC, seller fee ${formatMinor(t.seller_fee, 6)} USDT`,
      );
    }
    const balances = await db
      .select()
      .from(schema.balances)
      .where(inArray(schema.balances.userId, [buyer.id, seller.id]));
    for (const b of balances.filter((b) => b.asset !== "ETH")) {
      const email = b.userId === buyer.id ? buyer.email : seller.email;
      const decimals = b.asset === "USDT" ? 6 : 8;
      console.log(
        `  ${email.padEnd(20)} ${b.asset.padEnd(4)} available ${formatMinor(b.available, decimals)}  locked ${formatMinor(b.locked, decimals)}`,
      );
    }
    console.log(
      `• seen on the socket: ${seen.deltas} book deltas, ${seen.trades} trades, ${seen.tickers} tickers`,
    );
  } finally {
    socket.close();
    await halts.stop();
    etcd.close();
    await pool.end();
  }
}
