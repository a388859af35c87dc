// Replay protection for signed requests whose key asks for it (replay "strict"): a signature is
// accepted once. gate.io only bounds a request by its Timestamp (±60 s); a strict key's accepted
// signatures are also remembered for as long as the request could still verify (Redis SET NX
// with that expiry), so a captured request cannot be sent again inside the window either. The
// claim is on the signature's bytes, not its text: hex may be sent in any case, and one
// signature is one claim however it is spelled.
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
   * Records the signature `sign` (hex, any case) for `ttlMs`; true the first time, false for a
   * replay. Only call it for a signature already verified, or anyone could burn another
   * client's signatures. Throws ServiceUnavailableError (@spotx/platform/breakers) when Redis
   * cannot answer.
   */
  async claim(sign: string, ttlMs: number): Promise<boolean> {
    // The digest of the decoded bytes keeps keys short, stores no signature in Redis, and makes
    // "ABC…" and "abc…" the same claim.
    const digest = createHash("sha256").update(Buffer.from(sign, "hex")).digest("hex");
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const { redis, names } = this.options;
    const answer = await this.breaker.run(() => {
      // A lost connection fails now rather than after the breaker's timeout; a first connect
      // still in progress is waited for (within that timeout).
      if (!["ready", "connect", "connecting"].includes(redis.status)) {
        throw new Error(`Redis is ${redis.status}, not connected`);
      }
      return redis.set(names.redis.usedSignature(digest), "1", "PX", ttl, "NX");
    });
    return answer === "OK";
  }
}
