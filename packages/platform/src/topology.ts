// Every name spotx gives things on the shared servers, in one place: Kafka topics, consumer
// groups and transactional ids, etcd keys, Redis keys, lock resources and socket.io rooms.
// All of them hang off a namespace (SPOTX_NAMESPACE, default "spotx"), so integration tests
// and a running exchange can share one Kafka, etcd and Redis without seeing each other.
import { platformEnv } from "./env";

/** The public socket.io channels of a market; `candles` rooms also carry the interval. */
export type MarketChannel = "book" | "trades" | "ticker" | "candles" | "status";

export type Topology = ReturnType<typeof topology>;

export function topology(namespace: string = platformEnv().SPOTX_NAMESPACE) {
  const ns = namespace;
  return {
    namespace: ns,
    kafka: {
      /** Engine commands, keyed by market symbol: one market's commands stay in order. */
      orders: { topic: `${ns}.orders`, numPartitions: 4 },
      /** Engine events, one message per command, keyed by market symbol. */
      events: { topic: `${ns}.events`, numPartitions: 4 },
      groups: {
        engine: `${ns}.engine`,
        settlement: `${ns}.settlement`,
      },
    },
    etcd: {
      servicesPrefix: `/${ns}/services/`,
      service: (kind: string, id: string) => `/${ns}/services/${kind}/${id}`,
      marketsPrefix: `/${ns}/markets/`,
      /** The market's engine owner, under the owner's lease; its mod revision is the epoch. */
      marketOwner: (symbol: string) => `/${ns}/markets/${symbol}/owner`,
      configPrefix: `/${ns}/config/`,
      marketConfigPrefix: `/${ns}/config/markets/`,
      /** Live market configuration (halt/resume), watched by every process. */
      marketConfig: (symbol: string) => `/${ns}/config/markets/${symbol}`,
      /** Live rate-limit settings (JSON, see @spotx/api guards/rate-limits), watched by every web. */
      rateLimits: `/${ns}/config/rate-limits`,
    },
    redis: {
      /** The socket.io Redis adapter's channel prefix (the emitter must use the same). */
      socketIoKey: `${ns}.socket.io`,
      /** L2 book snapshot of a market, as JSON, with a short TTL. */
      book: (symbol: string) => `${ns}:md:book:${symbol}`,
      ticker: (symbol: string) => `${ns}:md:ticker:${symbol}`,
      /** The last 100 public trades of a market, as JSON, with a short TTL. */
      trades: (symbol: string) => `${ns}:md:trades:${symbol}`,
      /** Pub/sub channel on which settlement announces the orders it changed. */
      settledChannel: `${ns}:settled`,
      /** Pub/sub channel on which every change of a price-triggered order is announced. */
      priceOrdersChannel: `${ns}:price-orders`,
      /**
       * Pub/sub channel on which a change of credentials is announced (an API key revoked, a user
       * frozen, a password changed): every web instance ends the WebSocket subscriptions that
       * relied on them (@spotx/api auth/credential-events).
       */
      credentialsChannel: `${ns}:credentials`,
      /**
       * A signed-in session (one refresh-token family): a hash with a TTL. Deleting it revokes
       * the session's access tokens and refresh token at once.
       */
      session: (sessionId: string) => `${ns}:session:${sessionId}`,
      /** The session ids of a user, so a password change can revoke every one of them. */
      userSessions: (userId: bigint | string) => `${ns}:user-sessions:${userId}`,
      /**
       * The login throttle (@spotx/api auth/login-throttle): sign-in attempts at one account from
       * one client address (a hash: attempts, last attempt), and every address's budget. One
       * script reads and writes both: the address is their hash tag, so a Redis Cluster keeps them
       * in one slot.
       */
      loginAttempts: (account: string, address: string) =>
        `${ns}:login:{${address}}:attempts:${account}`,
      loginBudget: (address: string) => `${ns}:login:{${address}}:budget`,
      /** rate-limiter-flexible key prefix: demo deposits. */
      demoDeposits: `${ns}:demo-deposits`,
      /** rate-limiter-flexible's counters of one endpoint class and scope (ip, user, key). */
      rateLimit: (endpointClass: string, scope: string) => `${ns}:rl:${endpointClass}:${scope}`,
      /**
       * gate.io's countdown cancel-all timers (POST /spot/countdown_cancel_all): a sorted set of
       * `userId:pair` ("*" for every pair) scored by the deadline in ms. Every web instance polls
       * it; the one whose ZREM takes a due member runs its cancel-all.
       */
      countdowns: `${ns}:countdowns`,
      /** A signed request's SIGN (its sha256), kept for the timestamp window: replays are refused. */
      usedSignature: (digest: string) => `${ns}:api:sign:${digest}`,
      /**
       * The operator console's pipeline history as one web instance recorded it: a sorted set of
       * samples (JSON) scored by their time, the last hour, expiring with its writer.
       */
      pipelineHistory: (instanceId: string) => `${ns}:operator:history:${instanceId}`,
      /** The instances that recorded pipeline history, scored by their last write (ms). */
      pipelineHistoryWriters: `${ns}:operator:history-writers`,
    },
    postgres: {
      /** LISTEN/NOTIFY channel the outbox relay waits on. */
      outboxChannel: `${ns.replaceAll("-", "_")}_outbox`,
    },
    locks: {
      /** The Redis key prefix of every lock and fencing counter (LockService). */
      keyPrefix: `${ns}:lock:`,
      /** One outbox relay at a time, cluster-wide. */
      outboxRelay: `job:${ns}.outbox-relay`,
    },
    rooms: {
      market: (symbol: string, channel: MarketChannel) => `market:${symbol}:${channel}`,
      candles: (symbol: string, interval: string) => `market:${symbol}:candles:${interval}`,
      user: (userId: bigint | string) => `user:${userId}`,
      /** The sockets of one browser session: disconnected when the session is revoked. */
      session: (sessionId: string) => `session:${sessionId}`,
      operators: "operators",
    },
  } as const;
}
