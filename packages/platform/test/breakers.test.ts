// The circuit breakers against real network peers: a port nobody listens on, a server that
// accepts and never answers, and the stack's Redis. (Stopping the stack's Redis itself is
// apps/worker/test/redis-outage.test.ts.)
import { randomUUID } from "node:crypto";
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  BREAKER_DEPENDENCIES,
  type BreakerState,
  breakerStates,
  DependencyBreaker,
  ServiceUnavailableError,
} from "../src/breakers";
import { platformEnv } from "../src/env";
import { metrics } from "../src/metrics";
import { createRedis, type Redis } from "../src/redis";

const live = createRedis(platformEnv().REDIS_URL);
let refusingPort: number;
let silent: net.Server;
let silentPort: number;
const clients: Redis[] = [];
const made: DependencyBreaker[] = [];
const silentSockets = new Set<net.Socket>();

/** A port that was free a moment ago: connections to it are refused. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

function redisAt(port: number): Redis {
  const client = createRedis(`redis://127.0.0.1:${port}`);
  clients.push(client);
  return client;
}

function breaker(options: ConstructorParameters<typeof DependencyBreaker>[1]) {
  const created = new DependencyBreaker("redis", options);
  made.push(created);
  return created;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function gauge(dependency: string): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric("spotx_breaker_state")?.get();
  return metric?.values.find((v) => v.labels.dependency === dependency)?.value;
}

async function refusal(call: Promise<unknown>): Promise<ServiceUnavailableError> {
  const error = await call.then(
    () => new Error("the call succeeded"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceUnavailableError);
  return error as ServiceUnavailableError;
}

beforeAll(async () => {
  refusingPort = await freePort();
  // Accepts connections and never writes a byte: a hung server.
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on("close", () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const address = silent.address();
  silentPort = typeof address === "object" && address ? address.port : 0;
});
afterEach(() => {
  for (const b of made.splice(0)) b.shutdown();
});
afterAll(async () => {
  live.disconnect();
  for (const client of clients) client.disconnect();
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe("a dependency's circuit breaker", () => {
  it("opens after the volume threshold of refused connections and then fails fast without calling", async () => {
    const dead = redisAt(refusingPort);
    const b = breaker({ volumeThreshold: 3, timeoutMs: 2_000, resetMs: 60_000 });
    let invoked = 0;
    const get = () =>
      b.run(() => {
        invoked += 1;
        return dead.get("k");
      });

    for (let i = 0; i < 3; i++) {
      const error = await refusal(get());
      expect(error.label).toBe("SERVICE_UNAVAILABLE");
      expect(error.status).toBe(503);
      expect(error.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|redis/i);
    }
    expect(b.currentState).toBe<BreakerState>("open");
    expect(invoked).toBe(3);

    const started = performance.now();
    const fast = await refusal(get());
    const tookMs = performance.now() - started;
    expect(tookMs).toBeLessThan(50);
    expect(invoked).toBe(3); // the open breaker did not touch the server
    expect(fast.retryAfterSeconds).toBeGreaterThanOrEqual(59);

    const snapshot = b.snapshot();
    expect(snapshot.state).toBe("open");
    expect(snapshot.lastTransition).toMatchObject({ from: "closed", to: "open" });
    expect(snapshot.totals).toMatchObject({ calls: 4, failures: 3, rejections: 1 });
    expect(snapshot.window).toMatchObject({ failures: 3, rejections: 1 });
    expect(await gauge("redis")).toBe(2);
  });

  it("turns a call to a server that never answers into a 503 at its timeout", async () => {
    const hung = redisAt(silentPort);
    const b = breaker({ volumeThreshold: 2, timeoutMs: 300, resetMs: 60_000 });
    const started = performance.now();
    await refusal(b.run(() => hung.get("k")));
    const tookMs = performance.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(290);
    expect(tookMs).toBeLessThan(1_000);
    await refusal(b.run(() => hung.get("k")));
    expect(b.currentState).toBe("open");
    expect(b.snapshot().totals.timeouts).toBe(2);
  });

  it("probes when half-open: a failed probe opens it again, a passing one closes it", async () => {
    const dead = redisAt(refusingPort);
    let target: Redis = dead;
    const b = breaker({
      volumeThreshold: 2,
      timeoutMs: 1_000,
      resetMs: 200,
      probe: () => target.ping(),
    });
    await refusal(b.run(() => dead.get("k")));
    await refusal(b.run(() => dead.get("k")));
    expect(b.currentState).toBe("open");

    // The first probe meets the dead server: half-open, then open again.
    await until("a failed probe", () => b.snapshot().transitions >= 3);
    expect(b.snapshot().lastTransition).toMatchObject({ from: "half_open", to: "open" });

    // The server is back: the next probe closes the breaker without any request.
    target = live;
    await until("the breaker to close", () => b.currentState === "closed");
    expect(b.snapshot().lastTransition).toMatchObject({ from: "half_open", to: "closed" });
    expect(await gauge("redis")).toBe(0);
    const key = `test:breaker:${randomUUID()}`;
    await live.set(key, "v", "PX", 10_000);
    expect(await b.run(() => live.get(key))).toBe("v");

    const exported = await metrics.registry
      .getSingleMetric("spotx_breaker_transitions_total")
      ?.get();
    const toClosed = exported?.values.find(
      (v) => v.labels.dependency === "redis" && v.labels.to === "closed",
    );
    expect(toClosed?.value).toBeGreaterThanOrEqual(1);
  });

  it("passes through what the server answered and our own bugs, and stays closed", async () => {
    const b = breaker({ volumeThreshold: 2, timeoutMs: 1_000, resetMs: 60_000 });
    const key = `test:breaker:${randomUUID()}`;
    await live.set(key, "a string", "PX", 10_000);
    for (let i = 0; i < 5; i++) {
      // WRONGTYPE: Redis is up and said no.
      const error = await b.run(() => live.hget(key, "field")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe("ReplyError");
      const bug = await b
        .run(async () => JSON.parse("{not json") as unknown)
        .catch((e: unknown) => e);
      expect(bug).toBeInstanceOf(SyntaxError);
      // A value thrown as a signal (rate-limiter-flexible's "over the limit") is not an outage.
      const signal = { msBeforeNext: 1_000 };
      await expect(b.run(() => Promise.reject(signal))).rejects.toBe(signal);
    }
    expect(b.currentState).toBe("closed");
    expect(b.snapshot().totals.failures).toBe(0);
  });

  it("lists the process's breakers, one per shared server, closed at rest", () => {
    const states = breakerStates();
    expect(states.map((s) => s.dependency)).toEqual([...BREAKER_DEPENDENCIES]);
    for (const state of states) {
      expect(state.state).toBe("closed");
      expect(state.settings.timeoutMs).toBeGreaterThan(0);
    }
  });
});
