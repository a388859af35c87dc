// Who is calling the gate.io API: the KEY header's API key, proven by SIGN over the raw request
// and a Timestamp within ±60 s, from an allowed address, and — for a request that changes
// something (POST, DELETE) — used once (replay cache). Reads are not claimed: a replayed read
// changes nothing, and clients that sign with whole-second Timestamps legitimately send the
// same read twice in a second when they poll. Checked in that order, each failure with
// gate.io's label; secrets are compared in constant time and never logged. A key's last use is
// recorded at most once a minute per key and process, not per request.
import { BlockList, isIP } from "node:net";
import { type Database, openSecret, schema } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import { and, eq, isNull } from "drizzle-orm";
import type { SignatureReplayGuard } from "../guards/replay";
import { GateError } from "./errors";
import { signaturesMatch, signChannel, signRequest } from "./signature";

/** How far a request's Timestamp may be from the server's clock, either way. */
export const SIGNATURE_WINDOW_SECONDS = 60;
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
};

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

  constructor(private readonly options: ApiKeyAuthenticatorOptions) {
    this.now = options.now ?? Date.now;
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
    const age = this.checkTimestamp(timestamp);
    const found = await this.loadKey(key);
    const expected = signRequest(found.secret, {
      method: request.method,
      path: request.path,
      query: request.rawQuery,
      body: request.body,
      timestamp,
    });
    if (!signaturesMatch(expected, sign)) {
      // gate.io's own SDK signs the query it serialised before percent-escaping (unescaped):
      // the same bytes decoded, still in the order sent.
      const decoded = decodeQuery(request.rawQuery);
      const again =
        decoded !== null && decoded !== request.rawQuery
          ? signRequest(found.secret, {
              method: request.method,
              path: request.path,
              query: decoded,
              body: request.body,
              timestamp,
            })
          : null;
      if (again === null || !signaturesMatch(again, sign)) {
        throw new GateError("INVALID_SIGNATURE", "signature mismatch");
      }
    }
    const changes = request.method !== "GET" && request.method !== "HEAD";
    return this.admit(
      found,
      request.ip,
      changes ? { sign, ttlSeconds: SIGNATURE_WINDOW_SECONDS - age + 1 } : null,
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

  /** Seconds the Timestamp is away from now (REQUEST_EXPIRED beyond the window). */
  private checkTimestamp(timestamp: string): number {
    if (!TIMESTAMP_SHAPE.test(timestamp)) {
      throw new GateError("REQUEST_EXPIRED", "Timestamp must be Unix time in seconds");
    }
    const skew = Math.abs(this.now() / 1000 - Number(timestamp));
    if (skew > SIGNATURE_WINDOW_SECONDS) {
      throw new GateError(
        "REQUEST_EXPIRED",
        `Timestamp is more than ${SIGNATURE_WINDOW_SECONDS} s away from the server's time`,
      );
    }
    return skew;
  }

  private async loadKey(key: string) {
    if (!KEY_SHAPE.test(key)) throw new GateError("INVALID_KEY", "invalid API key");
    const { apiKeys, users } = schema;
    const rows = await this.options.db
      .select({
        id: apiKeys.id,
        userId: apiKeys.userId,
        key: apiKeys.key,
        secretSealed: apiKeys.secretSealed,
        permissions: apiKeys.permissions,
        ipAllowlist: apiKeys.ipAllowlist,
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
    found: Awaited<ReturnType<ApiKeyAuthenticator["loadKey"]>>,
    ip: string | null,
    once: { sign: string; ttlSeconds: number } | null,
  ): Promise<ApiCaller> {
    if (found.ipAllowlist && !addressAllowed(found.ipAllowlist, ip)) {
      throw new GateError("FORBIDDEN", "this API key may not be used from this address");
    }
    // Only a verified signature is recorded: nobody can burn another client's signatures.
    if (once && !(await this.options.replay.claim(once.sign, once.ttlSeconds))) {
      throw new GateError(
        "REQUEST_EXPIRED",
        "this signed request was already received; sign each request anew",
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

/** The query with %XX escapes decoded (null when it does not decode). */
function decodeQuery(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
