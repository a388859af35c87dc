// Circuit breakers around the calls that serve requests — one per shared server (Redis, etcd,
// Kafka) — so that a server that is down or hanging costs a request a few milliseconds and a
// clear SERVICE_UNAVAILABLE (HTTP 503), not a thread of waiting and a timeout. Built on opossum:
// a breaker opens when more than half the calls in its rolling window fail or time out, fails
// fast while open, lets one probe through after `resetMs` (half-open), and closes when it passes.
//
// Usage: `await breakers.redis.run(() => redis.get(key))`. Only failures that mean the server is
// unreachable count: an error the server answered with (a Redis WRONGTYPE, an etcd precondition,
// a Kafka UNKNOWN_TOPIC) is passed through unchanged and counts as the server being up, and so is
// a bug in the wrapped code (TypeError…) or a labelled refusal.
//
// Not for the worker's pipeline (engine host, settlement, outbox relay, market data) in that
// role: its consumers and producers have their own retry and backoff loops and must keep retrying
// until the server is back; a breaker that cut calls short would turn kafkajs' retries into early
// failures and fight them. Breakers belong where a caller is waiting for an answer. What the
// worker has instead are `pipelineBreakers` (settlement's PostgreSQL, market data's Redis): they
// never time a call out and pass its errors through unchanged, so while closed they change
// nothing; they count outages, fail fast while open (the loops retry as before, without piling
// calls on a dead server), and put each server's state on the worker's /metrics, where the
// console's guards page reads every instance's breakers.
//
// A process exports the gauges of the breakers it has made, and each is made on first use: a web
// makes the request breakers, a worker its pipeline ones, and neither lists the other's.
import CircuitBreaker from "opossum";
import { platformEnv } from "./env";
import { pingEtcd } from "./etcd";
import { pingKafka } from "./kafka";
import { logger } from "./logger";
import { metrics, prometheus } from "./metrics";
import { pingPostgres } from "./postgres";
import { type ProbeResult, processSingleton } from "./probe";
import { pingRedis } from "./redis";

/** The servers the request breakers (`breakers`) stand before. */
export const BREAKER_DEPENDENCIES = ["redis", "etcd", "kafka"] as const;
export type BreakerDependency = (typeof BREAKER_DEPENDENCIES)[number];

/** Every server a breaker can stand before: the request breakers' and PostgreSQL (the worker's). */
export const BREAKER_SERVERS = [...BREAKER_DEPENDENCIES, "postgres"] as const;
export type BreakerServer = (typeof BREAKER_SERVERS)[number];

export type BreakerState = "closed" | "open" | "half_open";

/** The gauge's value per state, for dashboards and alert rules (`== 2` is open). */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

/**
 * A call refused because its server is unavailable: the breaker is open, or the call failed in
 * a way that means the server is down or hanging. The API layers answer it with HTTP 503 and
 * this label; the message names nothing internal.
 */
export class ServiceUnavailableError extends Error {
  readonly label = "SERVICE_UNAVAILABLE" as const;
  readonly status = 503;

  constructor(
    readonly dependency: BreakerServer,
    /** Seconds after which a retry has a chance (the breaker's next probe). */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`service temporarily unavailable; retry in ${retryAfterSeconds} s`, options);
    this.name = "ServiceUnavailableError";
  }
}

export function isServiceUnavailable(error: unknown): error is ServiceUnavailableError {
  return error instanceof ServiceUnavailableError;
}

export type BreakerSettings = {
  /**
   * A call still running after this long counts as a failure and its caller gets a 503; 0: calls
   * are never cut short (the pipeline's: a slow server is still an answering one).
   */
  timeoutMs: number;
  /** How long the breaker stays open before it lets a probe through. */
  resetMs: number;
  /** Opens when the failed share of the window's calls exceeds this percentage… */
  errorThresholdPercent: number;
  /** …and the window holds at least this many calls. */
  volumeThreshold: number;
  /** The rolling window the share is counted over. */
  windowMs: number;
};

export type BreakerOptions = Partial<BreakerSettings> & {
  /**
   * The half-open probe: a cheap real round trip to the server, run through the breaker as soon
   * as it turns half-open, so that it closes when the server is back even if no request comes.
   * Without one, the next request is the probe (opossum's default).
   */
  probe?: () => Promise<unknown>;
  /**
   * Rethrow a failed call's own error (the pipeline's retry loops log and classify it as they
   * always did); only a call refused by the open breaker becomes a ServiceUnavailableError.
   */
  keepCallErrors?: boolean;
};

const DEFAULTS: Record<BreakerServer, BreakerSettings> = {
  // A Redis command answers in well under a millisecond; a second means it is not answering.
  redis: {
    timeoutMs: 1_000,
    resetMs: 5_000,
    errorThresholdPercent: 50,
    volumeThreshold: 5,
    windowMs: 10_000,
  },
  // etcd writes wait for a raft commit; the client's own deadline is 5 s.
  etcd: {
    timeoutMs: 3_000,
    resetMs: 5_000,
    errorThresholdPercent: 50,
    volumeThreshold: 3,
    windowMs: 10_000,
  },
  // Admin calls (offsets, metadata) fan out to several brokers and coordinators.
  kafka: {
    timeoutMs: 5_000,
    resetMs: 10_000,
    errorThresholdPercent: 50,
    volumeThreshold: 3,
    windowMs: 30_000,
  },
  // Settlement's batches: never cut short (a transaction timed out here would still commit);
  // a short pause, because while open a market's settlement waits for the probe.
  postgres: {
    timeoutMs: 0,
    resetMs: 2_000,
    errorThresholdPercent: 50,
    volumeThreshold: 3,
    windowMs: 10_000,
  },
};

/** The pipeline's: as the request breaker of the same server, but no call is ever cut short. */
const PIPELINE_REDIS: BreakerSettings = { ...DEFAULTS.redis, timeoutMs: 0, resetMs: 2_000 };

export type BreakerTransition = { from: BreakerState; to: BreakerState; at: string };

/** What the operator console shows of one breaker. */
export type BreakerSnapshot = {
  dependency: BreakerServer;
  state: BreakerState;
  /** When it entered its current state (null: closed since the process started). */
  since: string | null;
  lastTransition: BreakerTransition | null;
  transitions: number;
  /** Calls in the rolling window. */
  window: {
    calls: number;
    successes: number;
    failures: number;
    timeouts: number;
    rejections: number;
  };
  /** Since the process started. */
  totals: { calls: number; failures: number; timeouts: number; rejections: number };
  settings: BreakerSettings;
};

function createBreakerMetrics() {
  return {
    state: new prometheus.Gauge({
      name: "spotx_breaker_state",
      help: "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open",
      labelNames: ["dependency"] as const,
      registers: [metrics.registry],
    }),
    transitions: new prometheus.Counter({
      name: "spotx_breaker_transitions_total",
      help: "Circuit breaker state changes per dependency, by the state entered",
      labelNames: ["dependency", "to"] as const,
      registers: [metrics.registry],
    }),
    rejections: new prometheus.Counter({
      name: "spotx_breaker_rejections_total",
      help: "Calls refused at once because the dependency's breaker was open",
      labelNames: ["dependency"] as const,
      registers: [metrics.registry],
    }),
    lastTransition: new prometheus.Gauge({
      name: "spotx_breaker_last_transition_seconds",
      help: "When a circuit breaker last changed state (Unix seconds); absent until it first does",
      labelNames: ["dependency"] as const,
      registers: [metrics.registry],
    }),
    failures: new prometheus.Counter({
      name: "spotx_breaker_failures_total",
      help: "Calls that failed because the dependency did not answer (errors and timeouts)",
      labelNames: ["dependency", "kind"] as const,
      registers: [metrics.registry],
    }),
  };
}

const breakerMetrics = processSingleton("breakers.metrics", createBreakerMetrics);

type Work = () => Promise<unknown>;

/** Errors that are our own code's, not the server's: they never open a breaker. */
function isProgrammingError(error: Error): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    error instanceof ReferenceError ||
    "label" in error
  );
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : "");

/** Redis answered: a ReplyError, except the few that mean it cannot serve (still loading…). */
function redisAnswered(error: unknown): boolean {
  if (errorName(error) !== "ReplyError" || !(error instanceof Error)) return false;
  return !/^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/.test(error.message);
}

/** etcd answered: anything but the gRPC statuses of an unreachable or overloaded cluster. */
function etcdAnswered(error: unknown): boolean {
  const name = errorName(error);
  if (name.startsWith("Etcd") || name === "STMConflictError" || name === "NotCampaigningError") {
    return true;
  }
  return [
    "GRPCInvalidArgumentError",
    "GRPCNotFoundError",
    "GRPCAlreadyExistsError",
    "GRPCFailedPreconditionError",
    "GRPCAbortedError",
    "GRPCOutOfRangeError",
    "GRPCPermissionDeniedError",
    "GRPCUnauthenticatedError",
    "GRPCNotImplementedError",
  ].includes(name);
}

/** Kafka answered: a protocol error the broker returned that retrying would not change. */
function kafkaAnswered(error: unknown): boolean {
  return (
    errorName(error) === "KafkaJSProtocolError" &&
    typeof error === "object" &&
    error !== null &&
    "retriable" in error &&
    error.retriable === false
  );
}

/** SQLSTATEs of a server that cannot serve: connection exceptions, shutting down, no room. */
const POSTGRES_DOWN = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/** How Node and the pg driver report a server that did not answer at all. */
const SOCKET_DOWN = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const PG_DRIVER_DOWN =
  /Connection terminated|timeout exceeded when trying to connect|encountered a connection error|Connection refused/i;

/**
 * PostgreSQL answered: anything but an unreachable or unavailable server. Positive, unlike the
 * others, because the ledger's own refusals and invariant breaks are plain errors too. drizzle
 * wraps the driver's error in its own (`cause`), so the chain is followed.
 */
function postgresAnswered(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = "code" in current ? String(current.code) : "";
    if (POSTGRES_DOWN.test(code) || SOCKET_DOWN.has(code)) return false;
    if (PG_DRIVER_DOWN.test(current.message)) return false;
    current = current.cause;
  }
  return true;
}

const ANSWERED: Record<BreakerServer, (error: unknown) => boolean> = {
  redis: redisAnswered,
  etcd: etcdAnswered,
  kafka: kafkaAnswered,
  postgres: postgresAnswered,
};

const opossumCode = (error: unknown): string | undefined =>
  error instanceof Error && CircuitBreaker.isOurError(error) && "code" in error
    ? String(error.code)
    : undefined;

export class DependencyBreaker {
  readonly settings: BreakerSettings;
  private readonly breaker: CircuitBreaker<[Work], unknown>;
  private readonly probe: Work | undefined;
  private readonly keepCallErrors: boolean;
  private state: BreakerState = "closed";
  private since: string | null = null;
  private openedAt = 0;
  private lastTransition: BreakerTransition | null = null;
  private transitions = 0;
  private readonly totals = { calls: 0, failures: 0, timeouts: 0, rejections: 0 };
  private readonly log = logger("breakers");

  constructor(
    readonly dependency: BreakerServer,
    options: BreakerOptions = {},
  ) {
    const { probe, keepCallErrors, ...overrides } = options;
    this.settings = { ...DEFAULTS[dependency], ...overrides };
    this.probe = probe;
    this.keepCallErrors = keepCallErrors ?? false;
    const s = this.settings;
    this.breaker = new CircuitBreaker<[Work], unknown>((work) => work(), {
      name: dependency,
      timeout: s.timeoutMs,
      resetTimeout: s.resetMs,
      errorThresholdPercentage: s.errorThresholdPercent,
      volumeThreshold: s.volumeThreshold,
      rollingCountTimeout: s.windowMs,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // Errors the server answered with, and our own bugs, say nothing about its health.
      errorFilter: (error: unknown) => !this.isOutage(error),
    });
    this.breaker.on("open", () => this.enter("open"));
    this.breaker.on("halfOpen", () => {
      this.enter("half_open");
      this.runProbe();
    });
    this.breaker.on("close", () => this.enter("closed"));
    this.breaker.on("reject", () => {
      this.totals.rejections += 1;
      breakerMetrics.rejections.inc({ dependency });
    });
    this.breaker.on("timeout", () => {
      this.totals.timeouts += 1;
      breakerMetrics.failures.inc({ dependency, kind: "timeout" });
    });
    this.breaker.on("failure", (error: unknown) => {
      if (opossumCode(error) === "ETIMEDOUT") return; // counted as a timeout
      this.totals.failures += 1;
      breakerMetrics.failures.inc({ dependency, kind: "error" });
    });
    breakerMetrics.state.set({ dependency }, BREAKER_STATE_VALUE.closed);
  }

  /**
   * Runs a call to the server through the breaker. Fails fast with ServiceUnavailableError
   * while the breaker is open, and turns a call that failed for want of the server (or ran past
   * the timeout) into one; any other error is rethrown as it is.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.totals.calls += 1;
    try {
      // The breaker's action returns what `work` resolves with; opossum types it as unknown.
      return (await this.breaker.fire(work)) as T;
    } catch (error) {
      if (!this.isOutage(error)) throw error;
      if (this.keepCallErrors && opossumCode(error) !== "EOPENBREAKER") throw error;
      throw new ServiceUnavailableError(this.dependency, this.retryAfterSeconds(), {
        cause: error,
      });
    }
  }

  get currentState(): BreakerState {
    return this.state;
  }

  snapshot(): BreakerSnapshot {
    const stats = this.breaker.stats;
    return {
      dependency: this.dependency,
      state: this.state,
      since: this.since,
      lastTransition: this.lastTransition,
      transitions: this.transitions,
      window: {
        calls: stats.fires,
        successes: stats.successes,
        failures: stats.failures - stats.timeouts,
        timeouts: stats.timeouts,
        rejections: stats.rejects,
      },
      totals: { ...this.totals },
      settings: { ...this.settings },
    };
  }

  /** Stops the breaker's timers (tests; a process's breakers live as long as it does). */
  shutdown(): void {
    this.breaker.shutdown();
  }

  private isOutage(error: unknown): boolean {
    const code = opossumCode(error);
    if (code !== undefined) return code === "EOPENBREAKER" || code === "ETIMEDOUT";
    // Clients report a lost server with an Error; anything else thrown is the caller's own
    // signal (rate-limiter-flexible throws its RateLimiterRes to say "over the limit").
    if (!(error instanceof Error) || isProgrammingError(error)) return false;
    return !ANSWERED[this.dependency](error);
  }

  private retryAfterSeconds(): number {
    if (this.state !== "open") return 1;
    const left = this.openedAt + this.settings.resetMs - Date.now();
    return Math.max(1, Math.ceil(left / 1000));
  }

  private enter(to: BreakerState) {
    const from = this.state;
    if (from === to) return;
    const at = new Date();
    this.state = to;
    this.since = at.toISOString();
    if (to === "open") this.openedAt = at.getTime();
    this.lastTransition = { from, to, at: this.since };
    this.transitions += 1;
    breakerMetrics.state.set({ dependency: this.dependency }, BREAKER_STATE_VALUE[to]);
    breakerMetrics.transitions.inc({ dependency: this.dependency, to });
    breakerMetrics.lastTransition.set({ dependency: this.dependency }, at.getTime() / 1000);
    const fields = { dependency: this.dependency, from, to };
    if (to === "open") this.log.warn(fields, "circuit breaker opened: failing fast");
    else this.log.info(fields, `circuit breaker ${to === "closed" ? "closed" : "half-open"}`);
  }

  private runProbe() {
    const probe = this.probe;
    if (!probe) return;
    // The probe is the half-open state's one trial call: success closes, failure re-opens.
    this.breaker.fire(probe).catch((error: unknown) => {
      this.log.debug({ err: error, dependency: this.dependency }, "breaker probe failed");
    });
  }
}

/** A ProbeResult as a call that throws when the server did not answer. */
async function expectAnswer(result: Promise<ProbeResult>): Promise<void> {
  const outcome = await result;
  if (!outcome.ok) throw new Error(outcome.error);
}

/** A record whose breakers are made on first use (so a process exports only those it has). */
function lazily<K extends string>(
  makers: Record<K, () => DependencyBreaker>,
): Record<K, DependencyBreaker> {
  const made = new Map<K, DependencyBreaker>();
  const record = {} as Record<K, DependencyBreaker>;
  for (const name of Object.keys(makers) as K[]) {
    Object.defineProperty(record, name, {
      enumerable: true,
      get: () => {
        let breaker = made.get(name);
        if (!breaker) {
          breaker = makers[name]();
          made.set(name, breaker);
        }
        return breaker;
      },
    });
  }
  return record;
}

function createBreakers(): Record<BreakerDependency, DependencyBreaker> {
  const env = () => platformEnv();
  return lazily<BreakerDependency>({
    redis: () =>
      new DependencyBreaker("redis", {
        probe: () => expectAnswer(pingRedis(env().REDIS_URL, DEFAULTS.redis.timeoutMs)),
      }),
    etcd: () =>
      new DependencyBreaker("etcd", {
        probe: () => expectAnswer(pingEtcd(env().ETCD_ENDPOINTS, DEFAULTS.etcd.timeoutMs)),
      }),
    kafka: () =>
      new DependencyBreaker("kafka", {
        probe: () => expectAnswer(pingKafka(env().KAFKA_BROKERS, DEFAULTS.kafka.timeoutMs)),
      }),
  });
}

/** The process's request breakers, one per shared server. */
export const breakers: Record<BreakerDependency, DependencyBreaker> = processSingleton(
  "breakers",
  createBreakers,
);

export type PipelineBreakerName = "postgres" | "redis";

function createPipelineBreakers(): Record<PipelineBreakerName, DependencyBreaker> {
  const env = () => platformEnv();
  return lazily<PipelineBreakerName>({
    postgres: () =>
      new DependencyBreaker("postgres", {
        keepCallErrors: true,
        probe: () => expectAnswer(pingPostgres(env().DATABASE_URL, 3_000)),
      }),
    redis: () =>
      new DependencyBreaker("redis", {
        ...PIPELINE_REDIS,
        keepCallErrors: true,
        probe: () => expectAnswer(pingRedis(env().REDIS_URL, DEFAULTS.redis.timeoutMs)),
      }),
  });
}

/**
 * The worker's breakers: settlement's PostgreSQL and market data's Redis (see the file's head).
 * Never in the same process as the request breakers' Redis one: they share the gauge's label.
 */
export const pipelineBreakers: Record<PipelineBreakerName, DependencyBreaker> = processSingleton(
  "breakers.pipeline",
  createPipelineBreakers,
);

/** Every breaker's state, counts and last transition, for the operator console. */
export function breakerStates(): BreakerSnapshot[] {
  return BREAKER_DEPENDENCIES.map((dependency) => breakers[dependency].snapshot());
}
