// The listening side of credential-events.ts: a subscriber on a Redis connection of its own (a
// subscribed connection can do nothing else) that hands each announced change to the WebSocket
// server that started it, which ends the subscriptions admitted under those credentials. A
// message that does not decode is logged and dropped. Missed messages (Redis down, a restart)
// are the listeners' periodic re-check's to catch, not this module's.
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { type CredentialChange, decodeCredentialChange } from "./credential-events";

export type CredentialListenerOptions = {
  redis: Redis;
  names: Topology;
  log: Logger;
  onChange: (change: CredentialChange) => void;
};

export class CredentialListener {
  private subscriber: Redis | undefined;

  constructor(private readonly options: CredentialListenerOptions) {}

  /** Subscribes (again, after a failed attempt: the previous connection is dropped). */
  async start(): Promise<void> {
    this.subscriber?.disconnect();
    const { redis, names, log } = this.options;
    const subscriber = redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on("error", (error: unknown) =>
      log.debug({ err: error }, "credential listener connection error"),
    );
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== names.redis.credentialsChannel) return;
      const change = decodeCredentialChange(message);
      if (change === null) {
        log.warn({ channel }, "ignoring a malformed credential change");
        return;
      }
      try {
        this.options.onChange(change);
      } catch (error) {
        log.error({ err: error, reason: change.reason }, "a credential change handler failed");
      }
    });
    // ioredis subscribes again by itself after a reconnect.
    await subscriber.subscribe(names.redis.credentialsChannel);
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
