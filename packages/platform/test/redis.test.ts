// Redis is a real server: SET NX PX gives one holder at a time and expires on its own.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { platformEnv } from "../src/env";
import { createRedis } from "../src/redis";

const first = createRedis(platformEnv().REDIS_URL);
const second = createRedis(platformEnv().REDIS_URL);
afterAll(() => {
  first.disconnect();
  second.disconnect();
});

describe("Redis", () => {
  it("lets only one client hold a SET NX PX key until it expires", async () => {
    const key = `test:lock:${randomUUID()}`;
    expect(await first.set(key, "holder-a", "PX", 300, "NX")).toBe("OK");
    expect(await second.set(key, "holder-b", "PX", 300, "NX")).toBeNull();
    expect(await second.get(key)).toBe("holder-a");

    // Once the TTL runs out the key is gone and the second client can take it.
    while ((await second.pttl(key)) > 0) await new Promise((r) => setTimeout(r, 25));
    expect(await second.set(key, "holder-b", "PX", 300, "NX")).toBe("OK");
    expect(await first.get(key)).toBe("holder-b");
  });
});
