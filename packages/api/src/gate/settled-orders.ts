// Waiting for settlement to reach orders: one Redis subscription per process to settlement's
// announcements (topology().redis.settledChannel, see @spotx/protocol settled-orders). A waiter
// names the orders it waits for and a check (re-reading their rows); the check runs at once and
// again whenever one of them is announced, so nothing settled before the wait began is missed.
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { decodeSettledOrders } from "@spotx/protocol";

type Waiter = { ids: ReadonlySet<string>; wake: () => void };

export class SettledOrders {
  private subscriber: Redis | undefined;
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly options: {
      /** A connection to duplicate: a subscribed connection can do nothing else. */
      redis: Redis;
      names: Topology;
      log: Logger;
    },
  ) {}

  async start(): Promise<void> {
    const subscriber = this.options.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on("error", (error: unknown) =>
      this.options.log.debug({ err: error }, "settled-orders subscription error"),
    );
    subscriber.on("message", (_channel: string, text: string) => {
      const message = decodeSettledOrders(text);
      if (!message) return;
      for (const waiter of this.waiters) {
        if (message.orders.some((id) => waiter.ids.has(id))) waiter.wake();
      }
    });
    await subscriber.subscribe(this.options.names.redis.settledChannel);
  }

  async stop(): Promise<void> {
    for (const waiter of this.waiters) waiter.wake();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /**
   * Resolves true once `done()` does, re-checking whenever settlement announces one of `ids`;
   * false after `timeoutMs` (the caller answers with what it has).
   */
  async waitFor(
    ids: readonly bigint[],
    done: () => Promise<boolean>,
    timeoutMs: number,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let signalled = true;
    let wake: () => void = () => undefined;
    const waiter: Waiter = {
      ids: new Set(ids.map(String)),
      wake: () => {
        signalled = true;
        wake();
      },
    };
    this.waiters.add(waiter);
    try {
      for (;;) {
        if (signalled) {
          signalled = false;
          if (await done()) return true;
        }
        const left = deadline - Date.now();
        if (left <= 0 || !this.subscriber) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          // An announcement between the check and this wait already set `signalled`.
          if (signalled) wake();
        });
      }
    } finally {
      this.waiters.delete(waiter);
    }
  }
}
