// admin.services, admin.breakers, admin.rateLimits and admin.kafka as they read the cluster: a
// registered web instance here is this test process itself, serving its real /metrics, /health
// and /ready through the platform's service endpoints; another one is registered at a port where
// nothing listens. The Kafka breaker is opened by real failed connections to a closed port.

import { randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { breakers } from "@spotx/platform/breakers";
import { createKafka } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { serveServiceEndpoint } from "@spotx/platform/service-endpoints";
import type { ServiceRecord } from "@spotx/platform/service-registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putRateLimitSettings, RateLimits } from "../../src/guards/rate-limits";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let server: http.Server;
let livePort: number;
let deadPort: number;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

async function register(id: string, port: number) {
  const record: ServiceRecord = {
    kind: "web",
    id,
    host: "127.0.0.1",
    pid: process.pid,
    version: "test",
    startedAt: new Date(Date.now() - 90_000).toISOString(),
    httpPort: port,
  };
  await f.etcd.put(f.names.etcd.service("web", id)).value(JSON.stringify(record));
}

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  const identity = { kind: "web", id: "web-here", startedAt: new Date().toISOString() };
  server = http.createServer((req, res) => {
    void serveServiceEndpoint(req, res, identity).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  livePort = typeof address === "object" && address ? address.port : 0;
  deadPort = await freePort();
  await register("web-here", livePort);
  await register("web-gone", deadPort);
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await f?.stop();
});

describe("the cluster as the console reads it", () => {
  it("lists every registered instance with its health: answering, or not, and why", async () => {
    const { instances } = await (await f.callerAs(operator)).admin.services();
    expect(instances.map((i) => i.id)).toEqual(["web-gone", "web-here"]);
    const [gone, here] = instances;
    expect(here).toMatchObject({
      kind: "web",
      httpPort: livePort,
      health: { ok: true, httpStatus: 200, error: null },
      ready: { httpStatus: expect.any(Number) },
      markets: [],
    });
    expect(here?.uptimeSeconds).toBeGreaterThanOrEqual(90);
    expect(Object.keys(here?.ready.dependencies ?? {}).sort()).toEqual([
      "etcd",
      "kafka",
      "postgres",
      "redis",
    ]);
    expect(gone).toMatchObject({
      health: { ok: false, httpStatus: null },
      ready: { ok: false, httpStatus: null },
    });
    expect(gone?.health.error).toMatch(/^unreachable/);
  });

  it("counts rate-limit rejections by class and scope across web instances, with etcd's settings", async () => {
    await putRateLimitSettings(f.etcd, f.names, { orders: { ip: { points: 2, duration: 60 } } });
    const limits = new RateLimits({
      redis: f.redis,
      names: f.names,
      etcd: f.etcd,
      log: logger("test"),
    });
    await limits.start();
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push(await limits.consume("orders", { ip: "192.0.2.77" }));
    await limits.stop();
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, false]);

    const view = await (await f.callerAs(operator)).admin.rateLimits();
    expect(view.error).toBeNull();
    expect(view.settingsSource).toBe("etcd");
    expect(view.settings).toContainEqual({
      endpointClass: "orders",
      scope: "ip",
      rule: { points: 2, duration: 60 },
    });
    expect(view.rejections).toContainEqual({ endpointClass: "orders", scope: "ip", refused: 1 });
    expect(view.rejections).toContainEqual({ endpointClass: "reads", scope: "ip", refused: 0 });
    expect(view.instances.map((i) => [i.id, i.error])).toEqual([
      ["web-gone", "unreachable"],
      ["web-here", null],
    ]);
  });

  it("names the pipeline topics that do not exist yet instead of failing", async () => {
    const view = await (await f.callerAs(operator)).admin.kafka();
    expect(view.missingTopics).toEqual([f.names.kafka.orders.topic, f.names.kafka.events.topic]);
    expect(view.topics).toEqual([]);
    expect(view.groups).toEqual([]);
    expect(view.brokers.length).toBeGreaterThanOrEqual(1);
  });

  it("shows an open Kafka breaker here and in the instance's metrics, and admin.kafka fails fast", async () => {
    const dead = createKafka([`127.0.0.1:${deadPort}`], `dead-${randomUUID()}`, {
      connectionTimeout: 200,
      retry: { retries: 0 },
    });
    for (let i = 0; i < 3; i++) {
      const admin = dead.admin();
      await breakers.kafka.run(() => admin.connect()).catch(() => undefined);
    }
    expect(breakers.kafka.currentState).toBe("open");

    const caller = await f.callerAs(operator);
    const view = await caller.admin.breakers();
    const kafka = view.local.find((b) => b.dependency === "kafka");
    expect(kafka).toMatchObject({ state: "open", lastTransition: { from: "closed", to: "open" } });
    // The earlier successful admin.kafka is in the window: two failures of three calls open it.
    expect(kafka?.totals.failures).toBeGreaterThanOrEqual(2);
    expect((kafka?.totals.failures ?? 0) + (kafka?.totals.rejections ?? 0)).toBe(3);
    expect(view.local.find((b) => b.dependency === "redis")?.state).toBe("closed");
    const here = view.instances.find((i) => i.id === "web-here");
    expect(here?.breakers).toContainEqual({
      dependency: "kafka",
      state: "open",
      transitions: 1,
      rejections: kafka?.totals.rejections,
    });
    expect(view.instances.find((i) => i.id === "web-gone")).toMatchObject({
      error: "unreachable",
      breakers: [
        { dependency: "redis", state: null },
        { dependency: "etcd", state: null },
        { dependency: "kafka", state: null },
      ],
    });

    const started = performance.now();
    expect(await refusal(caller.admin.kafka())).toEqual({
      label: "SERVICE_UNAVAILABLE",
      status: 503,
    });
    expect(performance.now() - started).toBeLessThan(50);
  });
});
