// What the socket tests run against: the market-data bench (a database, a namespace, orders
// placed, events produced, settlement applied — see apps/worker/test/market-data-fixture.ts),
// market data running in this process as the engine host runs it (each message folded into its
// market's feed and published by the worker's MarketPublisher), and web instances as separate
// processes, each with socket.io and the Redis adapter. Clients are real socket.io clients over
// websockets.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { platformEnv } from "@spotx/platform";
import { logger } from "@spotx/platform/logger";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { createSocketEmitter, type SocketEmitter } from "@spotx/platform/socket-emitter";
import type { ClientToServerEvents, ServerToClientEvents } from "@spotx/protocol";
import { io, type Socket } from "socket.io-client";
import { loadMarketStarts } from "../../worker/src/market-data/bootstrap";
import { MarketFeed } from "../../worker/src/market-data/feed";
import { MarketPublisher } from "../../worker/src/market-publisher";
import { type MarketBench, startMarketBench } from "../../worker/test/market-data-fixture";

export { eventually } from "../../worker/test/market-data-fixture";

const webDir = path.resolve(import.meta.dirname, "..");

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

/** Everything a client received, in order, with a way to await the next matching message. */
export class Inbox {
  readonly received: Array<{ event: EventName; payload: unknown; at: number }> = [];
  private readonly waiters: Array<() => void> = [];

  constructor(readonly socket: ClientSocket) {
    socket.onAny((event: EventName, payload: unknown) => {
      this.received.push({ event, payload, at: Date.now() });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  all<E extends EventName>(event: E): Array<Payload<E>> {
    return this.received.filter((r) => r.event === event).map((r) => r.payload as Payload<E>);
  }

  /** The first message of `event` (received from index `from` on) that satisfies `match`. */
  async next<E extends EventName>(
    event: E,
    match: (payload: Payload<E>) => boolean = () => true,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<Payload<E>> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const found = this.received
        .slice(options.from ?? 0)
        .find((r) => r.event === event && match(r.payload as Payload<E>));
      if (found) return found.payload as Payload<E>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${event} message arrived`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export type WebInstance = { url: string; child: ChildProcess };

export type SocketBench = {
  market: MarketBench;
  /** The server key the web instances check tokens with. */
  secretKey: Buffer;
  redis: Redis;
  emitter: SocketEmitter<ServerToClientEvents>;
  /** Each market's feed, as the engine host keeps it. */
  feeds: Map<string, MarketFeed>;
  web: WebInstance[];
  connect(instance: WebInstance, token?: unknown): Promise<{ socket: ClientSocket; inbox: Inbox }>;
  /** A connection attempt's refusal message (connect_error), or "connected". */
  handshake(instance: WebInstance, token: unknown): Promise<string>;
  stop(): Promise<void>;
};

function startInstance(env: NodeJS.ProcessEnv): Promise<WebInstance> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/socket-instance.ts"], {
    cwd: webDir,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const port = /socket instance listening on (\d+)/.exec(output)?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}`, child });
    });
    child.once("exit", (code) => reject(new Error(`web instance exited (${code}):\n${output}`)));
  });
}

export async function startSocketBench(instances = 2): Promise<SocketBench> {
  const market = await startMarketBench();
  const secretKey = randomBytes(32);
  const redis = createRedis(platformEnv().REDIS_URL);
  const emitter = createSocketEmitter<ServerToClientEvents>(redis, market.names);
  const starts = await loadMarketStarts(market.db, [...market.engines.keys()], Date.now());
  const feeds = new Map(
    [...starts].map(([symbol, start]) => [symbol, new MarketFeed(start.market, start.bootstrap)]),
  );
  const publisher = new MarketPublisher({
    redis,
    emitter,
    names: market.names,
    log: logger("market-data-test"),
    feedOf: (symbol) => feeds.get(symbol),
    feeds: () => feeds.values(),
  });
  market.onMessage((message) => {
    const feed = feeds.get(message.market);
    if (feed?.apply(message) === "applied") publisher.publish(feed, Date.now(), [message.time]);
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: market.test.url,
    SPOTX_NAMESPACE: market.namespace,
    SPOTX_SECRET_KEY: secretKey.toString("hex"),
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_WEB_LOG_LEVEL ?? "error",
  };
  const web = await Promise.all(Array.from({ length: instances }, () => startInstance(env)));
  const sockets: ClientSocket[] = [];

  const open = (instance: WebInstance, token: unknown): ClientSocket => {
    const socket: ClientSocket = io(instance.url, {
      path: "/socket.io",
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: token === undefined ? {} : { token },
    });
    sockets.push(socket);
    return socket;
  };

  return {
    market,
    secretKey,
    redis,
    emitter,
    feeds,
    web,
    async connect(instance, token) {
      const socket = open(instance, token);
      const inbox = new Inbox(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      return { socket, inbox };
    },
    handshake(instance, token) {
      const socket = open(instance, token);
      return new Promise((resolve) => {
        socket.once("connect", () => resolve("connected"));
        socket.once("connect_error", (error) => resolve(error.message));
      });
    },
    async stop() {
      for (const socket of sockets) socket.disconnect();
      await Promise.all(
        web.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGTERM");
            }),
        ),
      );
      publisher.stop();
      redis.disconnect();
      await market.stop();
    },
  };
}
