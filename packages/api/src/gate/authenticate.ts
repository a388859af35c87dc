// Who is calling the gate.io API: the KEY header's API key, proven by SIGN over the request and
// a Timestamp within ±60 s, from an allowed address. Checked in that order, each failure with
// gate.io's label; secrets are compared in constant time and never logged. A key's last use is
// recorded at most once a minute per key and process, not per request.
//
// A key (its row, its opened secret, its user's standing) is kept in memory for `KEY_CACHE_MS`
// after it was read, so a trading program's requests cost no database round trip each: a
// revocation, a freeze or a password change is announced on Redis and drops the affected keys
// at once (`forget`); an announcement that was lost is outlived by the cache's short life.
//
// Two choices where gate.io's clients and security pull apart:
// - The query a signature covers: gate.io's own SDK signs the query before percent-escaping it,
//   so a signature over the decoded query is accepted too — but only when the decoded text says
//   exactly what the raw query says (the same names and values in the same order). Otherwise a
//   signed `a=1&b=2` could be replayed as `a%3D1%26b%3D2`, which verifies decoded yet parses as
//   one unknown name: the handler must act on what was verified.
// - Repeats: a key created with replay "gate" (the default) accepts the same signed request
//   again inside the window, as gate.io does — a program's cancel-all at the end of one run and
//   the start of the next, a grid's identical orders in one second. A "strict" key's changing
//   requests (POST, PATCH, DELETE) are accepted once (the replay guard); the same signature
//   again, in any letter case, is DUPLICATE_REQUEST. Reads are never claimed: a replayed read
//   changes nothing, and clients signing with whole seconds poll with identical signatures.
import { BlockList, isIP } from "node:net";
import { type Database, openSecret, schema } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import { and, eq, isNull } from "drizzle-orm";
import type { SignatureReplayGuard } from "../guards/replay";
import { SingleFlight } from "../single-flight";
import { GateError } from "./errors";
import { signApiRequest, signaturesMatch, signChannel, signRequest } from "./signature";

/** How far a request's Timestamp may be from the server's clock, either way. */
export const SIGNATURE_WINDOW_SECONDS = 60;
/** How long a key read from the database answers for it (see the file's opening). */
export const KEY_CACHE_MS = 5_000;
const KEY_CACHE_LIMIT = 10_000;
const TOUCH_EVERY_MS = 60_000;

export type ApiPermission = "read" | "trade";

/** An authenticated caller. */
export type ApiCaller = {
  userId: bigint;
  keyId: bigint;
  /** The public key id (KEY), for rate limits and logs; never the secret. */
  key: string;
  permissions: ApiPermission[];
  /** A frozen user may read, not trade. */
  userStatus: "active" | "frozen";
};

/** A REST request as it arrived: the raw bytes the signature covers. */
export type SignedRequest = {
  method: string;
  path: string;
  rawQuery: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  ip: string | null;
};

export type ApiKeyAuthenticatorOptions = {
  db: Database;
  /** The server key API secrets are sealed with. */
  serverKey: Buffer;
  replay: SignatureReplayGuard;
  log: Logger;
  /** The clock, in ms (tests move it). */
  now?: () => number;
  /** How long a key read from the database is kept (KEY_CACHE_MS; 0: never). */
  keyCacheMs?: number;
};

type LoadedKey = Awaited<ReturnType<ApiKeyAuthenticator["readKey"]>>;

const KEY_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;
const TIMESTAMP_SHAPE = /^\d{1,12}(\.\d{1,9})?$/;

function header(headers: SignedRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** The address as the allowlist sees it: an IPv4 client on a dual-stack socket is IPv4. */
function plainAddress(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Whether `ip` is in the key's allowlist (IPs and CIDRs); entries that do not parse allow nothing. */
export function addressAllowed(allowlist: readonly string[], ip: string | null): boolean {
  if (ip === null) return false;
  const address = plainAddress(ip);
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of allowlist) {
    const [base = "", prefix] = entry.trim().split("/");
    const entryFamily = isIP(base);
    if (entryFamily === 0) continue;
    const type = entryFamily === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      list.addAddress(base, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (entryFamily === 4 ? 32 : 128)) continue;
    list.addSubnet(base, bits, type);
  }
  return list.check(address, family === 4 ? "ipv4" : "ipv6");
}

export class ApiKeyAuthenticator {
  private readonly lastTouched = new Map<bigint, number>();
  private readonly now: () => number;
  private readonly keys = new Map<string, { key: LoadedKey; until: number }>();
  /** Reads of a key not kept: one per key at a time, shared by the requests that need it. */
  private readonly reads = new SingleFlight<string, LoadedKey>();
  /** Counts forget() calls: a read that started before one is answered but not kept. */
  private generation = 0;

  constructor(private readonly options: ApiKeyAuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Drops the kept keys a credential change concerns: the revoked key, or every key of a user
   * frozen or whose password changed. The next request reads them from the database again.
   */
  forget(change: { userId: bigint; keyId?: bigint }): void {
    this.generation += 1;
    this.reads.clear();
    for (const [name, entry] of this.keys) {
      const k = entry.key;
      if (change.keyId !== undefined ? k.id === change.keyId : k.userId === change.userId) {
        this.keys.delete(name);
      }
    }
  }

  /** The caller of a signed REST request, or a GateError with the label gate.io gives. */
  async authenticate(request: SignedRequest): Promise<ApiCaller> {
    const key = header(request.headers, "key");
    const timestamp = header(request.headers, "timestamp");
    const sign = header(request.headers, "sign");
    const missing = [
      ["KEY", key],
      ["Timestamp", timestamp],
      ["SIGN", sign],
    ].find(([, value]) => value === undefined);
    if (missing || key === undefined || timestamp === undefined || sign === undefined) {
      throw new GateError("MISSING_REQUIRED_HEADER", `missing required header: ${missing?.[0]}`);
    }
    const signedAt = this.checkTimestamp(timestamp);
    const found = await this.loadKey(key);
    const expected = signRequest(found.secret, {
      method: request.method,
      path: request.path,
      query: request.rawQuery,
      body: request.body,
      timestamp,
    });
    if (!signaturesMatch(expected, sign)) {
      const decoded = decodedQuerySameAsRaw(request.rawQuery);
      const again =
        decoded === null
          ? null
          : signRequest(found.secret, {
              method: request.method,
              path: request.path,
              query: decoded,
              body: request.body,
              timestamp,
            });
      if (again === null || !signaturesMatch(again, sign)) {
        throw new GateError("INVALID_SIGNATURE", "signature mismatch");
      }
    }
    const changes = request.method !== "GET" && request.method !== "HEAD";
    return this.admit(
      found,
      request.ip,
      changes && found.replayMode === "strict"
        ? { sign, ttlMs: this.verifiableForMs(signedAt) }
        : null,
    );
  }

  /** The caller of a signed WebSocket channel request (`auth: {method, KEY, SIGN}`). */
  async authenticateChannel(input: {
    key: string;
    sign: string;
    channel: string;
    event: string;
    time: number;
    ip: string | null;
  }): Promise<ApiCaller> {
    const found = await this.loadKey(input.key);
    const expected = signChannel(found.secret, input.channel, input.event, input.time);
    if (!signaturesMatch(expected, input.sign)) {
      throw new GateError("INVALID_SIGNATURE", "signature mismatch");
    }
    if (found.ipAllowlist && !addressAllowed(found.ipAllowlist, input.ip)) {
      throw new GateError("FORBIDDEN", "this API key may not be used from this address");
    }
    this.touch(found.id);
    return caller(found);
  }

  /**
   * The caller of a WebSocket API request signed in its payload (`spot.login`, or any order
   * request): the signature over "api", the channel, the `req_param` text as sent and a
   * timestamp — the envelope's `time` or the payload's `timestamp`, whichever verifies, within
   * ±60 s. A request that `changes` orders is claimed once for a key with replay "strict", as
   * REST claims a signed POST or DELETE.
   */
  async authenticateApi(input: {
    key: string;
    sign: string;
    channel: string;
    reqParam: string;
    /** The timestamps the client may have signed (seconds, as text), tried in order. */
    timestamps: readonly string[];
    changes: boolean;
    ip: string | null;
  }): Promise<ApiCaller> {
    const found = await this.loadKey(input.key);
    const timestamp = input.timestamps.find((t) =>
      signaturesMatch(signApiRequest(found.secret, input.channel, input.reqParam, t), input.sign),
    );
    if (timestamp === undefined) throw new GateError("INVALID_SIGNATURE", "signature mismatch");
    const signedAt = this.checkTimestamp(timestamp);
    return this.admit(
      found,
      input.ip,
      input.changes && found.replayMode === "strict"
        ? { sign: input.sign, ttlMs: this.verifiableForMs(signedAt) }
        : null,
    );
  }

  /**
   * The caller `key` stands for now, for a request on a connection that logged in with it
   * earlier: a key revoked since is INVALID_KEY, an address outside its allowlist FORBIDDEN, and
   * the permissions and the user's standing are the current ones.
   */
  async current(key: string, ip: string | null): Promise<ApiCaller> {
    return this.admit(await this.loadKey(key), ip, null);
  }

  /** The Timestamp in seconds (REQUEST_EXPIRED when malformed or beyond the window). */
  private checkTimestamp(timestamp: string): number {
    if (!TIMESTAMP_SHAPE.test(timestamp)) {
      throw new GateError("REQUEST_EXPIRED", "Timestamp must be Unix time in seconds");
    }
    const signedAt = Number(timestamp);
    if (Math.abs(this.now() / 1000 - signedAt) > SIGNATURE_WINDOW_SECONDS) {
      throw new GateError(
        "REQUEST_EXPIRED",
        `Timestamp is more than ${SIGNATURE_WINDOW_SECONDS} s away from the server's time`,
      );
    }
    return signedAt;
  }

  /**
   * How long a request signed at `signedAt` (seconds) can still verify: until its Timestamp
   * falls out of the window behind us — for a Timestamp ahead of the server's clock, longer than
   * the window itself. A second more, for clocks that differ between web instances.
   */
  private verifiableForMs(signedAt: number): number {
    return Math.ceil((signedAt + SIGNATURE_WINDOW_SECONDS) * 1000 - this.now()) + 1_000;
  }

  private async loadKey(key: string): Promise<LoadedKey> {
    if (!KEY_SHAPE.test(key)) throw new GateError("INVALID_KEY", "invalid API key");
    const ttl = this.options.keyCacheMs ?? KEY_CACHE_MS;
    const now = this.now();
    const kept = this.keys.get(key);
    if (kept && kept.until > now) return kept.key;
    const generation = this.generation;
    const found = await this.reads.run(key, () => this.readKey(key));
    if (ttl > 0 && generation === this.generation) {
      this.keys.delete(key);
      if (this.keys.size >= KEY_CACHE_LIMIT) {
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) this.keys.delete(oldest);
      }
      this.keys.set(key, { key: found, until: now + ttl });
    }
    return found;
  }

  private async readKey(key: string) {
    const { apiKeys, users } = schema;
    const rows = await this.options.db
      .select({
        id: apiKeys.id,
        userId: apiKeys.userId,
        key: apiKeys.key,
        secretSealed: apiKeys.secretSealed,
        permissions: apiKeys.permissions,
        ipAllowlist: apiKeys.ipAllowlist,
        replayMode: apiKeys.replayMode,
        userStatus: users.status,
      })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(eq(apiKeys.key, key), isNull(apiKeys.revokedAt)))
      .limit(1);
    const row = rows[0];
    if (!row) throw new GateError("INVALID_KEY", "invalid API key");
    return { ...row, secret: openSecret(row.secretSealed, this.options.serverKey) };
  }

  private async admit(
    found: LoadedKey,
    ip: string | null,
    once: { sign: string; ttlMs: number } | null,
  ): Promise<ApiCaller> {
    if (found.ipAllowlist && !addressAllowed(found.ipAllowlist, ip)) {
      throw new GateError("FORBIDDEN", "this API key may not be used from this address");
    }
    // Only a verified signature is recorded: nobody can burn another client's signatures.
    if (once && !(await this.options.replay.claim(once.sign, once.ttlMs))) {
      throw new GateError(
        "DUPLICATE_REQUEST",
        'this signed request was already received, and this API key (replay "strict") accepts each signed request once: sign a repeat with a new Timestamp',
      );
    }
    this.touch(found.id);
    return caller(found);
  }

  /** Records the key's last use, at most once a minute per key in this process. */
  private touch(keyId: bigint) {
    const now = this.now();
    const last = this.lastTouched.get(keyId) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.lastTouched.set(keyId, now);
    const { apiKeys } = schema;
    this.options.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now) })
      .where(eq(apiKeys.id, keyId))
      .catch((error: unknown) =>
        this.options.log.warn({ err: error, keyId: String(keyId) }, "could not record key use"),
      );
  }
}

function caller(found: {
  id: bigint;
  userId: bigint;
  key: string;
  permissions: ApiPermission[];
  userStatus: "active" | "frozen";
}): ApiCaller {
  return {
    userId: found.userId,
    keyId: found.id,
    key: found.key,
    permissions: found.permissions,
    userStatus: found.userStatus,
  };
}

/**
 * The query with its %XX escapes decoded, when that text means exactly what the raw query means
 * (the same names and values, in the same order); null when it would mean something else, or
 * does not decode, or has nothing to decode.
 */
export function decodedQuerySameAsRaw(raw: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded === raw) return null;
  const a = [...new URLSearchParams(raw)];
  const b = [...new URLSearchParams(decoded)];
  const same =
    a.length === b.length &&
    a.every(([name, value], i) => b[i]?.[0] === name && b[i]?.[1] === value);
  return same ? decoded : null;
}
