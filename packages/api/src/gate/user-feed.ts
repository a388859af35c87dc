// The signed WebSocket channels' source: a user's private room (orders, fills, balances as
// settlement pushes them), turned into gate.io's payloads once per user however many
// connections subscribe. Orders are re-read from PostgreSQL by id so spot.orders carries the
// whole Order object (as REST does); a balance's `change` is its total's difference from the
// last one seen (loaded when the feed starts, ordered by the balance's update_id).
import { schema } from "@spotx/db";
import { decimalToUnits, unitsToDecimal } from "@spotx/engine";
import type { Logger } from "@spotx/platform/logger";
import type { Topology } from "@spotx/platform/topology";
import type { BalanceUpdate, OrderUpdate, UserTrade } from "@spotx/protocol";
import { and, eq, inArray } from "drizzle-orm";
import type { GateServices } from "./call";
import { type OrderObject, orderObject } from "./order-object";
import type { SocketRoomFeed } from "./socket-room-feed";

export type UserOrderObject = OrderObject & { event: "put" | "update" | "finish"; user: number };

export type UserTradeObject = {
  id: number;
  user_id: number;
  order_id: string;
  currency_pair: string;
  create_time: number;
  create_time_ms: string;
  side: "buy" | "sell";
  amount: string;
  role: "maker" | "taker";
  price: string;
  fee: string;
  fee_currency: string;
  point_fee: string;
  gt_fee: string;
  text: string;
};

export type UserBalanceObject = {
  timestamp: string;
  timestamp_ms: string;
  user: string;
  currency: string;
  change: string;
  total: string;
  available: string;
  freeze: string;
  freeze_change: string;
  change_type: string;
};

export type UserFollower = {
  orders?(orders: UserOrderObject[]): void;
  trades?(trades: UserTradeObject[]): void;
  balances?(balances: UserBalanceObject[]): void;
};

type Known = { total: bigint; locked: bigint; updateId: bigint };

type Followed = {
  userId: bigint;
  followers: Set<UserFollower>;
  unlisten: () => void;
  /** Per currency: the balance last seen. */
  balances: Map<string, Known> | null;
  /** Messages are turned into payloads one at a time, in the order they came. */
  queue: Promise<void>;
};

export class UserFeed {
  private readonly users = new Map<bigint, Followed>();

  constructor(
    private readonly options: {
      feed: SocketRoomFeed;
      services: GateServices;
      names: Topology;
      log: Logger;
    },
  ) {}

  follow(userId: bigint, follower: UserFollower): () => void {
    let followed = this.users.get(userId);
    if (!followed) {
      const created: Followed = {
        userId,
        followers: new Set(),
        unlisten: () => undefined,
        balances: null,
        queue: Promise.resolve(),
      };
      created.queue = this.loadBalances(created);
      created.unlisten = this.options.feed.listen(
        this.options.names.rooms.user(userId),
        (event, payload) => {
          created.queue = created.queue
            .then(() => this.deliver(created, event, payload))
            .catch((error: unknown) =>
              this.options.log.error({ err: error, event }, "could not push a user update"),
            );
        },
      );
      this.users.set(userId, created);
      followed = created;
    }
    followed.followers.add(follower);
    const current = followed;
    return () => {
      current.followers.delete(follower);
      if (current.followers.size === 0) {
        current.unlisten();
        this.users.delete(userId);
      }
    };
  }

  private async loadBalances(followed: Followed) {
    const rows = await this.options.services.db
      .select()
      .from(schema.balances)
      .where(eq(schema.balances.userId, followed.userId));
    followed.balances = new Map(
      rows.map((r) => [
        r.asset,
        { total: r.available + r.locked, locked: r.locked, updateId: r.updateId },
      ]),
    );
  }

  private async deliver(followed: Followed, event: string, payload: unknown) {
    if (followed.followers.size === 0 || !Array.isArray(payload)) return;
    if (event === "user.orders") {
      const orders = await this.orders(followed.userId, payload as OrderUpdate[]);
      if (orders.length > 0) for (const f of followed.followers) f.orders?.(orders);
    } else if (event === "user.trades") {
      const trades = await this.trades(followed.userId, payload as UserTrade[]);
      for (const f of followed.followers) f.trades?.(trades);
    } else if (event === "user.balances") {
      const balances = await this.balances(followed, payload as BalanceUpdate[]);
      if (balances.length > 0) for (const f of followed.followers) f.balances?.(balances);
    }
  }

  private async orders(userId: bigint, updates: OrderUpdate[]): Promise<UserOrderObject[]> {
    const ids = updates.map((u) => BigInt(u.id));
    if (ids.length === 0) return [];
    const { orders } = schema;
    const rows = await this.options.services.db
      .select()
      .from(orders)
      .where(and(eq(orders.userId, userId), inArray(orders.id, ids)))
      .orderBy(orders.id);
    const markets = await this.options.services.markets.markets();
    return rows.flatMap((row) => {
      const m = markets.get(row.market);
      if (!m) return [];
      const object = orderObject(row, m);
      const event =
        object.status !== "open" ? "finish" : row.filledBaseLots > 0n ? "update" : "put";
      return [{ ...object, event, user: Number(userId) }];
    });
  }

  private async trades(userId: bigint, fills: UserTrade[]): Promise<UserTradeObject[]> {
    const ids = [...new Set(fills.map((f) => BigInt(f.order_id)))];
    const { orders } = schema;
    const texts =
      ids.length === 0
        ? []
        : await this.options.services.db
            .select({ id: orders.id, text: orders.text })
            .from(orders)
            .where(inArray(orders.id, ids));
    const textOf = new Map(texts.map((t) => [String(t.id), t.text ?? ""]));
    return fills.map((fill) => ({
      id: fill.id,
      user_id: Number(userId),
      order_id: fill.order_id,
      currency_pair: fill.currency_pair,
      create_time: fill.create_time,
      create_time_ms: fill.create_time_ms,
      side: fill.side,
      amount: fill.amount,
      role: fill.role,
      price: fill.price,
      fee: fill.fee,
      fee_currency: fill.fee_currency,
      point_fee: "0",
      gt_fee: "0",
      text: textOf.get(fill.order_id) ?? "",
    }));
  }

  private async balances(
    followed: Followed,
    updates: BalanceUpdate[],
  ): Promise<UserBalanceObject[]> {
    const assets = await this.options.services.markets.assets();
    const known = followed.balances ?? new Map<string, Known>();
    const now = Date.now();
    const out: UserBalanceObject[] = [];
    for (const update of updates) {
      const decimals = assets.get(update.currency)?.decimals;
      if (decimals === undefined) continue;
      const available = decimalToUnits(update.available, decimals);
      const locked = decimalToUnits(update.locked, decimals);
      if (!available.ok || !locked.ok) continue;
      const total = available.value + locked.value;
      const updateId = BigInt(update.update_id);
      const before = known.get(update.currency) ?? { total: 0n, locked: 0n, updateId: -1n };
      // Already reflected in what was loaded: nothing changed since.
      if (updateId <= before.updateId) continue;
      known.set(update.currency, { total, locked: locked.value, updateId });
      out.push({
        timestamp: String(Math.floor(now / 1000)),
        timestamp_ms: String(now),
        user: String(followed.userId),
        currency: update.currency,
        change: unitsToDecimal(total - before.total, decimals),
        total: unitsToDecimal(total, decimals),
        available: update.available,
        freeze: update.locked,
        freeze_change: unitsToDecimal(locked.value - before.locked, decimals),
        change_type: "order",
      });
    }
    followed.balances = known;
    return out;
  }
}
