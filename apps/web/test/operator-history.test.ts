// The pipeline's last hour, kept server-side: a web instance samples the pipeline with no console
// open and keeps its samples in Redis; a console that joins another instance later — one that was
// not even running when those samples were taken — is sent them on joining, merged with that
// instance's own, one point per step. Two socket servers (the feed's instances) run in this
// process on the real PostgreSQL, Redis, etcd and Kafka; the "worker" whose /metrics they read is
// a small HTTP server of the test, its outbox backlog telling whose time a point is from.
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
import { type Topology, topology } from "@spotx/platform/topology";
import {
  HISTORY_FINE_STEP_MS,
  type OperatorPipelineMessage,
  type PipelineSample,
} from "@spotx/protocol";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSocketServer, startSocketServer } from "../src/server/socket-server";
import { type ClientSocket, Inbox } from "./socket-bench";

let test: TestDatabase;
let redis: Redis;
let etcd: Etcd3;
let names: Topology;
let config: MarketConfigWatcher;
let services: ApiServices;
let operatorId: bigint;
const secretKey = randomBytes(32);
const running: Array<{ sockets: RunningSocketServer; server: http.Server }> = [];
const opened: ClientSocket[] = [];

/** The "worker": its /metrics report this outbox backlog. */
let backlog = 0;
let fakeProcess: http.Server;
let fakePort: number;

beforeAll(async () => {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  names = topology(namespace);
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  const [operator] = await test.db
    .insert(schema.users)
    .values({
      email: `op-${namespace}@test.spotx.dev`,
      passwordHash: "x",
      role: "operator",
      totpSecretSealed: "x",
      totpEnabledAt: new Date(),
    })
    .returning({ id: schema.users.id });
  if (!operator) throw new Error("operator not created");
  operatorId = operator.id;

  const env = platformEnv();
  const admin = createKafka(env.KAFKA_BROKERS, `test-${namespace}`).admin();
  await admin.connect();
  await ensureTopics(admin, names);
  await admin.disconnect();
  redis = createRedis(env.REDIS_URL);
  etcd = createEtcd(env.ETCD_ENDPOINTS);
  config = new MarketConfigWatcher(etcd, logger("test-config"), names);
  await config.start();
  services = new ApiServices({ names, redis, secretKey });

  fakeProcess = http.createServer((req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`spotx_outbox_backlog ${backlog}\nspotx_outbox_oldest_unsent_age_seconds 0\n`);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "ok" }));
  });
  await new Promise<void>((resolve) => fakeProcess.listen(0, "127.0.0.1", resolve));
  const fake = fakeProcess.address();
  fakePort = typeof fake === "object" && fake ? fake.port : 0;
  const lease = etcd.lease(30, { autoKeepAlive: true });
  await lease.put(names.etcd.service("worker", "w-history")).value(
    JSON.stringify({
      kind: "worker",
      id: "w-history",
      host: "127.0.0.1",
      pid: 4242,
      version: "9.9.9",
      startedAt: new Date().toISOString(),
      httpPort: fakePort,
    }),
  );
});

afterAll(async () => {
  for (const socket of opened) socket.disconnect();
  for (const { sockets, server } of running) {
    await sockets.close();
    server.close();
  }
  fakeProcess?.close();
  await config?.stop();
  await etcd?.delete().prefix(`/${names.namespace}/`);
  etcd?.close();
  if (redis) {
    const keys = await redis.keys(`${names.namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  const admin = createKafka(platformEnv().KAFKA_BROKERS, `test-${names.namespace}-x`).admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [names.kafka.orders.topic, names.kafka.events.topic] })
    .catch(() => undefined);
  await admin.disconnect();
  await test?.drop();
});

/** A web instance's socket server (its operator feed samples every 250 ms with no console). */
async function startInstance(instanceId: string) {
  const server = http.createServer();
  const sockets = await startSocketServer({
    server,
    db: test.db,
    redis,
    redisUrl: platformEnv().REDIS_URL,
    names,
    log: logger(`socket.io-${instanceId}`),
    secretKey,
    marketConfig: config,
    etcd,
    instanceId,
    idleSampleMs: 250,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const instance = { sockets, server };
  running.push(instance);
  return {
    url,
    async stop() {
      running.splice(running.indexOf(instance), 1);
      await sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The samples an instance has put in Redis. */
async function recorded(instanceId: string): Promise<PipelineSample[]> {
  const members = await redis.zrange(names.redis.pipelineHistory(instanceId), 0, -1);
  return members.map((m) => JSON.parse(m) as PipelineSample);
}

async function until<T>(what: string, check: () => Promise<T | null>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function operatorConsole(url: string) {
  const { sessionId } = await services.sessions.create(operatorId, { ip: null, userAgent: null });
  const token = await services.sessionTokens.sign({ userId: operatorId, sessionId }, 900);
  const socket: ClientSocket = io(url, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: { cookie: `${SESSION_COOKIE}=${token}`, origin: url },
  });
  opened.push(socket);
  const inbox = new Inbox(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, inbox };
}

describe("the pipeline history", () => {
  it("is sent to a joining console from every instance, points taken before it or its instance existed included", async () => {
    // Instance a samples on its own — no console anywhere — while the backlog is 11.
    backlog = 11;
    const a = await startInstance(`web-a-${names.namespace}`);
    const fromA = async () =>
      (await recorded(`web-a-${names.namespace}`)).filter((p) => p.outbox?.backlog === 11);
    await until("instance a to record three points", async () =>
      (await fromA()).length >= 3 ? true : null,
    );
    await a.stop();
    const recordedByA = await fromA();

    // Instance b starts after a is gone; a console joins it at once.
    backlog = 22;
    const bStarted = Date.now();
    const b = await startInstance(`web-b-${names.namespace}`);
    const operator = await operatorConsole(b.url);
    const joinedAt = Date.now();
    expect(await operator.socket.emitWithAck("operator.join", {})).toEqual({ ok: true });
    const first = (await operator.inbox.next("operator.pipeline")) as OperatorPipelineMessage;
    expect(first.history).toBe(true);

    // a's points, every one of them taken before b started and before the console connected.
    const earlier = first.samples.filter((s) => s.outbox?.backlog === 11);
    expect(earlier.map((s) => s.time)).toEqual(recordedByA.map((s) => s.time));
    for (const s of earlier) {
      expect(s.time).toBeLessThan(bStarted);
      expect(s.time).toBeLessThan(joinedAt);
    }
    // One point per 2 s step, in order, whichever instance took it.
    const steps = first.samples.map((s) => Math.floor(s.time / HISTORY_FINE_STEP_MS));
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));

    // Then the live samples follow, one at a time, from b.
    const live = (await operator.inbox.next(
      "operator.pipeline",
      (m) => m.history === undefined,
    )) as OperatorPipelineMessage;
    expect(live.samples).toHaveLength(1);
    expect(live.samples[0]?.outbox?.backlog).toBe(22);
    expect(live.samples[0]?.time).toBeGreaterThan(earlier.at(-1)?.time ?? 0);
  });
});
