// Placement → settled, per order: from the placeOrder call until settlement announces, after
// committing the batch that applied the engine's answer to the order (accepted, or its trades
// and ending — one events message is settled whole), that the order changed. The announcement
// is settlement's own, on Redis pub/sub (`<ns>:settled`, what the gate.io API's DELETE waits
// on), so measuring costs the exchange nothing; it comes a Redis hop after the commit, so the
// figure is an upper bound by about a millisecond. Announcements are best effort: a slow poll of
// PostgreSQL (orders older than a second that left `pending`) catches any that was lost, counts
// it, and times it when the poll first saw it. Per-order polling would load the database being
// measured; `orders.updated_at` is the transaction's start, not its commit, and later fills
// overwrite it.
import type { Database } from "@spotx/db";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { decodeSettledOrders } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { nowMs, Samples } from "./stats";

/** How long an announcement is kept for an order whose placement answer has not come back yet. */
const EARLY_KEEP_MS = 60_000;

export class SettleWatch {
  private readonly outstanding = new Map<bigint, number>();
  /** Announced before the bench saw the placement's answer (the answer is a microtask late). */
  private readonly early = new Map<bigint, number>();
  /** Orders the poll found settled without an announcement yet: id → when it first saw that. */
  private readonly polledSettled = new Map<bigint, number>();
  readonly latencies = new Samples(100_000);
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private announcements = 0;
  private missedAnnouncements = 0;

  constructor(
    private readonly db: Database,
    private readonly redisUrl: string,
    private readonly channel: string,
    private readonly pollMs = 500,
  ) {}

  get pending(): number {
    return this.outstanding.size;
  }

  async start(): Promise<void> {
    const subscriber = createRedis(this.redisUrl);
    this.subscriber = subscriber;
    subscriber.on("message", (_channel: string, text: string) => this.onAnnouncement(text));
    await subscriber.subscribe(this.channel);
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.subscriber?.quit().catch(() => undefined);
  }

  track(orderId: bigint, placedMs: number): void {
    const announced = this.early.get(orderId);
    if (announced !== undefined) {
      this.early.delete(orderId);
      this.latencies.add(announced - placedMs);
      return;
    }
    this.outstanding.set(orderId, placedMs);
  }

  /** Waits until nothing is outstanding or the timeout passes; returns how many never settled. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = nowMs() + timeoutMs;
    while (this.outstanding.size > 0 && nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.outstanding.size;
  }

  stats(): { announcements: number; missed_announcements: number } {
    return { announcements: this.announcements, missed_announcements: this.missedAnnouncements };
  }

  private onAnnouncement(text: string) {
    const at = nowMs();
    const message = decodeSettledOrders(text);
    if (!message) return;
    this.announcements += 1;
    for (const id of message.orders) {
      const orderId = BigInt(id);
      const placed = this.outstanding.get(orderId);
      if (placed === undefined) {
        if (this.running && !this.early.has(orderId)) this.early.set(orderId, at);
        continue;
      }
      this.outstanding.delete(orderId);
      this.polledSettled.delete(orderId);
      this.latencies.add(at - placed);
    }
  }

  private schedule() {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.poll(), this.pollMs);
  }

  private async poll() {
    try {
      const now = nowMs();
      for (const [id, at] of this.early) if (now - at > EARLY_KEEP_MS) this.early.delete(id);
      const ids: bigint[] = [];
      for (const [id, placed] of this.outstanding) {
        if (now - placed < 1_000) break; // newer ones are younger still (insertion order)
        ids.push(id);
        if (ids.length >= 500) break;
      }
      if (ids.length === 0) return;
      const found = await this.db.execute<{ id: bigint }>(sql`
        SELECT id FROM orders WHERE id = ANY(${sql.param(ids)}::bigint[]) AND status <> 'pending'`);
      const seen = nowMs();
      for (const row of found.rows) {
        const placed = this.outstanding.get(row.id);
        if (placed === undefined) continue;
        const first = this.polledSettled.get(row.id);
        if (first === undefined) {
          this.polledSettled.set(row.id, seen);
        } else if (seen - first > 1_000) {
          // Settled a second ago and still not announced: the announcement was lost.
          this.outstanding.delete(row.id);
          this.polledSettled.delete(row.id);
          this.missedAnnouncements += 1;
          this.latencies.add(first - placed);
        }
      }
    } catch (error) {
      console.error(`settle watch: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.schedule();
    }
  }
}
