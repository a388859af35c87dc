// Distributed locks on Redis with fencing tokens. A lock alone cannot protect a write: its holder
// may pause (GC, a slow disk, a lost network) past the TTL while another process takes over.
// So every acquisition also gets a fencing token, strictly greater than any before it for that
// resource, and the guarded write (PostgreSQL, see @spotx/db fencing.ts) refuses older tokens.
// The fence also carries the acquisition's random owner id: should Redis ever hand out the same
// token twice (a counter increment lost in a crash), the database accepts an equal token only
// from the owner that first wrote with it. The counter is kept durable too: the stack runs
// Redis with `appendfsync always` (tools/stack), so an acknowledged INCR survives a crash.
//
// Keys, with a hash tag so both keys of one resource sit in one Redis Cluster slot:
//   <prefix>{<resource>}         the lock: value = the holder's random owner id, PX = its TTL
//   <prefix>{<resource>}:token   the resource's fencing counter (INCR; never expires)
import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import type { Redis } from "ioredis";
import { metrics, prometheus } from "./metrics";
import { processSingleton } from "./probe";
import { topology } from "./topology";

/** Takes the lock and draws the next fencing token in one step, or returns nil if it is held. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false`;

/** Extends the lock only while the caller still owns it (compare-and-set). */
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** Deletes the lock only while the caller still owns it (compare-and-delete). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** The holder of one lock as seen now: owner, the token counter and the TTL left. */
const INSPECT = `
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2])}`;

class LuaScript {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const scripts = {
  acquire: new LuaScript(ACQUIRE),
  extend: new LuaScript(EXTEND),
  release: new LuaScript(RELEASE),
  inspect: new LuaScript(INSPECT),
};

function createLockMetrics() {
  return {
    acquireSeconds: new prometheus.Histogram({
      name: "spotx_lock_acquire_seconds",
      help: "Time to acquire a distributed lock, or to give up waiting (outcome=timeout)",
      labelNames: ["resource_kind", "outcome"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    }),
    contention: new prometheus.Counter({
      name: "spotx_lock_contention_total",
      help: "Acquisitions that found the lock held by another owner at least once",
      labelNames: ["resource_kind"] as const,
      registers: [metrics.registry],
    }),
    expiries: new prometheus.Counter({
      name: "spotx_lock_expiries_total",
      help: "Locks that expired under their holder (found gone on extend or release)",
      labelNames: ["resource_kind"] as const,
      registers: [metrics.registry],
    }),
  };
}

export const lockMetrics = processSingleton("locks.metrics", createLockMetrics);

/**
 * What a guarded write needs to check: the resource, the token the holder was given, and the
 * holder's owner id (unique per acquisition), so an equal token is only ever one holder's.
 */
export type Fence = { resource: string; token: bigint; owner: string };

export type LockHolder = {
  resource: string;
  owner: string;
  /** The fencing token of the current holder. */
  token: bigint;
  /** Milliseconds until the lock expires unless extended. */
  ttlMs: number;
};

export class LockUnavailableError extends Error {
  constructor(
    readonly resource: string,
    waitedMs: number,
  ) {
    super(`lock ${resource} is held by another owner (waited ${Math.round(waitedMs)} ms)`);
    this.name = "LockUnavailableError";
  }
}

export class LockLostError extends Error {
  constructor(readonly resource: string) {
    super(`lock ${resource} expired before its holder extended or released it`);
    this.name = "LockLostError";
  }
}

const RESOURCE = /^[A-Za-z0-9_.:-]{1,200}$/;

function resourceKind(resource: string): string {
  return resource.split(":", 1)[0] ?? resource;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A lock this process holds. Extend it before `ttlMs` runs out, release it when done. */
export class HeldLock {
  private state: "held" | "released" | "lost" = "held";

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    readonly resource: string,
    readonly owner: string,
    readonly token: bigint,
    readonly ttlMs: number,
  ) {}

  get fence(): Fence {
    return { resource: this.resource, token: this.token, owner: this.owner };
  }

  /** False once released, or once an extend or release found the lock expired. */
  get held(): boolean {
    return this.state === "held";
  }

  /** Resets the TTL; throws LockLostError when the lock already expired (maybe taken by another). */
  async extend(ttlMs = this.ttlMs): Promise<void> {
    if (this.state !== "held") throw new LockLostError(this.resource);
    const extended = await scripts.extend.run(this.redis, [this.key], [this.owner, ttlMs]);
    if (extended !== 1) {
      this.state = "lost";
      lockMetrics.expiries.inc({ resource_kind: resourceKind(this.resource) });
      throw new LockLostError(this.resource);
    }
  }

  /** Deletes the lock if still ours; false when it had expired (the work ran unprotected at the end). */
  async release(): Promise<boolean> {
    if (this.state !== "held") return false;
    const released = await scripts.release.run(this.redis, [this.key], [this.owner]);
    if (released === 1) {
      this.state = "released";
      return true;
    }
    this.state = "lost";
    lockMetrics.expiries.inc({ resource_kind: resourceKind(this.resource) });
    return false;
  }
}

export type AcquireOptions = {
  /** How long to keep trying while another owner holds the lock; 0 tries once. */
  waitMs?: number;
};

export type WithLockOptions = AcquireOptions & {
  ttlMs: number;
  /** Extend the lock this often while the work runs; defaults to a third of the TTL. */
  renewEveryMs?: number;
};

export class LockService {
  private readonly prefix: string;
  private readonly ownerPrefix: string;

  constructor(
    private readonly redis: Redis,
    options: { prefix?: string; ownerPrefix?: string } = {},
  ) {
    // The namespace's prefix, so exchanges sharing one Redis never share a lock.
    this.prefix = options.prefix ?? topology().locks.keyPrefix;
    this.ownerPrefix = options.ownerPrefix ?? `${os.hostname()}:${process.pid}`;
  }

  private lockKey(resource: string): string {
    if (!RESOURCE.test(resource)) throw new Error(`invalid lock resource name "${resource}"`);
    return `${this.prefix}{${resource}}`;
  }

  /**
   * Takes the lock on `resource` for `ttlMs`, retrying for up to `waitMs` while another owner
   * holds it. Returns null when it could not be had in time.
   */
  async acquire(
    resource: string,
    ttlMs: number,
    options: AcquireOptions = {},
  ): Promise<HeldLock | null> {
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new Error(`invalid lock TTL ${ttlMs}`);
    const key = this.lockKey(resource);
    const kind = resourceKind(resource);
    const waitMs = options.waitMs ?? 0;
    const owner = `${this.ownerPrefix}:${randomBytes(8).toString("hex")}`;
    const started = performance.now();
    let backoffMs = 5;
    let contended = false;
    for (;;) {
      const token = await scripts.acquire.run(this.redis, [key, `${key}:token`], [owner, ttlMs]);
      if (typeof token === "number") {
        const seconds = (performance.now() - started) / 1000;
        lockMetrics.acquireSeconds.observe({ resource_kind: kind, outcome: "acquired" }, seconds);
        return new HeldLock(this.redis, key, resource, owner, BigInt(token), ttlMs);
      }
      if (!contended) {
        contended = true;
        lockMetrics.contention.inc({ resource_kind: kind });
      }
      const waited = performance.now() - started;
      if (waited >= waitMs) {
        lockMetrics.acquireSeconds.observe(
          { resource_kind: kind, outcome: "timeout" },
          waited / 1000,
        );
        return null;
      }
      // Jittered exponential backoff, so waiters do not retry in lockstep.
      await delay(Math.min(waitMs - waited, backoffMs * (0.5 + Math.random())));
      backoffMs = Math.min(backoffMs * 2, 200);
    }
  }

  /**
   * Runs `work` holding the lock, extending it every `renewEveryMs` and releasing it at the
   * end. If an extension finds the lock lost, `signal` aborts; the work's guarded writes are
   * refused by their fencing check anyway. Throws LockUnavailableError when the lock is busy.
   */
  async withLock<T>(
    resource: string,
    options: WithLockOptions,
    work: (lock: HeldLock, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const lock = await this.acquire(resource, options.ttlMs, options);
    if (!lock) throw new LockUnavailableError(resource, performance.now() - started);
    const controller = new AbortController();
    const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    const timer = setInterval(() => {
      lock.extend().catch((error: unknown) => {
        clearInterval(timer);
        controller.abort(error);
      });
    }, renewEveryMs);
    timer.unref();
    try {
      return await work(lock, controller.signal);
    } finally {
      clearInterval(timer);
      await lock.release();
    }
  }

  /** Every lock held now under this service's prefix, for the operator console. */
  async holders(): Promise<LockHolder[]> {
    const found: LockHolder[] = [];
    const keys = new Set<string>();
    let cursor = "0";
    do {
      const [next, batch] = await this.redis.scan(
        cursor,
        "MATCH",
        `${this.prefix}{*}`,
        "COUNT",
        500,
      );
      cursor = next;
      for (const key of batch) if (key.endsWith("}")) keys.add(key);
    } while (cursor !== "0");
    for (const key of keys) {
      const reply = (await scripts.inspect.run(this.redis, [key, `${key}:token`], [])) as [
        string | null,
        number,
        string | null,
      ];
      const [owner, ttlMs, token] = reply;
      if (owner === null || ttlMs < 0 || token === null) continue; // released meanwhile
      const resource = key.slice(this.prefix.length + 1, -1);
      found.push({ resource, owner, token: BigInt(token), ttlMs });
    }
    return found.sort((a, b) => a.resource.localeCompare(b.resource));
  }
}
