// Password guessing is throttled where it happens: failed logins are counted in Redis per
// account (the email as typed, known or not — so a lock says nothing about whether it exists)
// and per client IP, with rate-limiter-flexible. N failures for an email without a success
// between lock that email; M failures from one IP lock the IP. While locked, no password is
// checked at all: the answer is TOO_MANY_REQUESTS with the time left. A success clears the
// account's count but not the IP's, so one good account cannot launder an IP's guesses.
import { breakers } from "@spotx/platform/breakers";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "../errors";
import type { ApiSettings } from "../settings";

type Counter = { limiter: RateLimiterRedis; failures: number; lockSeconds: number };

export class LoginThrottle {
  private readonly account: Counter;
  private readonly ip: Counter;

  constructor(redis: Redis, names: Topology, settings: ApiSettings["login"]) {
    this.account = {
      limiter: new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: names.redis.loginFailuresByAccount,
        points: settings.accountFailures,
        duration: settings.accountWindowSeconds,
      }),
      failures: settings.accountFailures,
      lockSeconds: settings.accountLockSeconds,
    };
    this.ip = {
      limiter: new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: names.redis.loginFailuresByIp,
        points: settings.ipFailures,
        duration: settings.ipWindowSeconds,
      }),
      failures: settings.ipFailures,
      lockSeconds: settings.ipLockSeconds,
    };
  }

  /** Refuses at once when the email or the IP is locked. */
  async check(email: string, ip: string | null): Promise<void> {
    const [byAccount, byIp] = await Promise.all([
      this.lockedFor(this.account, email),
      ip === null ? 0 : this.lockedFor(this.ip, ip),
    ]);
    const seconds = Math.max(byAccount, byIp);
    if (seconds > 0) {
      throw new ApiError("TOO_MANY_REQUESTS", `too many failed logins; try again in ${seconds} s`, {
        retryAfterSeconds: seconds,
      });
    }
  }

  /** Counts a failure; the one that reaches the limit starts the lock. */
  async failed(email: string, ip: string | null): Promise<void> {
    await Promise.all([
      this.count(this.account, email),
      ip === null ? undefined : this.count(this.ip, ip),
    ]);
  }

  /** A good password clears the email's count (not the IP's). */
  async succeeded(email: string): Promise<void> {
    await breakers.redis.run(() => this.account.limiter.delete(email));
  }

  /** Seconds the key stays locked; 0 when it is not. */
  private async lockedFor(counter: Counter, key: string): Promise<number> {
    const state = await breakers.redis.run(() => counter.limiter.get(key));
    if (!state || state.consumedPoints <= counter.failures) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  private async count(counter: Counter, key: string): Promise<void> {
    const state = await breakers.redis
      .run(() => counter.limiter.consume(key))
      // Already over: rate-limiter-flexible answers with the state as a rejection.
      .catch((error: unknown) => {
        if (error instanceof RateLimiterRes) return error;
        throw error;
      });
    if (state.remainingPoints === 0) {
      // block() records points + 1 for the lock's duration: lockedFor sees it as locked.
      await breakers.redis.run(() => counter.limiter.block(key, counter.lockSeconds));
    }
  }
}
