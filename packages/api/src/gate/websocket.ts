// gate.io's spot WebSocket API v4 on /ws/v4/ (the `ws` library, on the web's HTTP server beside
// socket.io). Requests `{time, id, channel, event, payload, auth?}` — `time` within 60 s — are
// acknowledged `{time, time_ms, id, channel, event, payload, error: null, result: {status:
// "success"}}` or refused with `error: {code, message}` (1 bad body, 2 bad argument, 3 server
// error, 4 authentication); updates are `{time, time_ms, channel, event: "update", result}`.
// Public channels follow market data (tickers, trades, candlesticks, four book flavours); the
// signed ones (orders, usertrades, balances, priceorders) the user's private pushes. Protocol pings are
// answered by `ws`; the server pings each client and drops one that stops answering.
// Resources are bounded: connections per client address (per instance), subscriptions per
// connection, and one shared publisher per book channel key (book-publishers.ts). A signed
// subscription ends when its key is revoked or its user frozen (announced on Redis, and
// re-checked on a timer in case an announcement was lost).
import type http from "node:http";
import type { Duplex } from "node:stream";
import { CANDLE_INTERVALS, schema } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import type { CandleMessage, TickerMessage, TradesMessage } from "@spotx/protocol";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { type WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import type { CredentialChange, CredentialChangeReason } from "../auth/credential-events";
import { CredentialListener } from "../auth/credential-listener";
import {
  type ConnectionSeat,
  ConnectionsPerAddress,
  DEFAULT_CONNECTIONS_PER_ADDRESS,
} from "../guards/connections-per-address";
import type { RateLimits } from "../guards/rate-limits";
import type { ApiCaller, ApiKeyAuthenticator } from "./authenticate";
import { SIGNATURE_WINDOW_SECONDS } from "./authenticate";
import { BookKeeper } from "./book-keeper";
import { BookPublishers, type FrameSink, type PublisherView, updateFrame } from "./book-publishers";
import { followBookTicker } from "./book-ticker";
import type { GateServices } from "./call";
import { GateError, toGateError } from "./errors";
import type { GateMarket } from "./market-directory";
import { ticker as currentTicker } from "./market-snapshots";
import { PriceOrderFeed } from "./price-order-feed";
import { SocketRoomFeed } from "./socket-room-feed";
import { UserFeed } from "./user-feed";
import { GateWsTradingApi, type WsApiSession } from "./ws-trading";

export const GATE_WS_PATHS: ReadonlySet<string> = new Set(["/ws/v4/", "/ws/v4"]);
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Subscriptions one connection may hold (channel × payload entry). */
export const DEFAULT_SUBSCRIPTIONS_PER_CONNECTION = 200;
const MAX_REQUESTS_PER_SECOND = 50;
/** How often the keys behind live signed subscriptions are checked against the database. */
const RECHECK_CREDENTIALS_EVERY_MS = 30_000;
const PING_EVERY_MS = 20_000;
/** A client that cannot keep up is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export const WS_ERROR = { BAD_BODY: 1, BAD_ARGUMENT: 2, SERVER: 3, AUTH: 4 } as const;

const request = z.object({
  time: z.number().int(),
  id: z.number().int().optional(),
  channel: z.string().min(1).max(64),
  event: z.string().max(32).optional(),
  payload: z.array(z.string().max(64)).max(100).optional(),
  auth: z
    .object({ method: z.string(), KEY: z.string().max(200), SIGN: z.string().max(200) })
    .optional(),
});
type Request = z.infer<typeof request>;

class ChannelError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Subscription = {
  stop(): void;
  channel: string;
  /** The payload entry it was subscribed with ("!all" or the pairs, for a signed channel). */
  entry: string;
  /** Who a signed channel was admitted for: it ends when their credentials do. */
  caller?: ApiCaller;
};

/** A subscription as a channel starts it (the request's channel and entry are added to it). */
type Started = Omit<Subscription, "channel" | "entry">;

type Connection = {
  ws: WebSocket;
  ip: string | null;
  /** Sends one serialized frame (what the shared book publishers call). */
  sink: FrameSink;
  alive: boolean;
  /** channel + "\u0000" + payload entry → its subscription. */
  subscriptions: Map<string, Subscription>;
  requests: { second: number; count: number };
  /** Its standing with the trading API (event "api", ws-trading.ts). */
  api: WsApiSession;
};

export type GateWebSocketOptions = {
  services: GateServices;
  authenticator: ApiKeyAuthenticator;
  rateLimits: RateLimits;
  log: Logger;
  clientAddress: (req: http.IncomingMessage) => string | null;
  /** Connections one client address may hold on this instance (default 50). */
  maxConnectionsPerAddress?: number;
  /** Subscriptions one connection may hold (default 200). */
  maxSubscriptionsPerConnection?: number;
  /** How often signed subscriptions' keys are re-checked in the database (default 30 s). */
  recheckCredentialsEveryMs?: number;
};

/** What a client is told when its signed subscription ends, by reason. */
const ENDED: Record<CredentialChangeReason, string> = {
  key_revoked: "the API key was revoked; this subscription has ended",
  user_frozen: "the account was frozen; this subscription has ended",
  password_changed: "the account's password was changed; this subscription has ended",
};

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class GateWebSocketServer {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  private readonly feed: SocketRoomFeed;
  private readonly books: BookKeeper;
  private readonly publishers: BookPublishers;
  private readonly users: UserFeed;
  private readonly priceOrders: PriceOrderFeed;
  private readonly trading: GateWsTradingApi;
  private readonly credentials: CredentialListener;
  private readonly caps: ConnectionsPerAddress;
  private readonly maxSubscriptions: number;
  private readonly connections = new Set<Connection>();
  private heartbeat: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private rechecking = false;
  private started: Promise<void> | undefined;
  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (!GATE_WS_PATHS.has(path)) return; // socket.io's or Next's
    void this.upgrade(req, socket, head);
  };

  constructor(private readonly options: GateWebSocketOptions) {
    const { services, log } = options;
    this.feed = new SocketRoomFeed({ redis: services.redis, names: services.names, log });
    this.books = new BookKeeper({ feed: this.feed, services, names: services.names, log });
    this.publishers = new BookPublishers(this.books);
    this.users = new UserFeed({ feed: this.feed, services, names: services.names, log });
    this.priceOrders = new PriceOrderFeed({ services, log });
    this.trading = new GateWsTradingApi({
      services,
      authenticator: options.authenticator,
      rateLimits: options.rateLimits,
      log,
    });
    this.credentials = new CredentialListener({
      redis: services.redis,
      names: services.names,
      log,
      onChange: (change) => this.credentialsChanged(change),
    });
    this.caps = new ConnectionsPerAddress(
      options.maxConnectionsPerAddress ?? DEFAULT_CONNECTIONS_PER_ADDRESS,
    );
    this.maxSubscriptions =
      options.maxSubscriptionsPerConnection ?? DEFAULT_SUBSCRIPTIONS_PER_CONNECTION;
  }

  /** The book publishers running now (one timer each), for operators and tests. */
  bookPublishers(): { timers: number; publishers: PublisherView[] } {
    return { timers: this.publishers.timers(), publishers: this.publishers.list() };
  }

  attach(server: http.Server): void {
    this.started ??= this.subscribeFeed();
    server.on("upgrade", this.onUpgrade);
    this.heartbeat = setInterval(() => {
      for (const connection of this.connections) {
        if (!connection.alive) {
          connection.ws.terminate();
          continue;
        }
        connection.alive = false;
        connection.ws.ping();
      }
    }, PING_EVERY_MS);
    this.heartbeat.unref();
    this.recheck = setInterval(
      () => void this.recheckCredentials(),
      this.options.recheckCredentialsEveryMs ?? RECHECK_CREDENTIALS_EVERY_MS,
    );
    this.recheck.unref();
  }

  /**
   * Starts the feed and the credential listener; a failure is seen by the next upgrade that
   * awaits it, never unhandled.
   */
  private subscribeFeed(): Promise<void> {
    const attempt = Promise.all([
      this.feed.start(),
      this.credentials.start(),
      this.priceOrders.start(),
    ]).then(() => undefined);
    attempt.catch((error: unknown) =>
      this.options.log.warn({ err: error }, "the WebSocket feed could not subscribe to Redis"),
    );
    return attempt;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.recheck);
    for (const connection of this.connections) connection.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.publishers.close();
    await this.started?.catch(() => undefined);
    await this.credentials.stop();
    await this.feed.stop();
    await this.priceOrders.stop();
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
    const ip = this.options.clientAddress(req);
    // Taken before anything is awaited, so a burst of upgrades cannot all pass the count.
    const seat = this.caps.admit(ip);
    if (!seat) {
      const body = JSON.stringify(this.caps.refusal());
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    try {
      try {
        await this.started;
      } catch (error) {
        // The feed could not subscribe (Redis was down): the next client tries again.
        this.started = this.subscribeFeed();
        throw error;
      }
      const verdict = await this.options.rateLimits.consume("reads", { ip });
      if (!verdict.allowed) {
        seat.release();
        socket.end(
          `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${verdict.retryAfterSeconds}\r\nConnection: close\r\n\r\n`,
        );
        return;
      }
    } catch (error) {
      seat.release();
      this.options.log.warn({ err: error }, "WebSocket upgrade refused");
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    // A handshake ws refuses (or a client gone meanwhile) never gets to `connected`.
    socket.once("close", () => seat.release());
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, ip, seat));
  }

  private connected(ws: WebSocket, ip: string | null, seat: ConnectionSeat) {
    const connection: Connection = {
      ws,
      ip,
      sink: (text) => this.sendText(connection, text),
      alive: true,
      subscriptions: new Map(),
      requests: { second: 0, count: 0 },
      api: this.trading.session(ip),
    };
    this.connections.add(connection);
    ws.on("pong", () => {
      connection.alive = true;
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        this.refuse(connection, null, WS_ERROR.BAD_BODY, "messages are JSON text");
        return;
      }
      void this.onMessage(connection, data.toString());
    });
    ws.on("close", () => {
      seat.release();
      this.connections.delete(connection);
      for (const subscription of connection.subscriptions.values()) subscription.stop();
      connection.subscriptions.clear();
    });
    ws.on("error", () => ws.terminate());
  }

  private async onMessage(connection: Connection, text: string) {
    const second = nowSeconds();
    if (connection.requests.second !== second) connection.requests = { second, count: 0 };
    connection.requests.count += 1;
    if (connection.requests.count > MAX_REQUESTS_PER_SECOND) {
      connection.ws.close(1008, "too many requests");
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.refuse(connection, null, WS_ERROR.BAD_BODY, "the message is not JSON");
      return;
    }
    if (typeof raw === "object" && raw !== null && (raw as { event?: unknown }).event === "api") {
      // The trading API: its own envelope and answers (ws-trading.ts).
      await this.trading.handle(connection.api, text, raw, (frame) => this.send(connection, frame));
      return;
    }
    const parsed = request.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.refuse(
        connection,
        raw,
        WS_ERROR.BAD_BODY,
        `${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`,
      );
      return;
    }
    const message = parsed.data;
    if (Math.abs(nowSeconds() - message.time) > SIGNATURE_WINDOW_SECONDS) {
      this.refuse(connection, message, WS_ERROR.BAD_ARGUMENT, "time is more than 60 s from now");
      return;
    }
    if (message.channel === "spot.ping") {
      this.send(connection, {
        time: nowSeconds(),
        time_ms: Date.now(),
        id: message.id,
        channel: "spot.pong",
        event: "",
        error: null,
        result: null,
      });
      return;
    }
    try {
      if (message.event === "subscribe") await this.subscribe(connection, message);
      else if (message.event === "unsubscribe") this.unsubscribe(connection, message);
      else throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "event must be subscribe or unsubscribe");
      this.send(connection, {
        time: nowSeconds(),
        time_ms: Date.now(),
        id: message.id,
        channel: message.channel,
        event: message.event,
        payload: message.payload ?? [],
        error: null,
        result: { status: "success" },
      });
    } catch (error) {
      if (error instanceof ChannelError) {
        this.refuse(connection, message, error.code, error.message);
      } else if (error instanceof GateError && error.status < 500) {
        const auth = error.status === 401 || error.status === 403;
        this.refuse(
          connection,
          message,
          auth ? WS_ERROR.AUTH : WS_ERROR.BAD_ARGUMENT,
          error.message,
        );
      } else {
        const failure = toGateError(error, this.options.log, { channel: message.channel });
        this.refuse(connection, message, WS_ERROR.SERVER, failure.message);
      }
    }
  }

  private refuse(connection: Connection, message: unknown, code: number, text: string) {
    const m = (typeof message === "object" && message !== null ? message : {}) as Partial<Request>;
    this.send(connection, {
      time: nowSeconds(),
      time_ms: Date.now(),
      id: typeof m.id === "number" ? m.id : undefined,
      channel: typeof m.channel === "string" ? m.channel : "",
      event: typeof m.event === "string" ? m.event : "",
      error: { code, message: text },
      result: null,
    });
  }

  private send(connection: Connection, message: unknown) {
    this.sendText(connection, JSON.stringify(message));
  }

  private sendText(connection: Connection, text: string) {
    const { ws } = connection;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(text);
  }

  private update(connection: Connection, channel: string, result: unknown) {
    this.sendText(connection, updateFrame(channel, result));
  }

  private unsubscribe(connection: Connection, message: Request) {
    const entries = message.payload && message.payload.length > 0 ? message.payload : [""];
    for (const entry of entries) {
      const key = `${message.channel}\u0000${entry}`;
      connection.subscriptions.get(key)?.stop();
      connection.subscriptions.delete(key);
    }
  }

  private async subscribe(connection: Connection, message: Request) {
    const payload = message.payload ?? [];
    const { channel } = message;
    // Every entry is checked before any is added: a request is taken whole or not at all.
    const wanted = new Map<string, () => Subscription>();
    const want = (entry: string, start: () => Started) => {
      if (!wanted.has(entry)) wanted.set(entry, () => ({ ...start(), channel, entry }));
    };
    const market = (symbol: string | undefined) => {
      if (symbol === undefined)
        throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "payload needs a currency pair");
      return this.options.services.markets.market(symbol);
    };
    switch (channel) {
      case "spot.tickers":
      case "spot.trades": {
        if (payload.length === 0)
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "payload lists currency pairs");
        const markets = await Promise.all(payload.map((p) => market(p)));
        for (const m of markets) {
          want(m.symbol, () =>
            channel === "spot.tickers" ? this.tickers(connection, m) : this.trades(connection, m),
          );
        }
        break;
      }
      case "spot.book_ticker": {
        if (payload.length === 0)
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "payload lists currency pairs");
        const markets = await Promise.all(payload.map((p) => market(p)));
        for (const m of markets) {
          want(m.symbol, () => ({ stop: followBookTicker(this.publishers, connection.sink, m) }));
        }
        break;
      }
      case "spot.candlesticks": {
        const [interval, pair] = payload;
        if (!interval || !(CANDLE_INTERVALS as readonly string[]).includes(interval)) {
          throw new ChannelError(
            WS_ERROR.BAD_ARGUMENT,
            `interval must be one of ${CANDLE_INTERVALS.join(", ")}`,
          );
        }
        const m = await market(pair);
        want(`${interval}_${m.symbol}`, () => this.candles(connection, m, interval));
        break;
      }
      case "spot.order_book": {
        const [pair, level, interval] = payload;
        const m = await market(pair);
        const depth = Number(level);
        if (!["5", "10", "20", "50", "100"].includes(level ?? "")) {
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "level must be 5, 10, 20, 50 or 100");
        }
        if (interval !== "100ms" && interval !== "1000ms") {
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "interval must be 100ms or 1000ms");
        }
        const everyMs = interval === "100ms" ? 100 : 1_000;
        want(m.symbol, () => ({
          stop: this.publishers.fullBook(connection.sink, m, depth, everyMs),
        }));
        break;
      }
      case "spot.order_book_update": {
        const [pair, interval] = payload;
        const m = await market(pair);
        if (interval !== "100ms" && interval !== "1000ms" && interval !== "20ms") {
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "interval must be 20ms, 100ms or 1000ms");
        }
        // Every changed level at each rate (gate.io's 20ms stream covers only its top 20 levels;
        // spotx sends all of them, so a book kept from REST's id stays whole at either rate).
        const everyMs = interval === "1000ms" ? 1_000 : interval === "20ms" ? 20 : 100;
        want(m.symbol, () => ({ stop: this.publishers.bookUpdates(connection.sink, m, everyMs) }));
        break;
      }
      case "spot.obu": {
        if (payload.length === 0)
          throw new ChannelError(
            WS_ERROR.BAD_ARGUMENT,
            'payload lists books like "ob.BTC_USDT.50"',
          );
        for (const name of payload) {
          const match = /^ob\.([A-Z0-9]{2,12}_[A-Z0-9]{2,12})\.(50|400)$/.exec(name);
          if (!match)
            throw new ChannelError(
              WS_ERROR.BAD_ARGUMENT,
              `${name}: expected ob.<pair>.50 or ob.<pair>.400`,
            );
          const m = await market(match[1]);
          const depth = Number(match[2]);
          want(name, () => ({
            stop: this.publishers.limitedBook(connection.sink, m, name, depth),
          }));
        }
        break;
      }
      case "spot.orders":
      case "spot.usertrades":
      case "spot.balances": {
        const caller = await this.authenticate(connection, message);
        const pairs = channel === "spot.balances" ? ["!all"] : payload;
        if (pairs.length === 0)
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, 'payload lists currency pairs or "!all"');
        const symbols = pairs.includes("!all")
          ? null
          : new Set((await Promise.all(pairs.map((p) => market(p)))).map((m) => m.symbol));
        want(symbols === null ? "!all" : [...symbols].sort().join(","), () => ({
          stop: this.userChannel(connection, channel, caller, symbols),
          caller,
        }));
        break;
      }
      case "spot.priceorders": {
        // Each update's result is one SpotPriceTriggeredOrder (GATE_API_MORE.md, spotx's decisions).
        const caller = await this.authenticate(connection, message);
        if (payload.length === 0)
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, 'payload lists currency pairs or "!all"');
        const symbols = payload.includes("!all")
          ? null
          : new Set((await Promise.all(payload.map((p) => market(p)))).map((m) => m.symbol));
        want(symbols === null ? "!all" : [...symbols].sort().join(","), () => ({
          stop: this.priceOrders.follow(caller.userId, (order) => {
            if (symbols === null || symbols.has(order.market)) {
              this.update(connection, channel, order);
            }
          }),
          caller,
        }));
        break;
      }
      default:
        throw new ChannelError(WS_ERROR.BAD_ARGUMENT, `unknown channel ${channel}`);
    }
    // Counted and added with nothing awaited in between: concurrent requests cannot both pass.
    const fresh = [...wanted].filter(
      ([entry]) => !connection.subscriptions.has(`${channel}\u0000${entry}`),
    );
    if (connection.subscriptions.size + fresh.length > this.maxSubscriptions) {
      throw new ChannelError(
        WS_ERROR.BAD_ARGUMENT,
        `at most ${this.maxSubscriptions} subscriptions per connection (${connection.subscriptions.size} held, ${fresh.length} asked)`,
      );
    }
    if (connection.ws.readyState !== connection.ws.OPEN) return; // closed while authenticating
    for (const [entry, start] of fresh) {
      connection.subscriptions.set(`${channel}\u0000${entry}`, start());
    }
  }

  private async authenticate(connection: Connection, message: Request): Promise<ApiCaller> {
    const auth = message.auth;
    if (auth?.method !== "api_key") {
      throw new ChannelError(
        WS_ERROR.AUTH,
        'this channel needs auth: {method: "api_key", KEY, SIGN}',
      );
    }
    return this.options.authenticator.authenticateChannel({
      key: auth.KEY,
      sign: auth.SIGN,
      channel: message.channel,
      event: message.event ?? "",
      time: message.time,
      ip: connection.ip,
    });
  }

  // ------------------------------------------------------------------ public channels

  private tickers(connection: Connection, m: GateMarket): Started {
    const names = this.options.services.names;
    // The current one first, so a client has a value before the next trade.
    currentTicker(this.options.services, m)
      .then((ticker) => this.update(connection, "spot.tickers", ticker))
      .catch((error: unknown) => this.options.log.warn({ err: error }, "no initial ticker"));
    const unlisten = this.feed.listen(names.rooms.market(m.symbol, "ticker"), (event, payload) => {
      if (event !== "ticker") return;
      const { time: _time, ...ticker } = payload as TickerMessage;
      this.update(connection, "spot.tickers", ticker);
    });
    return { stop: unlisten };
  }

  private trades(connection: Connection, m: GateMarket): Started {
    const names = this.options.services.names;
    const unlisten = this.feed.listen(names.rooms.market(m.symbol, "trades"), (event, payload) => {
      if (event !== "trades") return;
      for (const trade of (payload as TradesMessage).trades) {
        this.update(connection, "spot.trades", {
          id: trade.id,
          create_time: trade.create_time,
          create_time_ms: trade.create_time_ms,
          side: trade.side,
          currency_pair: trade.currency_pair,
          amount: trade.amount,
          price: trade.price,
        });
      }
    });
    return { stop: unlisten };
  }

  private candles(connection: Connection, m: GateMarket, interval: string): Started {
    const names = this.options.services.names;
    const unlisten = this.feed.listen(names.rooms.candles(m.symbol, interval), (event, payload) => {
      if (event !== "candle") return;
      const c = payload as CandleMessage;
      this.update(connection, "spot.candlesticks", {
        t: c.t,
        v: c.v,
        c: c.c,
        h: c.h,
        l: c.l,
        o: c.o,
        n: c.n,
        a: c.a,
        w: c.w,
      });
    });
    return { stop: unlisten };
  }

  // ------------------------------------------------------------------ signed channels

  private userChannel(
    connection: Connection,
    channel: "spot.orders" | "spot.usertrades" | "spot.balances",
    caller: ApiCaller,
    symbols: ReadonlySet<string> | null,
  ): () => void {
    const wanted = (pair: string) => symbols === null || symbols.has(pair);
    return this.users.follow(caller.userId, {
      orders: (orders) => {
        if (channel !== "spot.orders") return;
        const mine = orders.filter((o) => wanted(o.currency_pair));
        if (mine.length > 0) this.update(connection, channel, mine);
      },
      trades: (trades) => {
        if (channel !== "spot.usertrades") return;
        const mine = trades.filter((t) => wanted(t.currency_pair));
        if (mine.length > 0) this.update(connection, channel, mine);
      },
      balances: (balances) => {
        if (channel === "spot.balances") this.update(connection, channel, balances);
      },
    });
  }

  // ------------------------------------------------------------------ credentials withdrawn

  /** An announced change: the signed subscriptions it concerns end now. */
  private credentialsChanged(change: CredentialChange) {
    this.endSigned(
      (caller) =>
        caller.userId === change.userId &&
        (change.keyId === undefined || caller.keyId === change.keyId),
      () => change.reason,
    );
  }

  /**
   * The announcements' safety net: every key behind a live signed subscription, looked up in one
   * query. A key revoked (or gone), or a user frozen since the subscription was admitted, ends it.
   */
  private async recheckCredentials() {
    if (this.rechecking) return;
    const held = new Set<bigint>();
    for (const connection of this.connections) {
      for (const subscription of connection.subscriptions.values()) {
        if (subscription.caller) held.add(subscription.caller.keyId);
      }
    }
    if (held.size === 0) return;
    this.rechecking = true;
    try {
      const { apiKeys, users } = schema;
      const rows = await this.options.services.db
        .select({ id: apiKeys.id, status: users.status })
        .from(apiKeys)
        .innerJoin(users, eq(users.id, apiKeys.userId))
        .where(and(inArray(apiKeys.id, [...held]), isNull(apiKeys.revokedAt)));
      const live = new Map(rows.map((row) => [row.id, row.status]));
      this.endSigned(
        (caller) => {
          const status = live.get(caller.keyId);
          return status === undefined || (status === "frozen" && caller.userStatus === "active");
        },
        (caller) => (live.has(caller.keyId) ? "user_frozen" : "key_revoked"),
      );
    } catch (error) {
      this.options.log.warn({ err: error }, "could not re-check the keys of signed subscriptions");
    } finally {
      this.rechecking = false;
    }
  }

  /** Ends the signed subscriptions whose caller `ends`, telling each client why (code 4). */
  private endSigned(
    ends: (caller: ApiCaller) => boolean,
    reason: (caller: ApiCaller) => CredentialChangeReason,
  ) {
    for (const connection of this.connections) {
      for (const [key, subscription] of connection.subscriptions) {
        const { caller } = subscription;
        if (!caller || !ends(caller)) continue;
        subscription.stop();
        connection.subscriptions.delete(key);
        this.send(connection, {
          time: nowSeconds(),
          time_ms: Date.now(),
          channel: subscription.channel,
          event: "unsubscribe",
          payload: subscription.entry.split(","),
          error: { code: WS_ERROR.AUTH, message: ENDED[reason(caller)] },
          result: null,
        });
      }
    }
  }
}
