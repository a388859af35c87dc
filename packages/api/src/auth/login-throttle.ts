// Password (and second-factor code) guessing is throttled where it happens, in Redis, per
// (account, client address) — never per account alone, so a guesser elsewhere can never keep the
// real user out of their own address — plus a budget per address across every account:
//
// - at one account from one address, the first `freeAttempts` attempts that do not end in a
//   sign-in go through at once; after that each next attempt must wait, a wait that doubles with
//   each further failure up to `maxDelayMs`; a sign-in from that address forgets them;
// - one address may spend `addressBudget` attempts that do not end in a sign-in per
//   `addressWindowSeconds`, whatever the accounts (a spray over many emails).
//
// The check and the count are one Lua script: an attempt is counted *before* its password is
// checked (as a failure, whose wait then runs from its answer), and given back when it turns out
// to be a success. Checking first and counting after the (slow, by design) password check let
// every request of a parallel burst pass the check before any was counted; now a burst of N gets
// exactly the budget. A refusal checks no password at all: TOO_MANY_REQUESTS with the time to
// wait. IPv6 clients count by their /64 (`rateLimitAddress`, like every limit keyed by address).
import { breakers } from "@spotx/platform/breakers";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { ApiError } from "../errors";
import { rateLimitAddress } from "../guards/rate-limits";
import type { ApiSettings } from "../settings";

// KEYS[1] the (account, address) attempts hash {n, at}; KEYS[2] the address's budget counter.
// ARGV: free attempts, first delay (ms), max delay (ms), attempts TTL (ms), budget, window (ms).
// Answers {1, 0} (counted, go on) or {0, ms to wait}. Time is Redis's, the same for every web
// instance.
const ATTEMPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used >= tonumber(ARGV[5]) then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 0 then
    ttl = tonumber(ARGV[6])
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
  return {0, ttl}
end
local s = redis.call('HMGET', KEYS[1], 'n', 'at')
local n = tonumber(s[1] or '0')
local free = tonumber(ARGV[1])
if n >= free then
  local delay = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (n - free))
  local wait = tonumber(s[2] or '0') + delay - now
  if wait > 0 then return {0, math.ceil(wait)} end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
return {1, 0}
`;

// Gives an attempt back. ARGV[1] `forget`: it was a sign-in, the account's failures from this
// address are forgotten; `return`: it was not a failure (a right password, the code still to
// come), the earlier failures stay. Either way it leaves the address's budget.
const GIVE_BACK = `
if ARGV[1] == 'forget' then
  redis.call('DEL', KEYS[1])
else
  local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
  if n > 0 then redis.call('HSET', KEYS[1], 'n', n - 1) end
end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
`;

// A failure: the wait before the next attempt runs from now, the answer, not from when the attempt
// was counted (a password check takes a good part of a second by design).
const FAILED = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local clock = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'at', tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000))
end
return 1
`;

/** An attempt that was counted: settle it with `failed`, `succeeded` or `notAFailure`. */
export type LoginAttempt = { readonly keys: [attempts: string, budget: string] };

export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly names: Topology,
    private readonly settings: ApiSettings["login"],
  ) {}

  /**
   * Counts an attempt at `account` from `ip` before its password or code is checked; refuses
   * with TOO_MANY_REQUESTS (and the seconds to wait) when this address must wait for this
   * account, or has spent its budget.
   */
  async begin(account: string, ip: string | null): Promise<LoginAttempt> {
    const verdict = await this.attempt(account, ip);
    if (!verdict.ok) {
      const seconds = Math.max(1, Math.ceil(verdict.waitMs / 1000));
      throw new ApiError(
        "TOO_MANY_REQUESTS",
        `too many failed sign-ins; try again in ${seconds} s`,
        {
          retryAfterSeconds: seconds,
        },
      );
    }
    return verdict.attempt;
  }

  /** `begin`'s verdict as a value: counted, or how long (ms) this address must wait. */
  async attempt(
    account: string,
    ip: string | null,
  ): Promise<{ ok: true; attempt: LoginAttempt } | { ok: false; waitMs: number }> {
    const address = ip === null || ip === "" ? "unknown" : rateLimitAddress(ip);
    const keys: LoginAttempt["keys"] = [
      this.names.redis.loginAttempts(account, address),
      this.names.redis.loginBudget(address),
    ];
    const s = this.settings;
    const [counted, waitMs] = await breakers.redis.run(
      () =>
        this.redis.eval(
          ATTEMPT,
          2,
          ...keys,
          s.freeAttempts,
          s.firstDelayMs,
          s.maxDelayMs,
          s.attemptsTtlSeconds * 1000,
          s.addressBudget,
          s.addressWindowSeconds * 1000,
        ) as Promise<[number, number]>,
    );
    return counted === 1 ? { ok: true, attempt: { keys } } : { ok: false, waitMs };
  }

  /** The attempt failed: it stays counted, and the next one's wait starts now. */
  async failed(attempt: LoginAttempt): Promise<void> {
    await breakers.redis.run(() => this.redis.eval(FAILED, 1, attempt.keys[0]));
  }

  /** The attempt ended in a sign-in: forget this address's failures at the account. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.giveBack(attempt, "forget");
  }

  /**
   * The attempt was right but is not a sign-in yet (a password, the second factor to come):
   * it does not count, and the failures before it still do — or proving the password again
   * would wipe the count of wrong codes.
   */
  async notAFailure(attempt: LoginAttempt): Promise<void> {
    await this.giveBack(attempt, "return");
  }

  private async giveBack(attempt: LoginAttempt, how: "forget" | "return"): Promise<void> {
    await breakers.redis.run(() => this.redis.eval(GIVE_BACK, 2, ...attempt.keys, how));
  }
}
