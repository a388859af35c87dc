// The long-lived things procedures call, built once per process: the trading service, the
// session store, the login throttle, Redis, the names on the shared servers, the server key.
// The web server builds them at start and registers them with `provideApiServices`; its tRPC
// route handler and server components (a separate Next.js bundle in the same process) find them
// with `apiServices()` — the registry is a process singleton, not a module variable, for that.
// Tests build their own with the parts they need.
import { processSingleton } from "@spotx/platform";
import { type Etcd3, etcdClient } from "@spotx/platform/etcd";
import { LockService } from "@spotx/platform/locks";
import { type Redis, redisClient } from "@spotx/platform/redis";
import { apiKeySealingKey, serverSecretKey, twoFactorSealingKey } from "@spotx/platform/secrets";
import type { SocketEmitter } from "@spotx/platform/socket-emitter";
import { type Topology, topology } from "@spotx/platform/topology";
import type { ServerToClientEvents } from "@spotx/protocol";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { LoginChallenges } from "./auth/login-challenge";
import { LoginThrottle } from "./auth/login-throttle";
import { SessionStore } from "./auth/session-store";
import { SessionTokens } from "./auth/session-token";
import type { RateLimits } from "./guards/rate-limits";
import { type ApiSettings, apiSettings } from "./settings";
import type { HaltSource, TradingService } from "./trading/trading-service";

export type ApiServiceParts = {
  names: Topology;
  redis: Redis;
  etcd: Etcd3;
  /** Fenced Redis locks (withdrawal decisions, adjustments; the operator console lists holders). */
  locks: LockService;
  /** The 32-byte server key (SPOTX_SECRET_KEY). */
  secretKey: Buffer;
  settings: ApiSettings;
  /** Live market halts (the etcd watch). */
  halts: HaltSource;
  trading: TradingService;
  /** Publishes to socket.io rooms (to disconnect a revoked session's sockets). */
  emitter: SocketEmitter<ServerToClientEvents>;
  /** Per IP/user rate limits by endpoint class (started: it follows its settings in etcd). */
  rateLimits: RateLimits;
};

/** What to do when a part was not given: the process-wide default, or an explanation. */
const missing = (part: string): never => {
  throw new Error(
    `no ${part} registered in this process: the web server registers one at start (provideApiServices)`,
  );
};

export class ApiServices {
  private sessionStore: SessionStore | undefined;
  private tokens: SessionTokens | undefined;
  private throttle: LoginThrottle | undefined;
  private challenges: LoginChallenges | undefined;
  private demoLimiter: RateLimiterRedis | undefined;

  constructor(private readonly parts: Partial<ApiServiceParts> = {}) {}

  get names(): Topology {
    this.parts.names ??= topology();
    return this.parts.names;
  }

  get redis(): Redis {
    this.parts.redis ??= redisClient();
    return this.parts.redis;
  }

  get etcd(): Etcd3 {
    this.parts.etcd ??= etcdClient();
    return this.parts.etcd;
  }

  get locks(): LockService {
    this.parts.locks ??= new LockService(this.redis, { prefix: this.names.locks.keyPrefix });
    return this.parts.locks;
  }

  get secretKey(): Buffer {
    this.parts.secretKey ??= serverSecretKey();
    return this.parts.secretKey;
  }

  /** The key API secrets are sealed with (derived from the server key). */
  get apiKeySealingKey(): Buffer {
    return apiKeySealingKey(this.secretKey);
  }

  /** The key two-factor (TOTP) secrets are sealed with (derived from the server key). */
  get twoFactorSealingKey(): Buffer {
    return twoFactorSealingKey(this.secretKey);
  }

  /** Signs and checks the token between a right password and the second factor. */
  get loginChallenges(): LoginChallenges {
    this.challenges ??= new LoginChallenges(this.secretKey);
    return this.challenges;
  }

  get settings(): ApiSettings {
    this.parts.settings ??= apiSettings();
    return this.parts.settings;
  }

  get halts(): HaltSource {
    return this.parts.halts ?? missing("market halt source");
  }

  get trading(): TradingService {
    return this.parts.trading ?? missing("trading service");
  }

  /** Null where no socket.io runs (tests without one): nothing to disconnect then. */
  get emitter(): SocketEmitter<ServerToClientEvents> | null {
    return this.parts.emitter ?? null;
  }

  /** Null where none was given (tests of other things): calls are then not rate-limited. */
  get rateLimits(): RateLimits | null {
    return this.parts.rateLimits ?? null;
  }

  get sessions(): SessionStore {
    this.sessionStore ??= new SessionStore(this.redis, this.names, this.settings.sessions);
    return this.sessionStore;
  }

  get sessionTokens(): SessionTokens {
    this.tokens ??= new SessionTokens(this.secretKey);
    return this.tokens;
  }

  get loginThrottle(): LoginThrottle {
    this.throttle ??= new LoginThrottle(this.redis, this.names, this.settings.login);
    return this.throttle;
  }

  /** Demo deposits per user per hour. */
  get demoDeposits(): RateLimiterRedis {
    this.demoLimiter ??= new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: this.names.redis.demoDeposits,
      points: this.settings.demoDeposits.perHour,
      duration: 3_600,
    });
    return this.demoLimiter;
  }
}

const REGISTRY = Symbol.for("spotx.api.services");
type Registry = { [REGISTRY]?: ApiServices };

/** Registers the process's services (the web server, at start, before it serves). */
export function provideApiServices(services: ApiServices): ApiServices {
  (globalThis as Registry)[REGISTRY] = services;
  return services;
}

/**
 * The services the web server registered; where none were (tests, scripts), process-wide
 * defaults from the environment, which fail on first use of a part only a server can give
 * (the trading service, the halt source).
 */
export function apiServices(): ApiServices {
  return (
    (globalThis as Registry)[REGISTRY] ??
    processSingleton("api.services.defaults", () => new ApiServices())
  );
}
