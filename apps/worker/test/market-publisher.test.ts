// The engine host's market-data shell on a real Redis: a quiet market's change goes out at once;
// a busy market's batches within the coalescing window go out as one more delta at its end —
// the web servers' fan-out then grows with clients, not with commands.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { logger } from "@spotx/platform/logger";
import { createRedis } from "@spotx/platform/redis";
import { createSocketEmitter } from "@spotx/platform/socket-emitter";
import { topology } from "@spotx/platform/topology";
import type { ServerToClientEvents } from "@spotx/protocol";
import { afterAll, describe, expect, it, vi } from "vitest";
import { MarketFeed } from "../src/market-data/feed";
import { MarketPublisher } from "../src/market-publisher";
import { BTC_USDT, btc, EMPTY_START, EngineScript, eventually, usd } from "./market-data-fixture";

const names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
const redis = createRedis(platformEnv().REDIS_URL);
const listener = createRedis(platformEnv().REDIS_URL);
afterAll(async () => {
  redis.disconnect();
  listener.disconnect();
});

describe("MarketPublisher", () => {
  it("sends a quiet market's change at once and a busy one's changes once per window", async () => {
    const bookRoom = `${names.redis.socketIoKey}#/#${names.rooms.market("BTC_USDT", "book")}#`;
    const heard: number[] = [];
    listener.on("pmessage", (_pattern: string, channel: string) => {
      if (channel === bookRoom) heard.push(Date.now());
    });
    await listener.psubscribe(`${names.redis.socketIoKey}*`);
    const script = new EngineScript();
    const feed = new MarketFeed(BTC_USDT, EMPTY_START);
    const emitter = createSocketEmitter<ServerToClientEvents>(redis, names);
    // Which rooms the publisher addressed, in order (the emitter itself is the real one).
    const addressed = vi.spyOn(emitter, "to");
    const bookEmits = () =>
      addressed.mock.calls.filter(([room]) => room === names.rooms.market("BTC_USDT", "book"))
        .length;
    const publisher = new MarketPublisher({
      redis,
      emitter,
      names,
      log: logger("test-publisher"),
      feedOf: () => feed,
      feeds: () => [feed],
      coalesceMs: 200,
    });
    try {
      // Ten batches in a row, each moving a level, in one synchronous run (no timer can fire
      // in between, so what is sent during it is decided by the publisher alone).
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        feed.apply(script.place(1, "buy", usd("29990") + i, btc("0.1")).message);
        publisher.publish(feed, started, [script.time]);
        // The first at once, inside its publish call; the others wait for the window's end.
        expect(bookEmits()).toBe(1);
      }
      // The nine others together, at the window's end: one more delta, heard on Redis.
      await eventually(() => heard.length >= 2 || undefined, "two book deltas");
      expect(bookEmits()).toBe(2);
      expect(heard).toHaveLength(2);
      // Nothing is left unpublished (so no third delta can follow): the feed's next flush has
      // no book change to send.
      expect(feed.flush(Date.now())?.delta ?? null).toBeNull();
    } finally {
      publisher.stop();
    }
  });
});
