// The announcement both front doors make after they create or cancel price-triggered orders
// (gate.io's `/spot/price_orders` and tRPC's stop orders): the changed ids on Redis
// (`priceOrdersChannel`), from which the gate.io WebSocket's `spot.priceorders` feed re-reads the
// rows and pushes them (price-order-feed.ts). The worker announces its own changes (fired,
// finished, failed, expired) the same way.
import type { PriceOrder } from "@spotx/db/price-orders";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { encodePriceOrderChanges } from "@spotx/protocol";

export type PriceOrderAnnouncer = {
  redis: Redis;
  names: Topology;
  log: Pick<Logger, "warn">;
};

/**
 * Tells the feeds which price orders changed. Best effort: the change is already committed, and
 * a lost announcement is repaired by the client's next read — so a Redis failure is logged, not
 * thrown at a caller whose order was recorded.
 */
export async function announcePriceOrderChanges(
  to: PriceOrderAnnouncer,
  changed: readonly Pick<PriceOrder, "userId" | "id">[],
): Promise<void> {
  if (changed.length === 0) return;
  try {
    await to.redis.publish(
      to.names.redis.priceOrdersChannel,
      encodePriceOrderChanges(changed.map((p) => ({ userId: p.userId, id: p.id }))),
    );
  } catch (error) {
    to.log.warn({ err: error }, "could not announce price-order changes");
  }
}
