// Replay protection for signed requests: a SIGN is accepted once. gate.io only bounds a request
// by its Timestamp (±60 s); spotx also remembers every SIGN it accepted for as long as its
// Timestamp is acceptable (Redis SET NX with that expiry), so a captured request cannot be sent
// again inside the window either.
import { createHash } from "node:crypto";
import { breakers, type DependencyBreaker } from "@spotx/platform/breakers";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";

export type SignatureReplayGuardOptions = {
  redis: Redis;
  names: Topology;
  /** The breaker Redis calls go through (the process's Redis breaker by default). */
  breaker?: DependencyBreaker;
};

export class SignatureReplayGuard {
  private readonly breaker: DependencyBreaker;

  constructor(private readonly options: SignatureReplayGuardOptions) {
    this.breaker = options.breaker ?? breakers.redis;
  }

  /**
   * Records `sign` for `ttlSeconds`; true the first time, false for a replay. Only call it for
   * a signature already verified, or anyone could burn another client's signatures.
   * Throws ServiceUnavailableError (@spotx/platform/breakers) when Redis cannot answer.
   */
  async claim(sign: string, ttlSeconds: number): Promise<boolean> {
    // The digest keeps keys short and stores no signature in Redis.
    const digest = createHash("sha256").update(sign).digest("hex");
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const { redis, names } = this.options;
    const answer = await this.breaker.run(() => {
      // A lost connection fails now rather than after the breaker's timeout; a first connect
      // still in progress is waited for (within that timeout).
      if (!["ready", "connect", "connecting"].includes(redis.status)) {
        throw new Error(`Redis is ${redis.status}, not connected`);
      }
      return redis.set(names.redis.usedSignature(digest), "1", "EX", ttl, "NX");
    });
    return answer === "OK";
  }
}
