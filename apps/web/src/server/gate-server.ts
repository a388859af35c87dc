// gate.io's API v4 on the web's HTTP server: the REST front door under /api/v4 (answered before
// Next.js sees the request) with its guards — API-key authentication, the replay cache, rate
// limits from etcd — and the WebSocket API on /ws/v4/. This file only composes them; the logic
// lives in @spotx/api (src/gate, src/guards).
import type http from "node:http";
import { TradingService } from "@spotx/api";
import { CredentialListener } from "@spotx/api/auth/credential-listener";
import {
  ApiKeyAuthenticator,
  CountdownCancels,
  GateRestApi,
  type GateWebSocketOptions,
  GateWebSocketServer,
  MarketDirectory,
  SettledOrders,
} from "@spotx/api/gate";
import { RateLimits } from "@spotx/api/guards/rate-limits";
import { SignatureReplayGuard } from "@spotx/api/guards/replay";
import type { Database } from "@spotx/db";
import type { Etcd3 } from "@spotx/platform/etcd";
import type { Logger } from "@spotx/platform/logger";
import type { MarketConfigWatcher } from "@spotx/platform/market-config";
import type { Redis } from "@spotx/platform/redis";
import { apiKeySealingKey } from "@spotx/platform/secrets";
import { clientAddress } from "@spotx/platform/service-process";
import type { Topology } from "@spotx/platform/topology";
import { webEnv } from "../env";

export type GateApiOptions = {
  db: Database;
  redis: Redis;
  etcd: Etcd3;
  names: Topology;
  marketConfig: MarketConfigWatcher;
  /** The server key (SPOTX_SECRET_KEY): API secrets are sealed with a key derived from it. */
  serverKey: Uint8Array;
  log: Logger;
  /** The process's trading service, when it has one already. */
  trading?: TradingService;
  /** The process's rate limits, when it has them already (started; this API does not stop them). */
  rateLimits?: RateLimits;
  /** How long DELETE waits for a cancel to be settled (ms). */
  cancelWaitMs?: number;
  /** Trusted reverse proxies (SPOTX_TRUSTED_PROXIES by default). */
  trustedProxies?: number;
  /** The WebSocket API's limits (connections per address: WS_MAX_CONNECTIONS_PER_ADDRESS). */
  websocket?: Pick<
    GateWebSocketOptions,
    "maxConnectionsPerAddress" | "maxSubscriptionsPerConnection" | "recheckCredentialsEveryMs"
  >;
};

export type GateApi = {
  rest: GateRestApi;
  /** Serves /ws/v4/ on the server (upgrades for other paths are left alone). */
  attach(server: http.Server): void;
  websocket: GateWebSocketServer;
  close(): Promise<void>;
};

export async function startGateApi(options: GateApiOptions): Promise<GateApi> {
  const { db, redis, etcd, names, log } = options;
  // Rate limits are the process's when it has them (tRPC spends from the same budgets).
  const ownRateLimits = options.rateLimits
    ? null
    : new RateLimits({ redis, etcd, names, log: log.child({ part: "rate-limits" }) });
  await ownRateLimits?.start();
  const rateLimits = options.rateLimits ?? ownRateLimits;
  if (!rateLimits) throw new Error("no rate limits");
  const settled = new SettledOrders({ redis, names, log });
  await settled.start();
  const markets = new MarketDirectory(db, options.marketConfig);
  const trading = options.trading ?? new TradingService({ db, names, halts: options.marketConfig });
  const authenticator = new ApiKeyAuthenticator({
    db,
    serverKey: apiKeySealingKey(options.serverKey),
    replay: new SignatureReplayGuard({ redis, names }),
    log,
  });
  // Keys the authenticator keeps in memory are dropped the moment a credential change is
  // announced (a revoked key, a frozen user, a new password), on every web instance.
  const credentials = new CredentialListener({
    redis,
    names,
    log: log.child({ part: "credentials" }),
    onChange: (change) => authenticator.forget(change),
  });
  await credentials.start();
  const address = (req: http.IncomingMessage) => clientAddress(req, options.trustedProxies);
  const countdowns = new CountdownCancels({
    redis,
    names,
    db,
    trading,
    log: log.child({ part: "countdown" }),
  });
  countdowns.start();
  const services = {
    db,
    redis,
    names,
    trading,
    markets,
    settled,
    countdowns,
    log,
    cancelWaitMs: options.cancelWaitMs ?? 2_000,
  };
  const rest = new GateRestApi({
    services,
    authenticator,
    rateLimits,
    log,
    clientAddress: address,
  });
  const websocket = new GateWebSocketServer({
    services,
    authenticator,
    rateLimits,
    log: log.child({ part: "ws" }),
    clientAddress: address,
    maxConnectionsPerAddress: webEnv.WS_MAX_CONNECTIONS_PER_ADDRESS,
    ...options.websocket,
  });
  return {
    rest,
    websocket,
    attach: (server) => websocket.attach(server),
    async close() {
      await credentials.stop();
      await websocket.close();
      await countdowns.stop();
      await settled.stop();
      await ownRateLimits?.stop();
    },
  };
}
