// socket.io's handshake with a browser session: the session cookie (the access token tRPC
// checks) puts a page's socket in its user's private room; the same cookie sent from a page of
// another site does not (cross-site WebSocket hijacking); a cookie whose session has ended makes
// an anonymous client; and revoking the session (logout) disconnects its sockets. The socket
// server runs in this process on a plain HTTP server, on the real PostgreSQL, Redis and etcd.

import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { ApiServices, disconnectSession, SESSION_COOKIE } from "@spotx/api";
import { DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { createSocketEmitter, type SocketEmitter } from "@spotx/platform/socket-emitter";
import { type Topology, topology } from "@spotx/platform/topology";
import type { ServerToClientEvents } from "@spotx/protocol";
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
let emitter: SocketEmitter<ServerToClientEvents>;
let services: ApiServices;
let url: string;
let host: string;
let userId: bigint;
const secretKey = randomBytes(32);
const opened: ClientSocket[] = [];

beforeAll(async () => {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  names = topology(namespace);
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  const [user] = await test.db
    .insert(schema.users)
    .values({ email: `${namespace}@test.spotx.dev`, passwordHash: "x" })
    .returning({ id: schema.users.id });
  if (!user) throw new Error("user not created");
  userId = user.id;
  const env = platformEnv();
  redis = createRedis(env.REDIS_URL);
  etcd = createEtcd(env.ETCD_ENDPOINTS);
  config = new MarketConfigWatcher(etcd, logger("test-config"), names);
  await config.start();
  emitter = createSocketEmitter<ServerToClientEvents>(redis, names);
  services = new ApiServices({ names, redis, secretKey, emitter });
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
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  host = `127.0.0.1:${port}`;
  url = `http://${host}`;
});
afterAll(async () => {
  for (const socket of opened) socket.disconnect();
  await sockets?.close();
  server?.close();
  await config?.stop();
  etcd?.close();
  if (redis) {
    const keys = await redis.keys(`${names.namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  await test?.drop();
});

/** A signed-in browser's cookie: a live session and its access token. */
async function sessionCookie() {
  const { sessionId } = await services.sessions.create(userId, { ip: null, userAgent: null });
  const token = await services.sessionTokens.sign({ userId, sessionId }, 900);
  return { sessionId, cookie: `${SESSION_COOKIE}=${token}` };
}

async function connect(headers: Record<string, string>) {
  const socket: ClientSocket = io(url, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: headers,
  });
  opened.push(socket);
  const inbox = new Inbox(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  // Every client watches BTC_USDT's status: a message there marks "everything sent before arrived".
  const reply = await socket.emitWithAck("subscribe", { channel: "status", market: "BTC_USDT" });
  expect(reply).toEqual({ ok: true });
  return { socket, inbox };
}

/**
 * Sends a balance to the user's room, then a status message to everyone watching BTC_USDT
 * (same emitter, same Redis channel: delivered in that order). Once the status arrives, the
 * balance has too — if the client is in the user's room.
 */
async function pushToUser(inbox: Inbox): Promise<boolean> {
  const marker = randomUUID();
  const from = inbox.received.length;
  emitter
    .to(names.rooms.user(userId))
    .emit("user.balances", [{ currency: "USDT", available: marker, locked: "0", update_id: 1 }]);
  emitter.to(names.rooms.market("BTC_USDT", "status")).emit("market.status", {
    market: "BTC_USDT",
    halted: false,
    reason: marker,
    source: "config",
    time: Date.now(),
  });
  await inbox.next("market.status", (s) => s.reason === marker, { from });
  return inbox.all("user.balances").some((b) => b[0]?.available === marker);
}

describe("socket.io with a session cookie", () => {
  it("puts a page of this site in its user's room", async () => {
    const { cookie } = await sessionCookie();
    const { inbox } = await connect({ cookie, origin: url });
    expect(await pushToUser(inbox)).toBe(true);
  });

  it("treats the same cookie from another site's page as anonymous", async () => {
    const { cookie } = await sessionCookie();
    const { inbox } = await connect({ cookie, origin: "https://evil.example" });
    expect(await pushToUser(inbox)).toBe(false);
  });

  it("treats a cookie whose session has ended as anonymous", async () => {
    const { cookie, sessionId } = await sessionCookie();
    await services.sessions.revoke(sessionId);
    const { inbox } = await connect({ cookie, origin: url });
    expect(await pushToUser(inbox)).toBe(false);
  });

  it("disconnects a session's sockets when the session is revoked (logout)", async () => {
    const { cookie, sessionId } = await sessionCookie();
    const { socket, inbox } = await connect({ cookie, origin: url });
    expect(await pushToUser(inbox)).toBe(true);
    // Another session of the same user stays connected.
    const other = await sessionCookie();
    const kept = await connect({ cookie: other.cookie, origin: url });
    const closed = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    await services.sessions.revoke(sessionId);
    await disconnectSession(services, sessionId);
    expect(await closed).toBe("io server disconnect");
    expect(await pushToUser(kept.inbox)).toBe(true);
  });

  it("still takes a program's signed token, which wins over a cookie", async () => {
    const { signSocketToken } = await import("@spotx/platform/secrets");
    const token = await signSocketToken(userId, secretKey, 60);
    const socket: ClientSocket = io(url, {
      path: "/socket.io",
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: { token },
      extraHeaders: { cookie: `${SESSION_COOKIE}=not-a-jwt`, host },
    });
    opened.push(socket);
    const inbox = new Inbox(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    await socket.emitWithAck("subscribe", { channel: "status", market: "BTC_USDT" });
    expect(await pushToUser(inbox)).toBe(true);
  });
});
