// Sessions live in Redis: one hash per session (user, the current refresh token's hash, the
// one it replaced, when, and the session's hard end), with a TTL that every refresh renews up to
// that end. The record is the session: deleting it revokes the session's access tokens (every
// request checks the record exists) and its refresh token at once, so logout and a password
// change take effect on the next request, with no denylist to keep.
//
// Refresh tokens rotate: each use replaces the token, and presenting a replaced token again is
// taken for theft — the whole session (the token family) is revoked — except within a short
// grace after the replacement, when it is a browser's parallel requests racing (see
// ApiSettings.sessions.refreshGraceSeconds). Rotation is one Lua script, so two refreshes with
// the same token cannot both rotate.
import { createHash, randomBytes } from "node:crypto";
import { breakers } from "@spotx/platform/breakers";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import type { ApiSettings } from "../settings";
import { isSessionId, newSessionId } from "./session-token";

const REFRESH_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export type RotateOutcome =
  /** The token was current: here is its replacement. */
  | { outcome: "rotated"; sessionId: string; userId: bigint; refreshToken: string }
  /** The token was replaced moments ago by a parallel request: a new access token only. */
  | { outcome: "superseded"; sessionId: string; userId: bigint }
  /** A replaced token presented again: the session has just been revoked. */
  | { outcome: "reused"; sessionId: string; userId: bigint }
  /** No such session (ended, revoked, or the token is not one of ours). */
  | { outcome: "unknown" };

// KEYS[1] the session. ARGV: presented hash, new hash, now (ms), grace (ms), idle TTL (ms).
const ROTATE = `
local s = redis.call('HMGET', KEYS[1], 'userId', 'refresh', 'previous', 'rotatedAt', 'expiresAt')
local userId = s[1]
if not userId then return {'unknown', ''} end
local now = tonumber(ARGV[3])
if s[2] == ARGV[1] then
  local ttl = math.min(tonumber(ARGV[5]), tonumber(s[5]) - now)
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
    return {'unknown', ''}
  end
  redis.call('HSET', KEYS[1], 'refresh', ARGV[2], 'previous', ARGV[1], 'rotatedAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {'rotated', userId}
end
if s[3] == ARGV[1] and now - tonumber(s[4]) <= tonumber(ARGV[4]) then
  return {'superseded', userId}
end
redis.call('DEL', KEYS[1])
return {'reused', userId}
`;

const digest = (secret: string) => createHash("sha256").update(secret).digest("hex");

/** The session id a refresh token names, or null when it is not shaped like one. */
export function refreshTokenSession(token: string): string | null {
  return REFRESH_TOKEN.exec(token)?.[1] ?? null;
}

export type SessionOrigin = { ip: string | null; userAgent: string | null };

/** What the record says of one live session (times in ms since the epoch). */
export type SessionSummary = {
  sessionId: string;
  userId: bigint;
  createdAt: number | null;
  /** The last refresh (rotation of its refresh token); null when never refreshed. */
  refreshedAt: number | null;
  /** When it ends unless refreshed before: the record's TTL (never past `endsAt`). */
  expiresAt: number | null;
  /** The hard end, which no refresh moves. */
  endsAt: number | null;
  /** The client that signed in, as the web server saw it. */
  ip: string | null;
  userAgent: string | null;
};

const SUMMARY_FIELDS = [
  "userId",
  "createdAt",
  "rotatedAt",
  "expiresAt",
  "ip",
  "userAgent",
] as const;

const millis = (text: string | null | undefined): number | null =>
  text && /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : null;

/** A session's summary from its HMGET (SUMMARY_FIELDS) and PTTL replies; null when it is gone. */
function summaryOf(
  sessionId: string,
  fields: ReadonlyArray<string | null>,
  pttl: number,
  now: number,
): SessionSummary | null {
  const [userText, created, rotated, ends, ip, userAgent] = fields;
  if (!userText || !/^[1-9][0-9]{0,18}$/.test(userText)) return null;
  return {
    sessionId,
    userId: BigInt(userText),
    createdAt: millis(created),
    refreshedAt: millis(rotated),
    expiresAt: pttl > 0 ? now + pttl : null,
    endsAt: millis(ends),
    ip: ip || null,
    userAgent: userAgent || null,
  };
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly names: Topology,
    private readonly settings: ApiSettings["sessions"],
  ) {}

  /** Starts a session for a user who just proved who they are. */
  async create(
    userId: bigint,
    origin: SessionOrigin,
  ): Promise<{ sessionId: string; refreshToken: string }> {
    const sessionId = newSessionId();
    const secret = randomBytes(32).toString("base64url");
    const now = Date.now();
    const { refreshTtlSeconds, absoluteTtlSeconds } = this.settings;
    const key = this.names.redis.session(sessionId);
    const userKey = this.names.redis.userSessions(userId);
    await breakers.redis.run(() =>
      this.redis
        .multi()
        .hset(key, {
          userId: String(userId),
          refresh: digest(secret),
          previous: "",
          rotatedAt: "0",
          createdAt: String(now),
          expiresAt: String(now + absoluteTtlSeconds * 1000),
          ip: origin.ip ?? "",
          userAgent: (origin.userAgent ?? "").slice(0, 300),
        })
        .pexpire(key, Math.min(refreshTtlSeconds, absoluteTtlSeconds) * 1000)
        .sadd(userKey, sessionId)
        .pexpire(userKey, absoluteTtlSeconds * 1000)
        .exec(),
    );
    return { sessionId, refreshToken: `${sessionId}.${secret}` };
  }

  /** The user a live session belongs to, or null when it ended or was revoked. */
  async userOf(sessionId: string): Promise<bigint | null> {
    if (!isSessionId(sessionId)) return null;
    const userId = await breakers.redis.run(() =>
      this.redis.hget(this.names.redis.session(sessionId), "userId"),
    );
    return userId ? BigInt(userId) : null;
  }

  /** One live session as its record has it, or null when it ended (or never was). */
  async describe(sessionId: string): Promise<SessionSummary | null> {
    if (!isSessionId(sessionId)) return null;
    const key = this.names.redis.session(sessionId);
    const replies = await breakers.redis.run(() =>
      this.redis
        .multi()
        .hmget(key, ...SUMMARY_FIELDS)
        .pttl(key)
        .exec(),
    );
    const [fields, pttl] = replies ?? [];
    return summaryOf(
      sessionId,
      (fields?.[1] as Array<string | null> | undefined) ?? [],
      Number(pttl?.[1] ?? -2),
      Date.now(),
    );
  }

  /**
   * A user's live sessions, newest first, from the user's index of session ids (no SCAN). Ids
   * whose record is gone — expired, or ended by a path that did not reach the index — are
   * dropped from the index on the way.
   */
  async list(userId: bigint): Promise<SessionSummary[]> {
    const userKey = this.names.redis.userSessions(userId);
    const ids = (await breakers.redis.run(() => this.redis.smembers(userKey))).filter(isSessionId);
    if (ids.length === 0) return [];
    const replies = await breakers.redis.run(() => {
      const batch = this.redis.pipeline();
      for (const id of ids) {
        const key = this.names.redis.session(id);
        batch.hmget(key, ...SUMMARY_FIELDS).pttl(key);
      }
      return batch.exec();
    });
    const now = Date.now();
    const live: SessionSummary[] = [];
    const gone: string[] = [];
    ids.forEach((id, index) => {
      const [fieldsError, fields] = replies?.[index * 2] ?? [];
      const [ttlError, pttl] = replies?.[index * 2 + 1] ?? [];
      if (fieldsError || ttlError) throw fieldsError ?? ttlError;
      const summary = summaryOf(id, (fields as Array<string | null>) ?? [], Number(pttl), now);
      if (summary && summary.userId === userId) live.push(summary);
      else gone.push(id);
    });
    if (gone.length > 0) await this.forget(userId, gone);
    return live.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
  }

  /** Exchanges a refresh token for its successor (see the file's head for the rules). */
  async rotate(refreshToken: string): Promise<RotateOutcome> {
    const match = REFRESH_TOKEN.exec(refreshToken);
    const sessionId = match?.[1];
    const secret = match?.[2];
    if (!sessionId || !secret) return { outcome: "unknown" };
    const next = randomBytes(32).toString("base64url");
    const { refreshTtlSeconds, refreshGraceSeconds } = this.settings;
    const reply = await breakers.redis.run(() =>
      this.redis.eval(
        ROTATE,
        1,
        this.names.redis.session(sessionId),
        digest(secret),
        digest(next),
        String(Date.now()),
        String(refreshGraceSeconds * 1000),
        String(refreshTtlSeconds * 1000),
      ),
    );
    const [outcome, userText] = Array.isArray(reply) ? reply.map(String) : [];
    if (!userText || !/^[1-9][0-9]{0,18}$/.test(userText)) return { outcome: "unknown" };
    const userId = BigInt(userText);
    switch (outcome) {
      case "rotated":
        return { outcome, sessionId, userId, refreshToken: `${sessionId}.${next}` };
      case "superseded":
        return { outcome, sessionId, userId };
      case "reused":
        await this.forget(userId, [sessionId]);
        return { outcome, sessionId, userId };
      default:
        return { outcome: "unknown" };
    }
  }

  /** Ends one session; true when it was live. */
  async revoke(sessionId: string): Promise<boolean> {
    if (!isSessionId(sessionId)) return false;
    const key = this.names.redis.session(sessionId);
    const userId = await breakers.redis.run(() => this.redis.hget(key, "userId"));
    if (!userId) return false;
    const deleted = await breakers.redis.run(() => this.redis.del(key));
    await this.forget(BigInt(userId), [sessionId]);
    return deleted > 0;
  }

  /** Ends every session of a user (a password change); returns the ids that were live. */
  async revokeAll(userId: bigint): Promise<string[]> {
    const userKey = this.names.redis.userSessions(userId);
    const ids = await breakers.redis.run(() => this.redis.smembers(userKey));
    const valid = ids.filter(isSessionId);
    if (valid.length === 0) return [];
    const results = await breakers.redis.run(() => {
      const batch = this.redis.multi();
      for (const id of valid) batch.del(this.names.redis.session(id));
      batch.srem(userKey, ...valid);
      return batch.exec();
    });
    return valid.filter((_, index) => results?.[index]?.[1] === 1);
  }

  private async forget(userId: bigint, sessionIds: string[]) {
    await breakers.redis.run(() =>
      this.redis.srem(this.names.redis.userSessions(userId), ...sessionIds),
    );
  }
}
