// The trade page's live stop-limit list: `user.stops` pushed to a user's room when their
// price-triggered orders change. The changes are announced on Redis (priceOrdersChannel: the API
// when it creates or cancels one, the worker when one fires, fails or expires); every web
// instance hears each announcement and, for the users with a socket on this instance, re-reads
// the changed rows — one query per announcement — and tells its own clients (io.local), as the
// gate.io WebSocket's spot.priceorders feed does (packages/api/src/gate/price-order-feed.ts).
// Announcements are handled one at a time, in the order they came, so a page never sees an
// older state after a newer one. A lost announcement is repaired by the page's next read.
import { type Database, loadMarkets, type MarketSpec, schema } from "@spotx/db";
import type { PriceOrder } from "@spotx/db/price-orders";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import {
  decodePriceOrderChanges,
  lotsText,
  priceText,
  quoteText,
  type StopUpdate,
} from "@spotx/protocol";
import { inArray } from "drizzle-orm";
import type { SocketServer } from "./socket-server";

/** A price order as the page's stops list reads it (decimal strings at the market's precision). */
export function stopUpdateOf(p: PriceOrder, m: MarketSpec): StopUpdate {
  const marketBuy = p.type === "market" && p.side === "buy";
  return {
    id: String(p.id),
    currency_pair: p.market,
    side: p.side,
    type: p.type,
    trigger_price: priceText(p.triggerPriceTicks, m),
    rule: p.rule === "gte" ? ">=" : "<=",
    price: p.priceTicks === null ? "0" : priceText(p.priceTicks, m),
    amount: marketBuy ? quoteText(p.amount, m) : lotsText(p.amount, m),
    status: p.status === "triggered" ? "open" : p.status,
    reason: p.reason ?? "",
    fired_order_id: p.firedOrderId === null ? "" : String(p.firedOrderId),
    create_time_ms: p.createdAt.getTime(),
    finish_time_ms: p.finishedAt === null ? 0 : p.finishedAt.getTime(),
  };
}

export type UserStopsFeed = { close(): Promise<void> };

export async function startUserStopsFeed(options: {
  io: SocketServer;
  db: Database;
  redis: Redis;
  names: Topology;
  log: Logger;
}): Promise<UserStopsFeed> {
  const { io, db, names, log } = options;
  const subscriber = options.redis.duplicate();
  subscriber.on("error", (error: unknown) =>
    log.debug({ err: error }, "user stops feed connection error"),
  );
  let queue: Promise<void> = Promise.resolve();

  /** Whether a socket of this instance is in the user's room (the local adapter's rooms). */
  const connectedHere = (userId: string) =>
    (io.of("/").adapter.rooms.get(names.rooms.user(userId))?.size ?? 0) > 0;

  async function deliver(wanted: ReadonlyMap<string, string>) {
    const p = schema.priceOrders;
    const rows = await db
      .select()
      .from(p)
      .where(inArray(p.id, [...wanted.keys()].map(BigInt)))
      .orderBy(p.id);
    const markets = await loadMarkets(db, [...new Set(rows.map((row) => row.market))]);
    const byUser = new Map<string, StopUpdate[]>();
    for (const row of rows) {
      const userId = String(row.userId);
      // The row must still be the announced user's.
      if (wanted.get(String(row.id)) !== userId) continue;
      const m = markets.get(row.market);
      if (!m) continue;
      const list = byUser.get(userId) ?? [];
      list.push(stopUpdateOf(row, m));
      byUser.set(userId, list);
    }
    for (const [userId, stops] of byUser) {
      io.local.to(names.rooms.user(userId)).emit("user.stops", stops);
    }
  }

  subscriber.on("message", (_channel: string, text: string) => {
    const message = decodePriceOrderChanges(text);
    if (!message) return;
    const wanted = new Map<string, string>();
    for (const [userId, id] of message.changed) {
      if (connectedHere(userId)) wanted.set(id, userId);
    }
    if (wanted.size === 0) return;
    queue = queue
      .then(() => deliver(wanted))
      .catch((error: unknown) => log.error({ err: error }, "could not push stop-order changes"));
  });
  await subscriber.subscribe(names.redis.priceOrdersChannel);

  return {
    async close() {
      subscriber.disconnect();
      await queue;
    },
  };
}
