// socket.io's resources and guards, on the real PostgreSQL, Redis and etcd: its HTTP requests
// (the polling transport) pass the same request guards as every other request — security
// headers, the body limit — because the server's handler serves them; connections per client
// address and rooms per socket are capped with labelled refusals; and a user's sockets are
// disconnected when their password changes or they are frozen (announced, or found by the
// periodic re-check when an announcement was lost). The socket server runs in this process on a
// plain HTTP server composed like the web server's: guardRequest first, then socket.io.
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { announceCredentialChange } from "@spotx/api/auth/credential-events";
import { DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { signSocketToken } from "@spotx/platform/secrets";
import {
  DATA_CONTENT_SECURITY_POLICY,
  guardRequest,
  type HttpLimits,
} from "@spotx/platform/service-process";
import { type Topology, topology } from "@spotx/platform/topology";
import { eq } from "drizzle-orm";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RunningSocketServer,
  type SocketServerOptions,
  startSocketServer,
} from "../src/server/socket-server";
import { type ClientSocket, eventually } from "./socket-bench";

const LIMITS: HttpLimits = { maxBodyBytes: 16 * 1024, requestTimeoutMs: 30_000, trustedProxies: 0 };
const MAX_CONNECTIONS = 3;
const MAX_SUBSCRIPTIONS = 2;

let test: TestDatabase;
let redis: Redis;
let etcd: Etcd3;
let names: Topology;
let config: MarketConfigWatcher;
const secretKey = randomBytes(32);
const running: Array<{ server: http.Server; sockets: RunningSocketServer }> = [];
const opened: ClientSocket[] = [];

/** A socket server on a guarded HTTP server (as main.ts composes them); its base URL. */
async function startGuarded(options: Partial<SocketServerOptions> = {}): Promise<string> {
  const log = logger("socket-test-http");
  let sockets: RunningSocketServer | undefined;
  const server = http.createServer((req, res) => {
    if (!guardRequest(req, res, LIMITS, DATA_CONTENT_SECURITY_POLICY, log)) return;
    if (sockets?.handles(req)) return sockets.serve(req, res);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ label: "NOT_FOUND", message: "no such endpoint" }));
  });
  sockets = await startSocketServer({
    server,
    db: test.db,
    redis,
    redisUrl: platformEnv().REDIS_URL,
    names,
    log: logger("socket.io"),
    secretKey,
    marketConfig: config,
    ...options,
  });
  running.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
}

async function createUser(): Promise<bigint> {
  const [user] = await test.db
    .insert(schema.users)
    .values({ email: `${randomUUID()}@test.spotx.dev`, passwordHash: "x" })
    .returning({ id: schema.users.id });
  if (!user) throw new Error("user not created");
  return user.id;
}

/** A program's socket (signed token) for `userId`, connected. */
async function connect(url: string, userId?: bigint): Promise<ClientSocket> {
  const token = userId === undefined ? undefined : await signSocketToken(userId, secretKey, 300);
  const socket: ClientSocket = io(url, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    auth: token === undefined ? {} : { token },
  });
  opened.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** engine.io's polling handshake: the answer, and the session id it opened (if any). */
async function pollingHandshake(url: string) {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  const text = await response.text();
  const sid = text.startsWith("0") ? (JSON.parse(text.slice(1)) as { sid: string }).sid : undefined;
  return { response, text, sid };
}

beforeAll(async () => {
  names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  const env = platformEnv();
  redis = createRedis(env.REDIS_URL);
  etcd = createEtcd(env.ETCD_ENDPOINTS);
  config = new MarketConfigWatcher(etcd, logger("test-config"), names);
  await config.start();
});
afterAll(async () => {
  for (const socket of opened) socket.disconnect();
  for (const { server, sockets } of running) {
    await sockets.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await config?.stop();
  etcd?.close();
  if (redis) {
    const keys = await redis.keys(`${names.namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  await test?.drop();
});

describe("socket.io's HTTP requests pass the request guards", () => {
  it("answers the polling transport with the headers every answer carries", async () => {
    const url = await startGuarded();
    const { response, sid } = await pollingHandshake(url);
    expect(response.status).toBe(200);
    expect(sid).toMatch(/\S+/);
    const csp = response.headers.get("content-security-policy");
    expect(csp).toBe(DATA_CONTENT_SECURITY_POLICY);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  it("refuses a polling POST larger than the body limit with 413", async () => {
    const url = await startGuarded();
    const { sid } = await pollingHandshake(url);
    if (!sid) throw new Error("no session opened");
    const post = (body: string) =>
      fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        headers: { "content-type": "text/plain;charset=UTF-8" },
        body,
      });
    // A message packet ("4") one byte over the limit.
    const over = await post(`4${"x".repeat(LIMITS.maxBodyBytes)}`);
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ label: "INVALID_PARAM_VALUE" });
    expect(over.headers.get("x-content-type-options")).toBe("nosniff");
    // Within the limit, engine.io takes it (a ping-sized packet).
    const small = await post("3");
    expect(small.status).toBe(200);
  });
});

describe("socket.io's resources", () => {
  it("refuses a connection beyond the cap per client address with 429 TOO_MANY_CONNECTIONS", async () => {
    const url = await startGuarded({ maxConnectionsPerAddress: MAX_CONNECTIONS });
    const sessions: string[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const { response, sid } = await pollingHandshake(url);
      expect(response.status).toBe(200);
      if (sid) sessions.push(sid);
    }
    const refused = await pollingHandshake(url);
    expect(refused.response.status).toBe(429);
    expect(JSON.parse(refused.text)).toEqual({
      label: "TOO_MANY_CONNECTIONS",
      message: `at most ${MAX_CONNECTIONS} connections per client address; close one first`,
    });
    // The WebSocket transport is counted alike.
    const socket = io(url, {
      path: "/socket.io",
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    opened.push(socket);
    const outcome = await new Promise<string>((resolve) => {
      socket.once("connect", () => resolve("connected"));
      socket.once("connect_error", () => resolve("refused"));
    });
    expect(outcome).toBe("refused");
    // A session closed (engine.io's close packet) frees its place.
    const closed = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sessions[0]}`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: "1",
    });
    expect(closed.status).toBe(200);
    await eventually(
      async () => (await pollingHandshake(url)).response.status === 200,
      "a handshake admitted once a session closed",
    );
  });

  it("refuses a subscription beyond the cap per socket with TOO_MANY_SUBSCRIPTIONS", async () => {
    const url = await startGuarded({ maxSubscriptionsPerSocket: MAX_SUBSCRIPTIONS });
    const socket = await connect(url);
    const subscribe = (channel: "status" | "ticker", market: string) =>
      socket.emitWithAck("subscribe", { channel, market });
    expect(await subscribe("status", "BTC_USDT")).toEqual({ ok: true });
    expect(await subscribe("status", "ETH_USDT")).toEqual({ ok: true });
    expect(await subscribe("ticker", "BTC_USDT")).toEqual({
      ok: false,
      error: {
        label: "TOO_MANY_SUBSCRIPTIONS",
        message: `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection; unsubscribe from one first`,
      },
    });
    // A room already held costs nothing; one left frees a place.
    expect(await subscribe("status", "BTC_USDT")).toEqual({ ok: true });
    expect(
      await socket.emitWithAck("unsubscribe", { channel: "status", market: "ETH_USDT" }),
    ).toEqual({ ok: true });
    expect(await subscribe("ticker", "BTC_USDT")).toEqual({ ok: true });
  });
});

describe("a user's sockets when their credentials are withdrawn", () => {
  const disconnected = (socket: ClientSocket) =>
    new Promise<string>((resolve) => socket.once("disconnect", resolve));

  it("are disconnected when a password change is announced; other users' are not", async () => {
    const url = await startGuarded();
    const grace = await createUser();
    const other = await createUser();
    const first = await connect(url, grace);
    const second = await connect(url, grace);
    const kept = await connect(url, other);
    const anonymous = await connect(url);
    const ends = [disconnected(first), disconnected(second)];
    await announceCredentialChange(redis, names, { userId: grace, reason: "password_changed" });
    expect(await Promise.all(ends)).toEqual(["io server disconnect", "io server disconnect"]);
    // Still there: a round trip answers.
    expect(await kept.emitWithAck("subscribe", { channel: "status", market: "BTC_USDT" })).toEqual({
      ok: true,
    });
    expect(
      await anonymous.emitWithAck("subscribe", { channel: "status", market: "BTC_USDT" }),
    ).toEqual({ ok: true });
  });

  it("stay connected when one of the user's API keys is revoked (socket.io takes no keys)", async () => {
    const url = await startGuarded();
    const heidi = await createUser();
    const judy = await createUser();
    const socket = await connect(url, heidi);
    const marker = await connect(url, judy);
    const markerGone = disconnected(marker);
    await announceCredentialChange(redis, names, {
      userId: heidi,
      keyId: 1n,
      reason: "key_revoked",
    });
    // Announced after it on the same channel: once this one is handled, so was the first.
    await announceCredentialChange(redis, names, { userId: judy, reason: "user_frozen" });
    expect(await markerGone).toBe("io server disconnect");
    expect(socket.connected).toBe(true);
  });

  it("are disconnected within the re-check period when the user was frozen unannounced", async () => {
    const url = await startGuarded({ recheckUsersEveryMs: 200 });
    const ivan = await createUser();
    const socket = await connect(url, ivan);
    const kept = await connect(url, await createUser());
    const ended = disconnected(socket);
    await test.db.update(schema.users).set({ status: "frozen" }).where(eq(schema.users.id, ivan));
    expect(await ended).toBe("io server disconnect");
    expect(kept.connected).toBe(true);
  });
});
