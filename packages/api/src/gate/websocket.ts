// gate.io's spot WebSocket API v4 on /ws/v4/ (the `ws` library, on the web's HTTP server beside
// socket.io). Requests `{time, id, channel, event, payload, auth?}` — `time` within 60 s — are
// acknowledged `{time, time_ms, id, channel, event, payload, error: null, result: {status:
// "success"}}` or refused with `error: {code, message}` (1 bad body, 2 bad argument, 3 server
// error, 4 authentication); updates are `{time, time_ms, channel, event: "update", result}`.
// Public channels follow market data (tickers, trades, candlesticks, three book flavours); the
// signed ones (orders, usertrades, balances) the user's private pushes. Protocol pings are
// answered by `ws`; the server pings each client and drops one that stops answering.
import type http from "node:http";
import type { Duplex } from "node:stream";
import { CANDLE_INTERVALS } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import type {
  BookDelta,
  BookLevel,
  CandleMessage,
  TickerMessage,
  TradesMessage,
} from "@spotx/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import type { RateLimits } from "../guards/rate-limits";
import type { ApiCaller, ApiKeyAuthenticator } from "./authenticate";
import { SIGNATURE_WINDOW_SECONDS } from "./authenticate";
import { BOOK_DEPTH, BookKeeper } from "./book-keeper";
import type { GateServices } from "./call";
import { GateError, toGateError } from "./errors";
import type { GateMarket } from "./market-directory";
import { ticker as currentTicker } from "./market-snapshots";
import { SocketRoomFeed } from "./socket-room-feed";
import { UserFeed } from "./user-feed";

export const GATE_WS_PATHS: ReadonlySet<string> = new Set(["/ws/v4/", "/ws/v4"]);
const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_SUBSCRIPTIONS = 200;
const MAX_REQUESTS_PER_SECOND = 50;
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

type Subscription = { stop(): void };

type Connection = {
  ws: WebSocket;
  ip: string | null;
  alive: boolean;
  /** channel + "\u0000" + payload entry → its subscription. */
  subscriptions: Map<string, Subscription>;
  requests: { second: number; count: number };
};

export type GateWebSocketOptions = {
  services: GateServices;
  authenticator: ApiKeyAuthenticator;
  rateLimits: RateLimits;
  log: Logger;
  clientAddress: (req: http.IncomingMessage) => string | null;
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
  private readonly users: UserFeed;
  private readonly connections = new Set<Connection>();
  private heartbeat: NodeJS.Timeout | undefined;
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
    this.users = new UserFeed({ feed: this.feed, services, names: services.names, log });
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
  }

  /** Starts the feed; a failure is seen by the next upgrade that awaits it, never unhandled. */
  private subscribeFeed(): Promise<void> {
    const attempt = this.feed.start();
    attempt.catch((error: unknown) =>
      this.options.log.warn({ err: error }, "the WebSocket feed could not subscribe to Redis"),
    );
    return attempt;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const connection of this.connections) connection.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await this.started?.catch(() => undefined);
    await this.feed.stop();
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
    const ip = this.options.clientAddress(req);
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
        socket.end(
          `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${verdict.retryAfterSeconds}\r\nConnection: close\r\n\r\n`,
        );
        return;
      }
    } catch (error) {
      this.options.log.warn({ err: error }, "WebSocket upgrade refused");
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, ip));
  }

  private connected(ws: WebSocket, ip: string | null) {
    const connection: Connection = {
      ws,
      ip,
      alive: true,
      subscriptions: new Map(),
      requests: { second: 0, count: 0 },
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
    const { ws } = connection;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  }

  private update(connection: Connection, channel: string, result: unknown) {
    this.send(connection, {
      time: nowSeconds(),
      time_ms: Date.now(),
      channel,
      event: "update",
      result,
    });
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
    const add = (entry: string, start: () => Subscription) => {
      const key = `${message.channel}\u0000${entry}`;
      if (connection.subscriptions.has(key)) return;
      if (connection.subscriptions.size >= MAX_SUBSCRIPTIONS) {
        throw new ChannelError(WS_ERROR.BAD_ARGUMENT, `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
      }
      connection.subscriptions.set(key, start());
    };
    const market = (symbol: string | undefined) => {
      if (symbol === undefined)
        throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "payload needs a currency pair");
      return this.options.services.markets.market(symbol);
    };
    const { channel } = message;
    switch (channel) {
      case "spot.tickers":
      case "spot.trades": {
        if (payload.length === 0)
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "payload lists currency pairs");
        const markets = await Promise.all(payload.map((p) => market(p)));
        for (const m of markets) {
          add(m.symbol, () =>
            channel === "spot.tickers" ? this.tickers(connection, m) : this.trades(connection, m),
          );
        }
        return;
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
        add(`${interval}_${m.symbol}`, () => this.candles(connection, m, interval));
        return;
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
        add(m.symbol, () =>
          this.fullBook(connection, m, depth, interval === "100ms" ? 100 : 1_000),
        );
        return;
      }
      case "spot.order_book_update": {
        const [pair, interval] = payload;
        const m = await market(pair);
        if (interval !== "100ms" && interval !== "1000ms" && interval !== "20ms") {
          throw new ChannelError(WS_ERROR.BAD_ARGUMENT, "interval must be 20ms, 100ms or 1000ms");
        }
        add(m.symbol, () => this.bookUpdates(connection, m, interval === "1000ms" ? 1_000 : 100));
        return;
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
          add(name, () => this.limitedBook(connection, m, name, Number(match[2])));
        }
        return;
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
        add(symbols === null ? "!all" : [...symbols].sort().join(","), () =>
          this.userChannel(connection, channel, caller, symbols),
        );
        return;
      }
      default:
        throw new ChannelError(WS_ERROR.BAD_ARGUMENT, `unknown channel ${channel}`);
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

  private tickers(connection: Connection, m: GateMarket): Subscription {
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

  private trades(connection: Connection, m: GateMarket): Subscription {
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

  private candles(connection: Connection, m: GateMarket, interval: string): Subscription {
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

  /** spot.order_book: the top `depth` levels every `everyMs`, when they changed. */
  private fullBook(
    connection: Connection,
    m: GateMarket,
    depth: number,
    everyMs: number,
  ): Subscription {
    const stopFollowing = this.books.follow(m, {});
    let sentSeq = -1;
    const push = () => {
      const view = this.books.levels(m.symbol, depth);
      if (!view || view.seq === sentSeq) return;
      sentSeq = view.seq;
      this.update(connection, "spot.order_book", {
        t: Date.now(),
        lastUpdateId: view.seq,
        s: m.symbol,
        bids: view.bids,
        asks: view.asks,
      });
    };
    const timer = setInterval(push, everyMs);
    timer.unref();
    setTimeout(push, 20).unref();
    return {
      stop() {
        clearInterval(timer);
        stopFollowing();
      },
    };
  }

  /** spot.order_book_update: the deltas of each interval merged, U/u the sequence numbers covered. */
  private bookUpdates(connection: Connection, m: GateMarket, everyMs: number): Subscription {
    let pending: {
      U: number;
      u: number;
      bids: Map<string, string>;
      asks: Map<string, string>;
    } | null = null;
    const stopFollowing = this.books.follow(m, {
      delta: (delta: BookDelta) => {
        pending ??= { U: delta.U, u: delta.u, bids: new Map(), asks: new Map() };
        pending.u = delta.u;
        for (const [price, amount] of delta.bids) pending.bids.set(price, amount);
        for (const [price, amount] of delta.asks) pending.asks.set(price, amount);
      },
    });
    const timer = setInterval(() => {
      if (!pending) return;
      const now = Date.now();
      this.update(connection, "spot.order_book_update", {
        t: now,
        e: "depthUpdate",
        E: Math.floor(now / 1000),
        s: m.symbol,
        U: pending.U,
        u: pending.u,
        b: [...pending.bids],
        a: [...pending.asks],
      });
      pending = null;
    }, everyMs);
    timer.unref();
    return {
      stop() {
        clearInterval(timer);
        stopFollowing();
      },
    };
  }

  /** spot.obu: the top `depth` levels in full once, then what changed in them (amount "0" leaves). */
  private limitedBook(
    connection: Connection,
    m: GateMarket,
    name: string,
    depth: number,
  ): Subscription {
    const stopFollowing = this.books.follow(m, {});
    let last: { u: number; bids: Map<string, string>; asks: Map<string, string> } | null = null;
    const diff = (before: Map<string, string>, after: BookLevel[]): BookLevel[] => {
      const changes: BookLevel[] = [];
      const now = new Map(after);
      for (const [price, amount] of after)
        if (before.get(price) !== amount) changes.push([price, amount]);
      for (const price of before.keys()) if (!now.has(price)) changes.push([price, "0"]);
      return changes;
    };
    const push = () => {
      const view = this.books.levels(m.symbol, Math.min(depth, BOOK_DEPTH));
      if (!view) return;
      if (!last) {
        last = { u: view.seq, bids: new Map(view.bids), asks: new Map(view.asks) };
        this.update(connection, "spot.obu", {
          t: Date.now(),
          full: true,
          s: name,
          u: view.seq,
          b: view.bids,
          a: view.asks,
        });
        return;
      }
      if (view.seq === last.u) return;
      const b = diff(last.bids, view.bids);
      const a = diff(last.asks, view.asks);
      const U = last.u + 1;
      last = { u: view.seq, bids: new Map(view.bids), asks: new Map(view.asks) };
      if (b.length === 0 && a.length === 0) {
        // Nothing changed within the depth: the next delta still starts right after this u.
        last.u = U - 1;
        return;
      }
      this.update(connection, "spot.obu", { t: Date.now(), s: name, U, u: view.seq, b, a });
    };
    const timer = setInterval(push, 100);
    timer.unref();
    setTimeout(push, 20).unref();
    return {
      stop() {
        clearInterval(timer);
        stopFollowing();
      },
    };
  }

  // ------------------------------------------------------------------ signed channels

  private userChannel(
    connection: Connection,
    channel: "spot.orders" | "spot.usertrades" | "spot.balances",
    caller: ApiCaller,
    symbols: ReadonlySet<string> | null,
  ): Subscription {
    const wanted = (pair: string) => symbols === null || symbols.has(pair);
    const stop = this.users.follow(caller.userId, {
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
    return { stop };
  }
}
