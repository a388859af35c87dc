// etcd is a real cluster member: a key written under a lease disappears once the lease is no
// longer kept alive, within its TTL.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { platformEnv } from "../src/env";
import { createEtcd } from "../src/etcd";

const etcd = createEtcd(platformEnv().ETCD_ENDPOINTS);
afterAll(() => etcd.close());

describe("etcd", () => {
  it("deletes a leased key within the TTL once keep-alive stops", async () => {
    const key = `/spotx/test/${randomUUID()}`;
    const lease = etcd.lease(2, { autoKeepAlive: false });
    await lease.put(key).value("alive");
    expect(await etcd.get(key).string()).toBe("alive");

    const watcher = await etcd.watch().key(key).create();
    const deleted = new Promise<number>((resolve) =>
      watcher.on("delete", () => resolve(Date.now())),
    );
    const stoppedAt = Date.now();
    const goneAt = await deleted;
    await watcher.cancel();

    expect(await etcd.get(key).string()).toBeNull();
    // Granted with a 2 s TTL and never renewed: gone within the TTL plus etcd's expiry tick.
    expect(goneAt - stoppedAt).toBeLessThan(2_000 + 600);
  });
});
