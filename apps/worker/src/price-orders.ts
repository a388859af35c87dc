// The worker's half of gate.io's price-triggered orders (packages/db/src/price-orders.ts has the
// life of one). The engine fires a trigger in the market's sequence; settlement marks its price
// order `triggered` in the batch that applies the `fired` event; then, right after that batch,
// `placeFired` places their orders (each once: the row is taken only while `triggered`). A sweep
// every `sweepMs` catches up what a crash between the two left `triggered`, and expires the
// price orders whose time ran out (queueing the engine's `disarm`). Every change is announced on
// Redis for the gate.io WebSocket API's `spot.priceorders` channel.
import type { Database, PlaceOrderInput } from "@spotx/db";
import { endPriceOrders, type PriceOrder, placeTriggered } from "@spotx/db/price-orders";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { disarmCommand, encodePriceOrderChanges, placeCommand } from "@spotx/protocol";
import { sql } from "drizzle-orm";

export type PriceOrderWorkOptions = {
  db: Database;
  redis: Redis;
  names: Topology;
  log: Logger;
  /** How often the catch-up and expiry sweep runs (ms). */
  sweepMs?: number;
};

export class PriceOrderWork {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly options: PriceOrderWorkOptions) {}

  /** The order a fired price order places: its `put`, through the normal placement. */
  private order(priceOrder: PriceOrder): PlaceOrderInput {
    return {
      userId: priceOrder.userId,
      market: priceOrder.market,
      side: priceOrder.side,
      type: priceOrder.type,
      timeInForce: priceOrder.type === "market" ? "ioc" : priceOrder.timeInForce,
      priceTicks: priceOrder.priceTicks,
      amount: priceOrder.amount,
      // gate.io's put.text is the order's source, not a client id: the order is labelled as an
      // API order, as gate.io labels orders that carry no client text.
      text: "apiv4",
      outbox: {
        topic: this.options.names.kafka.orders.topic,
        payload: (order) => placeCommand(order),
      },
    };
  }

  /** Places the orders of the price orders a settled batch triggered. */
  async placeFired(ids: readonly bigint[]): Promise<void> {
    if (ids.length === 0) return;
    await this.announce(ids.map((id) => ({ id, userId: null })));
    const done = await placeTriggered(this.options.db, {
      ids,
      order: (p) => this.order(p),
    });
    await this.wakeRelay(done);
    await this.announce(done);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((error: unknown) =>
          this.options.log.warn({ err: error }, "price-order sweep failed"),
        )
        .finally(() => {
          this.sweeping = undefined;
        });
    }, this.options.sweepMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Expires what ran out, then places what was left triggered. */
  async sweep(): Promise<void> {
    const { db, names } = this.options;
    const expired = await endPriceOrders(
      db,
      { status: "expired", expiredBy: new Date() },
      {
        topic: names.kafka.orders.topic,
        command: (order) =>
          disarmCommand({
            market: order.market,
            priceOrderId: order.id,
            userId: order.userId,
            time: Date.now(),
          }),
      },
    );
    await this.wakeRelay(expired);
    await this.announce(expired);
    const placed = await placeTriggered(db, { order: (p) => this.order(p) });
    await this.wakeRelay(placed);
    await this.announce(placed);
  }

  /**
   * Tells the outbox relay (wherever it runs) that commands were queued, so a fired order
   * reaches the engine now rather than at the relay's next poll, a second later.
   */
  private async wakeRelay(changed: readonly PriceOrder[]) {
    if (changed.length === 0) return;
    try {
      await this.options.db.execute(
        sql`SELECT pg_notify(${this.options.names.postgres.outboxChannel}, '')`,
      );
    } catch (error) {
      // The relay also polls: a lost wake-up delays the commands, never loses them.
      this.options.log.debug({ err: error }, "outbox wake-up failed");
    }
  }

  /** Publishes changes for `spot.priceorders`; a lost one is repaired by the client's next read. */
  private async announce(changed: readonly { id: bigint; userId: bigint | null }[]) {
    const known = changed.filter((c): c is { id: bigint; userId: bigint } => c.userId !== null);
    let all = known;
    if (known.length !== changed.length) {
      const ids = changed.map((c) => c.id);
      const rows = await this.options.db.query.priceOrders.findMany({
        columns: { id: true, userId: true },
        where: (p, { inArray }) => inArray(p.id, ids),
      });
      all = rows;
    }
    if (all.length === 0) return;
    try {
      await this.options.redis.publish(
        this.options.names.redis.priceOrdersChannel,
        encodePriceOrderChanges(all),
      );
    } catch (error) {
      this.options.log.warn({ err: error }, "could not announce price-order changes");
    }
  }
}
