// The source of the signed `spot.priceorders` WebSocket channel: one Redis subscription per
// process to the announcements of price-order changes (topology().redis.priceOrdersChannel, made
// by the REST handlers and the worker). For the users someone follows, the changed rows are
// re-read — one query per announcement, whoever follows — and each is pushed as the object the
// REST routes answer. Announcements are handled one at a time, in the order they came, so a
// follower never sees an older state after a newer one.
import { schema } from "@spotx/db";
import type { PriceOrder } from "@spotx/db/price-orders";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import { decodePriceOrderChanges } from "@spotx/protocol";
import { inArray } from "drizzle-orm";
import type { GateServices } from "./call";
import { type PriceOrderObject, priceOrderObject } from "./price-orders";

export type PriceOrderFollower = (order: PriceOrderObject) => void;

export class PriceOrderFeed {
  private subscriber: Redis | undefined;
  /** User id (decimal) → who follows their price orders. */
  private readonly followers = new Map<string, Set<PriceOrderFollower>>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: { services: GateServices; log: Logger }) {}

  /** Subscribes (again, after a failed attempt: the previous connection is dropped). */
  async start(): Promise<void> {
    this.subscriber?.disconnect();
    const subscriber = this.options.services.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on("error", (error: unknown) =>
      this.options.log.debug({ err: error }, "price-order feed connection error"),
    );
    subscriber.on("message", (_channel: string, text: string) => this.receive(text));
    await subscriber.subscribe(this.options.services.names.redis.priceOrdersChannel);
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.followers.clear();
    await this.queue;
  }

  /** Calls `follower` with each of the user's price orders as it changes; returns the way to stop. */
  follow(userId: bigint, follower: PriceOrderFollower): () => void {
    const key = String(userId);
    let set = this.followers.get(key);
    if (!set) {
      set = new Set();
      this.followers.set(key, set);
    }
    set.add(follower);
    return () => {
      const current = this.followers.get(key);
      current?.delete(follower);
      if (current?.size === 0) this.followers.delete(key);
    };
  }

  private receive(text: string) {
    const message = decodePriceOrderChanges(text);
    if (!message) return;
    // Only the changes of users someone here follows; the row must still be theirs.
    const wanted = new Map<string, string>();
    for (const [userId, id] of message.changed) {
      if (this.followers.has(userId)) wanted.set(id, userId);
    }
    if (wanted.size === 0) return;
    this.queue = this.queue
      .then(() => this.deliver(wanted))
      .catch((error: unknown) =>
        this.options.log.error({ err: error }, "could not push price-order changes"),
      );
  }

  private async deliver(wanted: ReadonlyMap<string, string>) {
    const { services } = this.options;
    const { priceOrders } = schema;
    const rows: PriceOrder[] = await services.db
      .select()
      .from(priceOrders)
      .where(
        inArray(
          priceOrders.id,
          [...wanted.keys()].map((id) => BigInt(id)),
        ),
      )
      .orderBy(priceOrders.id);
    const markets = await services.markets.markets();
    for (const row of rows) {
      const userId = String(row.userId);
      if (wanted.get(String(row.id)) !== userId) continue;
      const m = markets.get(row.market);
      if (!m) continue;
      const object = priceOrderObject(row, m);
      for (const follower of this.followers.get(userId) ?? []) follower(object);
    }
  }
}
