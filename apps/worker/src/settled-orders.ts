// Settlement's announcement of the orders each applied batch changed, on Redis pub/sub
// (topology().redis.settledChannel): the gate.io API's DELETE waits on it for the engine's
// cancel to be settled. Best effort, like the users' pushes: settlement has committed, and a
// lost announcement only makes a waiting DELETE answer with the order as it stood.
import type { SettlementChanges } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { encodeSettledOrders } from "@spotx/protocol";

export function settledOrdersPublisher(options: {
  redis: Redis;
  names: Pick<Topology, "redis">;
  log: Logger;
}): (market: string, changes: SettlementChanges) => Promise<void> {
  return async (market, changes) => {
    if (changes.orders.length === 0) return;
    const message = encodeSettledOrders(
      market,
      changes.orders.map((order) => order.id),
    );
    try {
      await options.redis.publish(options.names.redis.settledChannel, message);
    } catch (error) {
      options.log.warn({ err: error, market }, "could not announce settled orders");
    }
  };
}
