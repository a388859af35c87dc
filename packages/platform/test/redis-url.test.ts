// REDIS_URL names one server (redis://, rediss://) or a Sentinel deployment
// (redis-sentinel://host:port,host:port/<primary name>), which the clients follow through a
// failover; a malformed one is refused before any connection is tried.
import { describe, expect, it } from "vitest";
import { platformEnvSchema } from "../src/env";
import { redisConnection } from "../src/redis";

describe("REDIS_URL", () => {
  it("passes a single server's URL through", () => {
    expect(redisConnection("redis://127.0.0.1:56379")).toEqual({
      url: "redis://127.0.0.1:56379",
      options: {},
    });
  });

  it("turns a Sentinel URL into the sentinels, the primary's name and the password", () => {
    const { url, options } = redisConnection(
      "redis-sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380/spotx",
    );
    expect(url).toBeUndefined();
    expect(options.sentinels).toEqual([
      { host: "10.0.0.1", port: 26379 },
      { host: "10.0.0.2", port: 26380 },
    ]);
    expect(options.name).toBe("spotx");
    expect(options.role).toBe("master");
    expect(options.password).toBe("s@cret");
    expect(options.sentinelPassword).toBe("s@cret");
  });

  it("refuses a Sentinel URL without a primary name or with a bad address", () => {
    expect(() => redisConnection("redis-sentinel://10.0.0.1:26379")).toThrow(/primary name/);
    expect(() => redisConnection("redis-sentinel://10.0.0.1/spotx")).toThrow(/bad sentinel/);
  });

  it("is accepted by the environment schema, and other schemes are not", () => {
    const parse = (REDIS_URL: string) => platformEnvSchema.safeParse({ REDIS_URL }).success;
    expect(parse("redis-sentinel://127.0.0.1:56391/spotx")).toBe(true);
    expect(parse("rediss://cache.example:6380")).toBe(true);
    expect(parse("http://127.0.0.1:6379")).toBe(false);
  });
});
