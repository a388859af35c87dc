// Rate limits for every front door (the gate.io REST API and WebSocket, tRPC, the login
// throttle): rate-limiter-flexible counters in Redis, per endpoint class (`orders`, `reads`,
// `auth`) and per scope (the caller's IP — an IPv6 client by its /64 — user, API key). The
// settings live in etcd (`/<ns>/config/rate-limits`), are watched, and apply to the next request
// without a restart.
//
//   const limits = new RateLimits({ redis, etcd, names, log });
//   await limits.start();
//   const verdict = await limits.consume("orders", { ip, user: userId, key: apiKey });
//   if (!verdict.allowed) → 429 TOO_MANY_REQUESTS with rateLimitHeaders(verdict)
//
// Every Redis call goes through the Redis circuit breaker: a Redis that is down or does not
// answer within `timeoutMs` makes `consume` throw the breaker's ServiceUnavailableError (answer
// 503 SERVICE_UNAVAILABLE), at once while the breaker is open — never a hanging request.
import { isIP } from "node:net";
import { processSingleton } from "@spotx/platform";
import { breakers, type DependencyBreaker } from "@spotx/platform/breakers";
import type { Etcd3, Watcher } from "@spotx/platform/etcd";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from "rate-limiter-flexible";
import { z } from "zod";

export const RATE_LIMIT_CLASSES = ["orders", "reads", "auth"] as const;
/** `orders`: placing and cancelling; `reads`: everything that only reads; `auth`: sign-in and sign-up. */
export type RateLimitClass = (typeof RATE_LIMIT_CLASSES)[number];

export const RATE_LIMIT_SCOPES = ["ip", "user", "key"] as const;
/** Whose budget a request spends: its client address, its user (or, for `auth`, the account named), its API key. */
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number];

const rule = z.object({
  /** Requests allowed per window. */
  points: z.number().int().min(1).max(10_000_000),
  /** The window, in seconds (it starts with the first request, rate-limiter-flexible's fixed window). */
  duration: z.number().int().min(1).max(86_400),
});
export type RateLimitRule = z.infer<typeof rule>;

const classRules = z
  .object({ ip: rule.optional(), user: rule.optional(), key: rule.optional() })
  .strict();

/** What etcd holds: any class or scope left out keeps its default. */
export const rateLimitSettingsInput = z
  .object({
    orders: classRules.optional(),
    reads: classRules.optional(),
    auth: classRules.optional(),
  })
  .strict();
export type RateLimitSettingsInput = z.input<typeof rateLimitSettingsInput>;

export type RateLimitSettings = Record<RateLimitClass, Record<RateLimitScope, RateLimitRule>>;

/**
 * Defaults, in the spirit of gate.io's (200 requests / 10 s per public endpoint and IP, 10
 * orders / s per user and pair): spotx counts a whole class, not one endpoint, so the read
 * budget is larger; a browser page load or a market maker's quote loop stays well inside.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  orders: {
    ip: { points: 200, duration: 1 },
    user: { points: 50, duration: 1 },
    key: { points: 50, duration: 1 },
  },
  reads: {
    ip: { points: 1_000, duration: 10 },
    user: { points: 1_000, duration: 10 },
    key: { points: 1_000, duration: 10 },
  },
  auth: {
    ip: { points: 30, duration: 60 },
    user: { points: 10, duration: 60 },
    key: { points: 30, duration: 60 },
  },
};

/** The defaults with what `input` sets laid over them. */
export function resolveRateLimits(input: RateLimitSettingsInput = {}): RateLimitSettings {
  const parsed = rateLimitSettingsInput.parse(input);
  const resolved = structuredClone(DEFAULT_RATE_LIMITS);
  for (const endpointClass of RATE_LIMIT_CLASSES) {
    for (const scope of RATE_LIMIT_SCOPES) {
      const set = parsed[endpointClass]?.[scope];
      if (set) resolved[endpointClass][scope] = set;
    }
  }
  return resolved;
}

/** Writes the settings every web instance watches (operators' console, tests). */
export async function putRateLimitSettings(
  etcd: Etcd3,
  names: Topology,
  settings: RateLimitSettingsInput,
): Promise<RateLimitSettings> {
  const resolved = resolveRateLimits(settings);
  await etcd.put(names.etcd.rateLimits).value(JSON.stringify(settings));
  return resolved;
}

export const rateLimitMetrics = processSingleton("rate-limits.metrics", () => ({
  rejections: new prometheus.Counter({
    name: "spotx_rate_limit_rejections_total",
    help: "Requests refused with 429 TOO_MANY_REQUESTS, by endpoint class and the scope whose budget ran out",
    labelNames: ["class", "scope"] as const,
    registers: [metrics.registry],
  }),
}));

/**
 * The address a client is counted under: an IPv4 address as it is; an IPv6 address by its /64
 * network (`2001:db8:1:2::/64`), because one subscriber is routinely given a whole /64 and could
 * otherwise rotate through 2⁶⁴ addresses, each with a fresh budget; an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, a dual-stack socket) as the IPv4 address it is. Anything that is not an
 * address is returned unchanged. Every limit keyed by client address goes through this.
 */
export function rateLimitAddress(ip: string): string {
  const address = ip.trim();
  if (isIP(address) === 4) return address;
  const hextets = ipv6Hextets(address);
  if (hextets === null) return ip;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = hextets;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff) {
    return `${g >> 8}.${g & 0xff}.${h >> 8}.${h & 0xff}`;
  }
  return `${[a, b, c, d].map((x) => x.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a zone such as `%eth0` dropped), or null. */
function ipv6Hextets(text: string): number[] | null {
  const address = text.split("%")[0] ?? "";
  if (isIP(address) !== 6) return null;
  const groups = (part: string): number[] => {
    if (part === "") return [];
    return part.split(":").flatMap((group) => {
      if (!group.includes(".")) return [Number.parseInt(group, 16)];
      // An IPv4 tail (::ffff:192.0.2.1): two groups.
      const [w = 0, x = 0, y = 0, z = 0] = group.split(".").map(Number);
      return [(w << 8) | x, (y << 8) | z];
    });
  };
  const [head = "", tail] = address.toLowerCase().split("::");
  const front = groups(head);
  if (tail === undefined) return front.length === 8 ? front : null;
  const back = groups(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** Who is asking: any of them may be absent (an anonymous read has only an IP). */
export type RateLimitSubjects = {
  /** The client's address; counted by `rateLimitAddress` (IPv6 by its /64). */
  ip?: string | null;
  /** A user id, or for `auth` the account being signed into (e.g. the lower-cased email). */
  user?: string | bigint | null;
  key?: string | null;
};

/** The outcome, with what gate.io's X-Gate-RateLimit-* headers report: the tightest budget. */
export type RateLimitVerdict = {
  allowed: boolean;
  endpointClass: RateLimitClass;
  /** The scope whose budget is smallest now (the one that refused, when refused). */
  scope: RateLimitScope | null;
  limit: number;
  remaining: number;
  /** When that budget's window ends (ms since the epoch). */
  resetAtMs: number;
  /** Whole seconds until a refused request may be tried again (0 when allowed). */
  retryAfterSeconds: number;
};

/** gate.io's headers (on every answer) and, when refused, Retry-After. */
export function rateLimitHeaders(verdict: RateLimitVerdict): Record<string, string> {
  const headers: Record<string, string> = {
    "X-Gate-RateLimit-Requests-Remain": String(verdict.remaining),
    "X-Gate-RateLimit-Limit": String(verdict.limit),
    // gate.io: the reset time once the limit is exceeded, else simply now (milliseconds).
    "X-Gate-RateLimit-Reset-Timestamp": String(verdict.allowed ? Date.now() : verdict.resetAtMs),
  };
  if (!verdict.allowed) headers["Retry-After"] = String(verdict.retryAfterSeconds);
  return headers;
}

export type RateLimitsOptions = {
  redis: Redis;
  names: Topology;
  /** Where the settings are watched; without it the defaults (or `settings`) apply. */
  etcd?: Etcd3;
  log: Logger;
  /** Settings to start from before (or instead of) etcd's. */
  settings?: RateLimitSettingsInput;
  /** Longest wait for Redis per request. */
  timeoutMs?: number;
  /** The breaker Redis calls go through (the process's Redis breaker by default). */
  breaker?: DependencyBreaker;
};

type Limiters = Record<RateLimitClass, Record<RateLimitScope, RLWrapperTimeouts>>;

export class RateLimits {
  private current: RateLimitSettings;
  private limiters: Limiters;
  private watcher: Watcher | undefined;
  private readonly timeoutMs: number;
  private readonly breaker: DependencyBreaker;

  constructor(private readonly options: RateLimitsOptions) {
    this.timeoutMs = options.timeoutMs ?? 500;
    this.breaker = options.breaker ?? breakers.redis;
    this.current = resolveRateLimits(options.settings);
    this.limiters = this.build(this.current);
  }

  /**
   * Waits for Redis to be connected (a Redis that is not is refused at once, so a fresh process
   * must not answer its first requests 503), loads the settings from etcd and follows them.
   */
  async start(): Promise<void> {
    const { etcd, names, redis } = this.options;
    if (redis.status !== "ready") {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("Redis did not connect within 10 s")),
          10_000,
        );
        redis.once("ready", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (!etcd) return;
    const watcher = await etcd.watch().key(names.etcd.rateLimits).create();
    this.watcher = watcher;
    watcher.on("put", (kv) => this.apply(kv.value.toString()));
    watcher.on("delete", () => this.apply(null));
    watcher.on("error", (error) =>
      this.options.log.warn({ err: error }, "rate-limit settings watch error"),
    );
    this.apply(await etcd.get(names.etcd.rateLimits).string());
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
    this.watcher = undefined;
  }

  /** The settings in force. */
  settings(): RateLimitSettings {
    return structuredClone(this.current);
  }

  /**
   * Spends one request from each budget the subjects name; refused when any is exhausted.
   * Throws ServiceUnavailableError (@spotx/platform/breakers) when Redis cannot answer.
   */
  async consume(
    endpointClass: RateLimitClass,
    subjects: RateLimitSubjects,
  ): Promise<RateLimitVerdict> {
    const scoped = RATE_LIMIT_SCOPES.flatMap((scope) => {
      const subject = subjects[scope];
      if (subject === undefined || subject === null || subject === "") return [];
      const text = String(subject);
      return [{ scope, subject: scope === "ip" ? rateLimitAddress(text) : text }];
    });
    const rules = this.current[endpointClass];
    const limiters = this.limiters[endpointClass];
    const outcomes = await Promise.all(
      scoped.map(async ({ scope, subject }) => {
        try {
          const res = await this.breaker.run(() => limiters[scope].consume(subject));
          return { scope, res, allowed: true };
        } catch (error) {
          // rate-limiter-flexible says "over the limit" by throwing its result; the breaker
          // passes that through (it is not an outage).
          if (error instanceof RateLimiterRes) return { scope, res: error, allowed: false };
          throw error;
        }
      }),
    );
    const now = Date.now();
    const refused = outcomes.filter((o) => !o.allowed);
    if (refused.length > 0) {
      // The refusal that lasts longest is the one the caller must wait out.
      const worst = refused.reduce((a, b) => (b.res.msBeforeNext > a.res.msBeforeNext ? b : a));
      rateLimitMetrics.rejections.inc({ class: endpointClass, scope: worst.scope });
      return {
        allowed: false,
        endpointClass,
        scope: worst.scope,
        limit: rules[worst.scope].points,
        remaining: 0,
        resetAtMs: now + worst.res.msBeforeNext,
        retryAfterSeconds: Math.max(1, Math.ceil(worst.res.msBeforeNext / 1000)),
      };
    }
    const tightest = outcomes.reduce<(typeof outcomes)[number] | null>(
      (a, b) => (a === null || b.res.remainingPoints < a.res.remainingPoints ? b : a),
      null,
    );
    if (!tightest) {
      // Nothing to count against (no subject at all): report the IP budget untouched.
      const ipRule = rules.ip;
      return {
        allowed: true,
        endpointClass,
        scope: null,
        limit: ipRule.points,
        remaining: ipRule.points,
        resetAtMs: now + ipRule.duration * 1000,
        retryAfterSeconds: 0,
      };
    }
    return {
      allowed: true,
      endpointClass,
      scope: tightest.scope,
      limit: rules[tightest.scope].points,
      remaining: tightest.res.remainingPoints,
      resetAtMs: now + tightest.res.msBeforeNext,
      retryAfterSeconds: 0,
    };
  }

  private build(settings: RateLimitSettings): Limiters {
    const { redis, names } = this.options;
    const limiter = (endpointClass: RateLimitClass, scope: RateLimitScope) =>
      new RLWrapperTimeouts({
        limiter: new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: names.redis.rateLimit(endpointClass, scope),
          points: settings[endpointClass][scope].points,
          duration: settings[endpointClass][scope].duration,
          // A Redis that is down refuses at once instead of queueing the command.
          rejectIfRedisNotReady: true,
        }),
        timeoutMs: this.timeoutMs,
      });
    const forClass = (endpointClass: RateLimitClass) => ({
      ip: limiter(endpointClass, "ip"),
      user: limiter(endpointClass, "user"),
      key: limiter(endpointClass, "key"),
    });
    return { orders: forClass("orders"), reads: forClass("reads"), auth: forClass("auth") };
  }

  /** A value that does not parse is logged and ignored: the settings in force stay. */
  private apply(value: string | null) {
    let next: RateLimitSettings;
    try {
      next = resolveRateLimits(value === null ? {} : JSON.parse(value));
    } catch (error) {
      const problem =
        error instanceof z.ZodError
          ? error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
          : error instanceof Error
            ? error.message
            : String(error);
      this.options.log.error(
        { key: this.options.names.etcd.rateLimits, problem },
        "ignoring malformed rate-limit settings in etcd",
      );
      return;
    }
    this.current = next;
    this.limiters = this.build(next);
    this.options.log.info({ settings: next }, "rate-limit settings applied");
  }
}
