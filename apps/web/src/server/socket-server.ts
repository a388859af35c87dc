// socket.io on the web's HTTP server (/socket.io). Clients subscribe to a market's public
// rooms (book, trades, ticker, candles, status); a client that proves who it is at the
// handshake is also in its user's private room: a browser by its session cookie (the same
// access token tRPC checks, from a page of this site), a program by `auth.token` (a signed
// socket token). A cookie session's sockets are also in a room of their own, so revoking the
// session (logout, a password change) disconnects them.
// The Redis adapter fans every message out through all web instances: market data and
// settlement publish once, through the Redis emitter, and each instance delivers to its own
// clients. Snapshots for late joiners come from the Redis keys market data keeps current.
// An active operator's browser session may also join the operators room, which receives the
// console's live feed (operator-feed.ts) from this instance; a user's stop-limit orders reach
// their room as they change (user-stops-feed.ts), also from each instance to its own clients.
// Every HTTP request (the polling transport) reaches socket.io through the web server's own
// request handler — after its guards: security headers, body limit, time limit — never through
// a request listener of engine.io's own; upgrades are taken from the server's "upgrade" event.
// Connections per client address and rooms per socket are capped, and a user's sockets are
// disconnected when the user is frozen or changes their password (credential-events).
import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { createAdapter } from "@socket.io/redis-adapter";
import { ApiServices, readCookies, sessionCookieNames, sessionFromAccessToken } from "@spotx/api";
import { CredentialListener } from "@spotx/api/auth/credential-listener";
import {
  type ConnectionSeat,
  ConnectionsPerAddress,
} from "@spotx/api/guards/connections-per-address";
import { CANDLE_INTERVALS, type Database, schema } from "@spotx/db";
import { processSingleton } from "@spotx/platform";
import { breakers, isServiceUnavailable } from "@spotx/platform/breakers";
import type { Etcd3 } from "@spotx/platform/etcd";
import { LockService } from "@spotx/platform/locks";
import type { Logger } from "@spotx/platform/logger";
import type { MarketConfigWatcher, MarketLiveConfig } from "@spotx/platform/market-config";
import { metrics, prometheus } from "@spotx/platform/metrics";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { verifySocketToken } from "@spotx/platform/secrets";
import { clientAddress, isHttps } from "@spotx/platform/service-process";
import type { Topology } from "@spotx/platform/topology";
import {
  type BookSnapshot,
  bookResyncRequest,
  type ClientToServerEvents,
  MARKET_CHANNELS,
  type MarketStatusMessage,
  type ServerToClientEvents,
  type SocketReply,
  type SubscribeRequest,
  subscribeRequest,
  type TickerMessage,
  type TradeMessage,
} from "@spotx/protocol";
import { eq, inArray, sql } from "drizzle-orm";
import { Server as Engine, type Socket as EngineSocket } from "engine.io";
import { Server, type Socket } from "socket.io";
import { webEnv } from "../env";
import { startOperatorFeed } from "./operator-feed";
import { startUserStopsFeed } from "./user-stops-feed";

// Market data publishes one candle room per market and interval.
const CANDLE_ROOMS: ReadonlySet<string> = new Set(CANDLE_INTERVALS);

/** Where socket.io is served (engine.io's path, with its trailing slash). */
const SOCKET_IO_PATH = "/socket.io/";
/** Rooms one socket may subscribe to (market channels and candle intervals). */
export const DEFAULT_SUBSCRIPTIONS_PER_SOCKET = 100;
/** A client's messages are small requests (subscribe, unsubscribe, book.resync): 64 KiB is ample. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** How often the users behind live sockets are checked in the database (a missed announcement). */
const RECHECK_USERS_EVERY_MS = 30_000;

type SocketData = {
  userId: string | null;
  /** The browser session a cookie-authenticated socket belongs to. */
  sessionId: string | null;
  /** The session was an active operator's at the handshake (the operators room is theirs). */
  operator: boolean;
  /** The user's status at the handshake: a user frozen since is disconnected. */
  userStatus: "active" | "frozen" | null;
};
type InterServerEvents = Record<string, never>;
export type SocketServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
export type ClientSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

export const socketMetrics = processSingleton("socket-server.metrics", () => ({
  connections: new prometheus.Gauge({
    name: "spotx_socket_connections",
    help: "socket.io clients connected to this web instance (authenticated=true|false)",
    labelNames: ["authenticated"] as const,
    registers: [metrics.registry],
  }),
  subscriptions: new prometheus.Counter({
    name: "spotx_socket_subscriptions_total",
    help: "Subscribe requests answered, by channel and outcome",
    labelNames: ["channel", "outcome"] as const,
    registers: [metrics.registry],
  }),
  refusedHandshakes: new prometheus.Counter({
    name: "spotx_socket_refused_handshakes_total",
    help: "Connections refused at the handshake: a bad or expired token, too many from one address",
    labelNames: ["reason"] as const,
    registers: [metrics.registry],
  }),
}));

export type SocketServerOptions = {
  /** Where WebSocket upgrades are taken from (or later, with `attach`). */
  server?: http.Server;
  db: Database;
  /** Reads the snapshots market data writes. */
  redis: Redis;
  /** The adapter's own two connections (publish, subscribe) are made from this URL. */
  redisUrl: string;
  names: Topology;
  log: Logger;
  /** The server key socket tokens are checked with. */
  secretKey: Uint8Array;
  /** Live market configuration: halts and resumes are pushed to the market's rooms. */
  marketConfig: MarketConfigWatcher;
  /** The registry the operator console's feed watches; without it the operators room is not served. */
  etcd?: Etcd3;
  /** This web instance's id (its registration's): names its pipeline history for the others. */
  instanceId?: string;
  /** How often the console's feed samples the pipeline for its history with no console open. */
  idleSampleMs?: number;
  /** Connections one client address may hold on this instance (WS_MAX_CONNECTIONS_PER_ADDRESS). */
  maxConnectionsPerAddress?: number;
  /** Rooms one socket may subscribe to (default 100). */
  maxSubscriptionsPerSocket?: number;
  /** How often the users behind live sockets are re-checked (default 30 s). */
  recheckUsersEveryMs?: number;
  /** Trusted reverse proxies, for the client's address (SPOTX_TRUSTED_PROXIES by default). */
  trustedProxies?: number;
};

export type RunningSocketServer = {
  io: SocketServer;
  /** Whether an HTTP request is socket.io's (its polling transport). */
  handles(req: http.IncomingMessage): boolean;
  /** Serves socket.io's HTTP request: call it after the server's request guards. */
  serve(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Takes socket.io's WebSocket upgrades on `server` (others are left alone). */
  attach(server: http.Server): void;
  close(): Promise<void>;
};

const refuse = (label: string, message: string): SocketReply => ({
  ok: false,
  error: { label, message },
});

/** Known market symbols, reloaded from PostgreSQL when asked about one it does not know. */
function marketDirectory(db: Database) {
  let known = new Set<string>();
  let loadedAt = 0;
  return async (symbol: string): Promise<boolean> => {
    if (known.has(symbol)) return true;
    // A market listed since the last load is found within seconds; junk cannot hammer the
    // database faster than once a second.
    if (Date.now() - loadedAt < 1_000) return false;
    loadedAt = Date.now();
    const rows = await db.execute<{ symbol: string }>(sql`SELECT symbol FROM markets`);
    known = new Set(rows.rows.map((r) => r.symbol));
    return known.has(symbol);
  };
}

/**
 * Whether a handshake came from a page of this site: browsers send Origin on WebSocket and
 * cross-origin requests, and a page elsewhere must not ride on the visitor's cookie
 * (cross-site WebSocket hijacking). No Origin at all is a program, which sends no cookie of ours
 * unless it holds one.
 */
function fromThisSite(headers: http.IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  // Present only when a trusted proxy sent it: the web server drops forwarding headers from
  // every request and upgrade otherwise (believeForwardingOnlyFromProxies).
  const forwarded = headers["x-forwarded-host"];
  const host =
    (typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined) ?? headers.host;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export async function startSocketServer(
  options: SocketServerOptions,
): Promise<RunningSocketServer> {
  const { names, log, redis } = options;
  const publisher = createRedis(options.redisUrl);
  const subscriber = publisher.duplicate();
  subscriber.on("error", () => metrics.dependencyErrors.inc({ dependency: "redis" }));
  const io: SocketServer = new Server({
    path: "/socket.io",
    serveClient: false,
    adapter: createAdapter(publisher, subscriber, { key: names.redis.socketIoKey }),
  });
  // engine.io bound by hand rather than attached to the HTTP server: attaching replaces the
  // server's request listeners with its own, and the polling transport would skip the guards.
  const engine = new Engine({ maxHttpBufferSize: MAX_MESSAGE_BYTES });
  const handles = (req: http.IncomingMessage) => (req.url ?? "").startsWith(SOCKET_IO_PATH);

  // Connections per client address, counted from the handshake (no sid yet) on: a seat is
  // taken before engine.io sees the request and released when its connection closes — or when
  // the handshake's request ends without one.
  const caps = new ConnectionsPerAddress(
    options.maxConnectionsPerAddress ?? webEnv.WS_MAX_CONNECTIONS_PER_ADDRESS,
  );
  const seats = new WeakMap<http.IncomingMessage, ConnectionSeat>();
  const opened = new WeakSet<ConnectionSeat>();
  // Before socket.io's own listener: the seat is tied to the connection before anything can close it.
  engine.on("connection", (connection: EngineSocket) => {
    const seat = seats.get(connection.request);
    if (!seat) return;
    opened.add(seat);
    connection.once("close", () => seat.release());
  });
  io.bind(engine);
  /** Takes a seat for a handshake (none for a request of a connection that holds one). */
  const admit = (
    req: http.IncomingMessage,
  ): { refused: string } | { seat: ConnectionSeat | null } => {
    const query = new URL(req.url ?? "/", "http://socket.io").searchParams;
    if (query.has("sid")) return { seat: null }; // a connection that already holds one
    const seat = caps.admit(clientAddress(req, options.trustedProxies));
    if (!seat) {
      socketMetrics.refusedHandshakes.inc({ reason: "too_many_connections" });
      return { refused: JSON.stringify(caps.refusal()) };
    }
    seats.set(req, seat);
    return { seat };
  };
  const releaseUnlessOpened = (seat: ConnectionSeat) => () => {
    if (!opened.has(seat)) seat.release();
  };

  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const admitted = admit(req);
    if ("refused" in admitted) {
      res.writeHead(429, { "content-type": "application/json" });
      res.end(admitted.refused);
      return;
    }
    if (admitted.seat) res.once("close", releaseUnlessOpened(admitted.seat));
    engine.handleRequest(req, res);
  };
  // Next.js (dev) has its own websocket on this server: upgrades not for us are left alone.
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!handles(req)) return;
    const admitted = admit(req);
    if ("refused" in admitted) {
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(admitted.refused)}\r\nConnection: close\r\n\r\n${admitted.refused}`,
      );
      return;
    }
    if (admitted.seat) socket.once("close", releaseUnlessOpened(admitted.seat));
    engine.handleUpgrade(req, socket, head);
  };
  const attached = new Set<http.Server>();
  const attach = (server: http.Server) => {
    if (attached.has(server)) return;
    attached.add(server);
    server.on("upgrade", onUpgrade);
  };
  if (options.server) attach(options.server);

  const marketExists = marketDirectory(options.db);
  // Checks session cookies exactly as tRPC does (signature, live session, the user now).
  const sessionAuth = new ApiServices({
    names,
    redis,
    secretKey: Buffer.from(options.secretKey),
  });

  const marketRooms = (symbol: string) => [
    ...MARKET_CHANNELS.map((channel) => names.rooms.market(symbol, channel)),
    ...CANDLE_INTERVALS.map((interval) => names.rooms.candles(symbol, interval)),
  ];

  const status = (symbol: string, config: MarketLiveConfig): MarketStatusMessage => ({
    market: symbol,
    halted: config.halted,
    reason: config.reason,
    source: "config",
    time: Date.now(),
  });

  // Every web instance watches etcd itself, so each tells only its own clients (io.local):
  // through the adapter, N instances would deliver N copies.
  const onConfig = (symbol: string, config: MarketLiveConfig) => {
    io.local.to(marketRooms(symbol)).emit("market.status", status(symbol, config));
  };
  options.marketConfig.on("change", onConfig);

  // The handshake: an explicit token wins (programs); otherwise a session cookie sent from a
  // page of this site; neither is an anonymous (public rooms only) client. A bad token is
  // refused; a cookie that no longer holds a session just makes the client anonymous (it may
  // still watch the markets), as it would be on the site's pages.
  io.use((socket, next) => {
    socket.data.userId = null;
    socket.data.sessionId = null;
    socket.data.operator = false;
    socket.data.userStatus = null;
    const auth: unknown = socket.handshake.auth;
    const token =
      typeof auth === "object" && auth !== null && "token" in auth ? auth.token : undefined;
    if (token === undefined || token === null || token === "") {
      // The session cookie of the handshake's scheme (`__Host-` under HTTPS).
      const cookieName = sessionCookieNames(isHttps(socket.request)).session;
      const cookie = readCookies(socket.handshake.headers.cookie).get(cookieName);
      if (cookie === undefined || !fromThisSite(socket.handshake.headers)) return next();
      sessionFromAccessToken(cookie, sessionAuth, options.db)
        .then((outcome) => {
          if (outcome.ok) {
            socket.data.userId = String(outcome.session.userId);
            socket.data.sessionId = outcome.session.sessionId;
            // The console's feed is an operator's with two-factor sign-in, like the console.
            socket.data.operator =
              outcome.session.role === "operator" &&
              outcome.session.status === "active" &&
              outcome.session.twoFactor;
            socket.data.userStatus = outcome.session.status;
          } else {
            socketMetrics.refusedHandshakes.inc({ reason: `cookie_${outcome.reason}` });
          }
          next();
        })
        .catch((error: unknown) => next(error instanceof Error ? error : new Error(String(error))));
      return;
    }
    if (typeof token !== "string") {
      socketMetrics.refusedHandshakes.inc({ reason: "invalid" });
      return next(new Error("INVALID_TOKEN"));
    }
    verifySocketToken(token, options.secretKey)
      .then(async (check) => {
        if (!check.ok) {
          socketMetrics.refusedHandshakes.inc({ reason: check.reason });
          return next(new Error(check.reason === "expired" ? "TOKEN_EXPIRED" : "INVALID_TOKEN"));
        }
        // The user's status now: one frozen later is disconnected (see recheckUsers).
        const [user] = await options.db
          .select({ status: schema.users.status })
          .from(schema.users)
          .where(eq(schema.users.id, BigInt(check.userId)));
        if (!user) {
          socketMetrics.refusedHandshakes.inc({ reason: "unknown_user" });
          return next(new Error("INVALID_TOKEN"));
        }
        socket.data.userId = check.userId;
        socket.data.userStatus = user.status;
        next();
      })
      .catch((error: unknown) => next(error instanceof Error ? error : new Error(String(error))));
  });

  async function readJson<T>(key: string): Promise<T | null> {
    // A subscriber waits on this answer: an unavailable Redis fails it fast (SERVICE_UNAVAILABLE).
    const value = await breakers.redis.run(() => redis.get(key));
    return value === null ? null : (JSON.parse(value) as T);
  }

  /** Sends the book snapshot market data last wrote; false when there is none. */
  async function sendBook(socket: ClientSocket, market: string): Promise<boolean> {
    const snapshot = await readJson<BookSnapshot>(names.redis.book(market));
    if (!snapshot) return false;
    socket.emit("book.snapshot", snapshot);
    return true;
  }

  function roomOf(request: SubscribeRequest): string | SocketReply {
    if (request.channel !== "candles") return names.rooms.market(request.market, request.channel);
    if (!request.interval || !CANDLE_ROOMS.has(request.interval)) {
      return refuse("INVALID_PARAM_VALUE", "candles need an interval: 10s, 1m, 5m, … 30d");
    }
    return names.rooms.candles(request.market, request.interval);
  }

  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? DEFAULT_SUBSCRIPTIONS_PER_SOCKET;

  async function subscribe(
    socket: ClientSocket,
    raw: unknown,
    subscribed: Set<string>,
  ): Promise<SocketReply> {
    const parsed = subscribeRequest.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuse(
        "INVALID_PARAM_VALUE",
        `${issue?.path.join(".") || "request"}: ${issue?.message ?? "invalid"}`,
      );
    }
    const request = parsed.data;
    if (!(await marketExists(request.market))) {
      return refuse("INVALID_CURRENCY_PAIR", `no market ${request.market}`);
    }
    const room = roomOf(request);
    if (typeof room !== "string") return room;
    // Counted and taken with nothing awaited in between: concurrent requests cannot both pass.
    if (!subscribed.has(room) && subscribed.size >= maxSubscriptions) {
      return refuse(
        "TOO_MANY_SUBSCRIPTIONS",
        `at most ${maxSubscriptions} subscriptions per connection; unsubscribe from one first`,
      );
    }
    subscribed.add(room);
    // Join first, then read the snapshot: a delta published meanwhile reaches the client too,
    // and its sequence numbers say whether the snapshot already includes it.
    await socket.join(room);
    const market = request.market;
    switch (request.channel) {
      case "book":
        if (!(await sendBook(socket, market))) {
          subscribed.delete(room);
          await socket.leave(room);
          return refuse(
            "SERVER_ERROR",
            `no book snapshot of ${market} yet; subscribe again shortly`,
          );
        }
        break;
      case "ticker": {
        const ticker = await readJson<TickerMessage>(names.redis.ticker(market));
        if (ticker) socket.emit("ticker", ticker);
        break;
      }
      case "trades": {
        const trades = await readJson<TradeMessage[]>(names.redis.trades(market));
        if (trades) socket.emit("trades", { market, trades });
        break;
      }
      case "status":
        socket.emit("market.status", status(market, options.marketConfig.get(market)));
        break;
      case "candles":
        break;
    }
    return { ok: true };
  }

  const operatorFeed = options.etcd
    ? startOperatorFeed({
        io,
        db: options.db,
        etcd: options.etcd,
        locks: new LockService(redis, { prefix: names.locks.keyPrefix }),
        redis,
        names,
        log: log.child({ component: "operator-feed" }),
        // Without a registration's id (tests), one of this process's own.
        instanceId: options.instanceId ?? `web-${process.pid}-${randomUUID().slice(0, 8)}`,
        ...(options.idleSampleMs === undefined ? {} : { idleSampleMs: options.idleSampleMs }),
      })
    : null;

  // A user frozen, or their password changed: their sockets on this instance are disconnected
  // (every instance hears the announcement and disconnects its own). A revoked API key concerns
  // no socket here: socket.io is entered with a session or a socket token, not a key.
  const credentials = new CredentialListener({
    redis,
    names,
    log,
    onChange: (change) => {
      if (change.keyId !== undefined) return;
      io.local.in(names.rooms.user(String(change.userId))).disconnectSockets(true);
    },
  });
  await credentials.start();

  // A user's stop-limit orders as they change (created, cancelled, fired, expired): `user.stops`.
  const stopsFeed = await startUserStopsFeed({
    io,
    db: options.db,
    redis,
    names,
    log: log.child({ component: "user-stops" }),
  });

  /** The announcements' safety net: users frozen (or gone) since their sockets' handshakes. */
  let rechecking = false;
  async function recheckUsers() {
    if (rechecking) return;
    const held = [...io.of("/").sockets.values()].filter((s) => s.data.userId !== null);
    const ids = [...new Set(held.flatMap((s) => (s.data.userId === null ? [] : [s.data.userId])))];
    if (ids.length === 0) return;
    rechecking = true;
    try {
      const rows = await options.db
        .select({ id: schema.users.id, status: schema.users.status })
        .from(schema.users)
        .where(inArray(schema.users.id, ids.map(BigInt)));
      const status = new Map(rows.map((r) => [String(r.id), r.status]));
      for (const socket of held) {
        const now = status.get(socket.data.userId ?? "");
        if (now === undefined || (now === "frozen" && socket.data.userStatus === "active")) {
          socket.disconnect(true);
        }
      }
    } catch (error) {
      log.warn({ err: error }, "could not re-check the users of connected sockets");
    } finally {
      rechecking = false;
    }
  }
  const recheck = setInterval(
    () => void recheckUsers(),
    options.recheckUsersEveryMs ?? RECHECK_USERS_EVERY_MS,
  );
  recheck.unref();

  io.on("connection", (socket) => {
    // The rooms this socket subscribed to (not its own private ones), for the cap.
    const subscribed = new Set<string>();
    const authenticated = socket.data.userId !== null;
    socketMetrics.connections.inc({ authenticated: String(authenticated) });
    socket.on("disconnect", () => {
      socketMetrics.connections.dec({ authenticated: String(authenticated) });
      operatorFeed?.drop(socket.id);
    });
    if (socket.data.userId !== null) void socket.join(names.rooms.user(socket.data.userId));
    if (socket.data.sessionId !== null)
      void socket.join(names.rooms.session(socket.data.sessionId));

    // Every request is answered through its acknowledgement; one without is ignored.
    const answer = (work: () => Promise<SocketReply>, reply: unknown, channel: string) => {
      if (typeof reply !== "function") return;
      work()
        .catch((error: unknown) => {
          if (isServiceUnavailable(error)) return refuse("SERVICE_UNAVAILABLE", error.message);
          log.error({ err: error }, "socket request failed");
          return refuse("SERVER_ERROR", "internal error");
        })
        .then((result) => {
          socketMetrics.subscriptions.inc({ channel, outcome: result.ok ? "ok" : "refused" });
          reply(result);
        });
    };

    socket.on("subscribe", (raw, reply) =>
      answer(
        () => subscribe(socket, raw, subscribed),
        reply,
        subscribeRequest.safeParse(raw).data?.channel ?? "invalid",
      ),
    );
    socket.on("unsubscribe", (raw, reply) =>
      answer(
        async () => {
          const parsed = subscribeRequest.safeParse(raw);
          if (!parsed.success) return refuse("INVALID_PARAM_VALUE", "not a subscription");
          const room = roomOf(parsed.data);
          if (typeof room !== "string") return room;
          subscribed.delete(room);
          await socket.leave(room);
          return { ok: true };
        },
        reply,
        "unsubscribe",
      ),
    );
    socket.on("operator.join", (_raw, reply) =>
      answer(
        async () =>
          operatorFeed
            ? operatorFeed.join(socket)
            : refuse("SERVICE_UNAVAILABLE", "this web instance does not serve the operator feed"),
        reply,
        "operator",
      ),
    );
    socket.on("operator.leave", (_raw, reply) =>
      answer(async () => operatorFeed?.leave(socket) ?? { ok: true }, reply, "operator"),
    );
    socket.on("book.resync", (raw, reply) =>
      answer(
        async () => {
          const parsed = bookResyncRequest.safeParse(raw);
          if (!parsed.success) return refuse("INVALID_PARAM_VALUE", "book.resync needs a market");
          const market = parsed.data.market;
          if (!socket.rooms.has(names.rooms.market(market, "book"))) {
            return refuse("INVALID_PARAM_VALUE", `not subscribed to the ${market} book`);
          }
          if (!(await sendBook(socket, market))) {
            return refuse("SERVER_ERROR", `no book snapshot of ${market} yet; ask again shortly`);
          }
          return { ok: true };
        },
        reply,
        "book.resync",
      ),
    );
  });

  return {
    io,
    handles,
    serve,
    attach,
    async close() {
      clearInterval(recheck);
      for (const server of attached) server.off("upgrade", onUpgrade);
      await credentials.stop();
      await stopsFeed.close();
      options.marketConfig.off("change", onConfig);
      await operatorFeed?.close();
      await new Promise<void>((resolve) => {
        // Closes the clients and the adapter; the HTTP server belongs to the caller.
        io.close(() => resolve());
        io.disconnectSockets(true);
      });
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
