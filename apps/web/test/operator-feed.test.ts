// The operator console's live feed over socket.io: only a browser session of an active operator
// joins the operators room (a trader, an anonymous visitor, a program's token and a cookie from
// another site are refused with FORBIDDEN and receive nothing); a process registering in etcd
// appears in the pushed services list and vanishes when its lease goes; the pipeline samples
// carry the consumer lag Kafka reports and the figures read from the processes' /metrics. The
// socket server runs in this process on the real PostgreSQL, Redis, etcd and Kafka; the
// "process" registered is a small HTTP server of the test serving /health, /ready and /metrics.
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { ApiServices, SESSION_COOKIE } from "@spotx/api";
import { DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createKafka, ensureTopics } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { signSocketToken } from "@spotx/platform/secrets";
import { type Topology, topology } from "@spotx/platform/topology";
import type { OperatorServicesMessage, PipelineSample } from "@spotx/protocol";
import { eq } from "drizzle-orm";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSocketServer, startSocketServer } from "../src/server/socket-server";
import { type ClientSocket, Inbox } from "./socket-bench";

let test: TestDatabase;
let redis: Redis;
let etcd: Etcd3;
let names: Topology;
let config: MarketConfigWatcher;
let server: http.Server;
let sockets: RunningSocketServer;
let services: ApiServices;
let url: string;
let operatorId: bigint;
let traderId: bigint;
const secretKey = randomBytes(32);
const opened: ClientSocket[] = [];

/** A process of the test's own: answers /health, /ready and /metrics with `metrics()`. */
let fakeProcess: http.Server;
let fakePort: number;
let metricsText = "";

beforeAll(async () => {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  names = topology(namespace);
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  const users = await test.db
    .insert(schema.users)
    .values([
      // An operator has two-factor sign-in on (its secret is never used here).
      {
        email: `op-${namespace}@test.spotx.dev`,
        passwordHash: "x",
        role: "operator",
        totpSecretSealed: "x",
        totpEnabledAt: new Date(),
      },
      { email: `tr-${namespace}@test.spotx.dev`, passwordHash: "x", role: "trader" },
    ])
    .returning({ id: schema.users.id });
  const [operator, trader] = users;
  if (!operator || !trader) throw new Error("users not created");
  operatorId = operator.id;
  traderId = trader.id;

  const env = platformEnv();
  const kafka = createKafka(env.KAFKA_BROKERS, `test-${namespace}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, names);
  await admin.disconnect();

  redis = createRedis(env.REDIS_URL);
  etcd = createEtcd(env.ETCD_ENDPOINTS);
  config = new MarketConfigWatcher(etcd, logger("test-config"), names);
  await config.start();
  services = new ApiServices({ names, redis, secretKey });
  server = http.createServer();
  sockets = await startSocketServer({
    server,
    db: test.db,
    redis,
    redisUrl: env.REDIS_URL,
    names,
    log: logger("socket.io"),
    secretKey,
    marketConfig: config,
    etcd,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  fakeProcess = http.createServer((req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(metricsText);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      req.url === "/ready"
        ? JSON.stringify({
            status: "ready",
            dependencies: { postgres: { ok: true, latencyMs: 2 } },
          })
        : JSON.stringify({ status: "ok" }),
    );
  });
  await new Promise<void>((resolve) => fakeProcess.listen(0, "127.0.0.1", resolve));
  const fake = fakeProcess.address();
  fakePort = typeof fake === "object" && fake ? fake.port : 0;
});

afterAll(async () => {
  for (const socket of opened) socket.disconnect();
  await sockets?.close();
  server?.close();
  fakeProcess?.close();
  await config?.stop();
  await etcd?.delete().prefix(`/${names.namespace}/`);
  etcd?.close();
  if (redis) {
    const keys = await redis.keys(`${names.namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  const kafka = createKafka(platformEnv().KAFKA_BROKERS, `test-${names.namespace}-cleanup`);
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [names.kafka.orders.topic, names.kafka.events.topic] })
    .catch(() => undefined);
  await admin.disconnect();
  await test?.drop();
});

async function cookieOf(userId: bigint) {
  const { sessionId } = await services.sessions.create(userId, { ip: null, userAgent: null });
  const token = await services.sessionTokens.sign({ userId, sessionId }, 900);
  return `${SESSION_COOKIE}=${token}`;
}

async function connect(options: { headers?: Record<string, string>; auth?: { token: string } }) {
  const socket: ClientSocket = io(url, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: options.headers ?? {},
    ...(options.auth ? { auth: options.auth } : {}),
  });
  opened.push(socket);
  const inbox = new Inbox(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, inbox };
}

/** Registers a "worker" in etcd under a lease, as ServiceRegistration does. */
async function register(id: string, ttlSeconds = 5) {
  const lease = etcd.lease(ttlSeconds, { autoKeepAlive: true });
  await lease.put(names.etcd.service("worker", id)).value(
    JSON.stringify({
      kind: "worker",
      id,
      host: "127.0.0.1",
      pid: 4242,
      version: "9.9.9",
      startedAt: new Date(Date.now() - 90_000).toISOString(),
      httpPort: fakePort,
    }),
  );
  return lease;
}

const listed = (id: string) => (m: OperatorServicesMessage) => m.instances.some((i) => i.id === id);

describe("the operators room", () => {
  it("refuses a trader, an anonymous visitor, a program's token and another site's page", async () => {
    const trader = await connect({ headers: { cookie: await cookieOf(traderId), origin: url } });
    const anonymous = await connect({});
    const program = await connect({
      auth: { token: await signSocketToken(operatorId, secretKey, 60) },
    });
    const elsewhere = await connect({
      headers: { cookie: await cookieOf(operatorId), origin: "https://evil.example" },
    });
    for (const { socket } of [trader, anonymous, program, elsewhere]) {
      const reply = await socket.emitWithAck("operator.join", {});
      expect(reply).toEqual({
        ok: false,
        error: { label: "FORBIDDEN", message: expect.stringContaining("operators only") },
      });
    }
    // An operator's console is fed meanwhile; none of the refused sockets receives any of it.
    const operator = await connect({
      headers: { cookie: await cookieOf(operatorId), origin: url },
    });
    expect(await operator.socket.emitWithAck("operator.join", {})).toEqual({ ok: true });
    await operator.inbox.next("operator.pipeline", (m) => m.samples.length > 0, {
      timeoutMs: 8_000,
    });
    for (const { inbox } of [trader, anonymous, program, elsewhere]) {
      expect(inbox.received.filter((r) => r.event.startsWith("operator."))).toEqual([]);
    }
  });

  it("refuses an operator whose account was frozen after the handshake", async () => {
    const [frozen] = await test.db
      .insert(schema.users)
      .values({
        email: `frz-${randomUUID()}@test.spotx.dev`,
        passwordHash: "x",
        role: "operator",
        totpSecretSealed: "x",
        totpEnabledAt: new Date(),
      })
      .returning({ id: schema.users.id });
    if (!frozen) throw new Error("user not created");
    const { socket } = await connect({
      headers: { cookie: await cookieOf(frozen.id), origin: url },
    });
    await test.db
      .update(schema.users)
      .set({ status: "frozen" })
      .where(eq(schema.users.id, frozen.id));
    const reply = await socket.emitWithAck("operator.join", {});
    expect(reply).toMatchObject({ ok: false, error: { label: "FORBIDDEN" } });
  });
});

describe("the services stream", () => {
  it("pushes a process the moment it registers and again the moment its lease is gone", async () => {
    const operator = await connect({
      headers: { cookie: await cookieOf(operatorId), origin: url },
    });
    expect(await operator.socket.emitWithAck("operator.join", {})).toEqual({ ok: true });
    const first = await operator.inbox.next("operator.services");
    expect(first.error).toBeNull();

    const id = `w-${randomUUID().slice(0, 8)}`;
    const from = operator.inbox.received.length;
    const registeredAt = Date.now();
    const lease = await register(id);
    const shown = await operator.inbox.next("operator.services", listed(id), { from });
    expect(Date.now() - registeredAt).toBeLessThan(1_000);
    expect(shown.instances.find((i) => i.id === id)).toMatchObject({
      kind: "worker",
      host: "127.0.0.1",
      pid: 4242,
      version: "9.9.9",
      httpPort: fakePort,
    });
    // The probes follow: /health and /ready answered, with the dependencies /ready reported.
    const probed = await operator.inbox.next(
      "operator.services",
      (m) => m.instances.find((i) => i.id === id)?.ready !== null && listed(id)(m),
      { from, timeoutMs: 8_000 },
    );
    expect(probed.instances.find((i) => i.id === id)).toMatchObject({
      health: { ok: true, httpStatus: 200 },
      ready: { ok: true, dependencies: { postgres: { ok: true } } },
    });

    // A market owned under the same lease is shown with the instance, its epoch a string.
    await lease
      .put(names.etcd.marketOwner("BTC_USDT"))
      .value(JSON.stringify({ instance: id, partition: 2, since: new Date().toISOString() }));
    const owning = await operator.inbox.next(
      "operator.services",
      (m) => (m.instances.find((i) => i.id === id)?.markets.length ?? 0) > 0,
      { from },
    );
    expect(owning.instances.find((i) => i.id === id)?.markets).toEqual([
      {
        symbol: "BTC_USDT",
        partition: 2,
        since: expect.any(String),
        epoch: expect.stringMatching(/^\d+$/),
      },
    ]);

    const goneFrom = operator.inbox.received.length;
    const revokedAt = Date.now();
    await lease.revoke();
    const gone = await operator.inbox.next("operator.services", (m) => !listed(id)(m), {
      from: goneFrom,
    });
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(gone.orphanedMarkets).toEqual([]);
  });
});

describe("the pipeline stream", () => {
  it("samples the consumer lag from Kafka and the figures from the processes' /metrics", async () => {
    const id = `w-${randomUUID().slice(0, 8)}`;
    metricsText = [
      "spotx_outbox_backlog 7",
      "spotx_outbox_oldest_unsent_age_seconds 3.5",
      'spotx_settlement_last_seq{market="BTC_USDT"} 120',
      'spotx_settlement_lag_ms{market="BTC_USDT"} 42',
      'spotx_settlement_stopped{market="BTC_USDT"} 0',
      'spotx_settlement_last_seq{market="ETH_USDT"} 9',
      'spotx_settlement_stopped{market="ETH_USDT"} 1',
      'spotx_breaker_state{dependency="redis"} 2',
      'spotx_breaker_transitions_total{dependency="redis",to="open"} 1',
      'spotx_breaker_last_transition_seconds{dependency="redis"} 1700000000.25',
      'spotx_rate_limit_rejections_total{class="orders",scope="user"} 5',
      "",
    ].join("\n");
    const lease = await register(id);
    try {
      const operator = await connect({
        headers: { cookie: await cookieOf(operatorId), origin: url },
      });
      expect(await operator.socket.emitWithAck("operator.join", {})).toEqual({ ok: true });
      const withWorker = (m: { samples: PipelineSample[] }) =>
        m.samples.some((s) => s.outbox !== null);
      const message = await operator.inbox.next("operator.pipeline", withWorker, {
        timeoutMs: 10_000,
      });
      const sample = message.samples.find((s) => s.outbox !== null);
      expect(sample?.outbox).toEqual({ backlog: 7, oldestAgeSeconds: 3.5 });
      expect(sample?.settlement).toEqual([
        { market: "BTC_USDT", lagMs: 42, stopped: false, lastSeq: 120 },
        { market: "ETH_USDT", lagMs: 0, stopped: true, lastSeq: 9 },
      ]);
      // Two groups (engine, settlement), each on every partition of its topic; nothing consumed,
      // nothing produced.
      expect(sample?.lag).toHaveLength(2 * names.kafka.orders.numPartitions);
      expect(new Set(sample?.lag?.map((l) => l.group))).toEqual(
        new Set(Object.values(names.kafka.groups)),
      );
      expect(sample?.lagError).toBeNull();

      // From the second sample on, rates are figures: nothing was placed, so zero per second.
      const rated = await operator.inbox.next(
        "operator.pipeline",
        (m) => m.samples.some((s) => s.ordersPerSecond !== null),
        { timeoutMs: 10_000 },
      );
      expect(rated.samples.at(-1)?.ordersPerSecond).toBe(0);
      expect(rated.samples.at(-1)?.ackP99Ms).toBeNull();

      const guards = await operator.inbox.next("operator.guards", (g) =>
        g.instances.some((i) => i.id === id && i.error === null),
      );
      expect(guards.instances.find((i) => i.id === id)).toMatchObject({
        breakers: [
          {
            dependency: "redis",
            state: "open",
            transitions: 1,
            rejections: 0,
            lastTransitionAt: 1_700_000_000_250,
          },
        ],
        rateLimitRejections: [{ endpointClass: "orders", scope: "user", refused: 5 }],
      });
      expect(guards.lockError).toBeNull();
    } finally {
      await lease.revoke();
    }
  });
});
