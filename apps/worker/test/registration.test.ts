// A worker registers itself in etcd while it runs, removes itself when stopped, and a worker
// that is killed outright vanishes from the registry once its lease runs out.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { createKafka } from "@spotx/platform/kafka";
import { topology } from "@spotx/platform/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const etcd = createEtcd(platformEnv().ETCD_ENDPOINTS);
// A namespace of its own: the worker's consumers never meet a running exchange's topics.
const namespace = `t${randomUUID().slice(0, 8)}`;
const names = topology(namespace);
const { kafka } = names;
const children: ChildProcess[] = [];
// The worker runs its jobs against a migrated database of its own.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  etcd.close();
  await database?.drop();
});

const workerDir = path.resolve(import.meta.dirname, "..");

function startWorker(id: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      WORKER_PORT: "0",
      WORKER_INSTANCE_ID: id,
      SPOTX_NAMESPACE: namespace,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

/**
 * Starts watching `key` and returns once the watch is established, so that an event caused
 * afterwards cannot be missed; `event` resolves with the time the put or delete arrived.
 */
async function watchFor(key: string, kind: "put" | "delete"): Promise<{ event: Promise<number> }> {
  const watcher = await etcd.watch().key(key).create();
  const event = new Promise<number>((resolve) => {
    const arrived = () => resolve(Date.now());
    if (kind === "put") watcher.on("put", arrived);
    else watcher.on("delete", arrived);
  });
  return { event: event.finally(() => watcher.cancel()) };
}

describe("worker registration in etcd", () => {
  it("writes host, pid, version and start time under /<namespace>/services/worker/<id>", async () => {
    const id = `test-${randomUUID().slice(0, 8)}`;
    const key = names.etcd.service("worker", id);
    const registered = await watchFor(key, "put");
    const child = startWorker(id);
    await registered.event;

    const record = JSON.parse((await etcd.get(key).string()) ?? "{}");
    expect(record).toMatchObject({
      kind: "worker",
      id,
      pid: child.pid,
      version: expect.any(String),
    });
    expect(Date.parse(record.startedAt)).not.toBeNaN();
    expect(typeof record.host).toBe("string");

    // Before registering, the worker made sure the app's topics exist with their partitions.
    const admin = createKafka(platformEnv().KAFKA_BROKERS, "worker-test").admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({
      topics: [kafka.orders.topic, kafka.events.topic],
    });
    await admin.disconnect();
    expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual([
      [kafka.events.topic, kafka.events.numPartitions],
      [kafka.orders.topic, kafka.orders.numPartitions],
    ]);

    // SIGTERM: the worker revokes its lease, so the record goes at once, not after the TTL.
    const removed = await watchFor(key, "delete");
    const stoppedAt = Date.now();
    child.kill("SIGTERM");
    expect((await removed.event) - stoppedAt).toBeLessThan(2_000);
  });

  it("vanishes once its 5 s lease runs out after kill -9", async () => {
    const id = `test-${randomUUID().slice(0, 8)}`;
    const key = names.etcd.service("worker", id);
    const registered = await watchFor(key, "put");
    const child = startWorker(id);
    await registered.event;

    const removed = await watchFor(key, "delete");
    const killedAt = Date.now();
    child.kill("SIGKILL");
    const elapsed = (await removed.event) - killedAt;
    expect(await etcd.get(key).string()).toBeNull();
    // etcd revokes a lease on a 500 ms tick after its TTL has passed since the last renewal.
    // The worker renewed just before the kill, so this is the worst case: TTL + tick + the
    // watch delivery, measured 5.0–5.5 s here.
    expect(elapsed).toBeGreaterThan(3_000);
    expect(elapsed).toBeLessThan(5_000 + 500 + 500);
  });
});
