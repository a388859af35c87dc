// admin.users.sessions / endSession / apiKeys / revokeApiKey: an operator sees a user's live
// sessions (when they started and were last refreshed, when they expire, the address and browser
// that signed in) and API keys; ending a session logs that browser out on its next request (its
// refresh token dies with it); revoking a key marks it revoked and announces it to every web
// instance. Each change is audited with the reason, before and after; a refusal changes nothing.
// Against the real PostgreSQL and Redis.
import { createApiKey, findApiKey, schema } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialChange } from "../../src/auth/credential-events";
import { CredentialListener } from "../../src/auth/credential-listener";
import { SESSION_COOKIE } from "../../src/auth/session-cookies";
import {
  type ApiFixture,
  CookieJar,
  errorOf,
  resultOf,
  startApiFixture,
  type TestUser,
} from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
});
afterAll(async () => {
  await f?.stop();
});

const admin = () => f.callerAs(operator);
const reason = "suspected account takeover";

async function lastAudit(subject: string) {
  const [row] = await f.db
    .select()
    .from(schema.auditLog)
    .where(eq(schema.auditLog.subject, subject))
    .orderBy(desc(schema.auditLog.id))
    .limit(1);
  return row;
}

/** Signs a trader in over HTTP from a given address and browser, as the login page does. */
async function browserOf(user: TestUser, ip: string, userAgent: string) {
  const jar = new CookieJar();
  const answer = await f.http("auth.logIn", {
    input: { email: user.email, password: user.password },
    jar,
    ip,
    headers: { "user-agent": userAgent },
  });
  expect(resultOf<{ outcome: string }>(answer).outcome).toBe("signed_in");
  return jar;
}

const balancesOf = (jar: CookieJar) => f.http("account.balances", { method: "GET", jar });

describe("a user's sessions", () => {
  it("lists each live session with its times and the client that signed in, newest first", async () => {
    const trader = await f.createUser();
    const signedIn = Date.now();
    await browserOf(trader, "203.0.113.5", "Firefox/128 on the test's desk");
    await browserOf(trader, "198.51.100.9", "Safari on the test's phone");
    const { sessions } = await (await admin()).admin.users.sessions({ userId: trader.id });
    expect(sessions.map((s) => [s.ip, s.userAgent, s.current])).toEqual([
      ["198.51.100.9", "Safari on the test's phone", false],
      ["203.0.113.5", "Firefox/128 on the test's desk", false],
    ]);
    const { refreshTtlSeconds, absoluteTtlSeconds } = f.settings.sessions;
    for (const s of sessions) {
      expect(s.createdAt?.getTime()).toBeGreaterThanOrEqual(signedIn - 1_000);
      expect(s.refreshedAt).toBeNull();
      const created = s.createdAt?.getTime() ?? 0;
      // Idle expiry a refresh TTL after sign-in (the record's TTL), the hard end further out.
      expect(s.expiresAt?.getTime()).toBeGreaterThan(created + refreshTtlSeconds * 1000 - 5_000);
      expect(s.expiresAt?.getTime()).toBeLessThanOrEqual(
        created + refreshTtlSeconds * 1000 + 1_000,
      );
      expect(s.endsAt?.getTime()).toBe(created + absoluteTtlSeconds * 1000);
    }
  });

  it("drops from the user's index a session whose record is gone, without a SCAN", async () => {
    const trader = await f.createUser();
    const kept = await f.services.sessions.create(trader.id, { ip: null, userAgent: null });
    const lapsed = await f.services.sessions.create(trader.id, { ip: null, userAgent: null });
    await f.redis.del(f.names.redis.session(lapsed.sessionId)); // as if its TTL ran out
    const { sessions } = await (await admin()).admin.users.sessions({ userId: trader.id });
    expect(sessions.map((s) => s.sessionId)).toEqual([kept.sessionId]);
    expect(await f.redis.smembers(f.names.redis.userSessions(trader.id))).toEqual([kept.sessionId]);
  });

  it("ends a session: that browser is signed out at its next request, audited with the reason", async () => {
    const trader = await f.createUser();
    const phone = await browserOf(trader, "198.51.100.9", "the phone");
    const desk = await browserOf(trader, "203.0.113.5", "the desk");
    expect((await balancesOf(phone)).status).toBe(200);
    const caller = await admin();
    const { sessions } = await caller.admin.users.sessions({ userId: trader.id });
    const target = sessions.find((s) => s.userAgent === "the phone");
    if (!target) throw new Error("the phone's session is not listed");

    const ended = await caller.admin.users.endSession({
      userId: trader.id,
      sessionId: target.sessionId,
      reason,
    });
    expect(ended).toMatchObject({ ended: true, current: false });

    // The access token is refused, and its refresh token does not bring the session back.
    const next = await balancesOf(phone);
    expect([next.status, errorOf(next).label]).toEqual([401, "LOGIN_REQUIRED"]);
    phone.cookies.delete(SESSION_COOKIE);
    const refreshed = await balancesOf(phone);
    expect([refreshed.status, errorOf(refreshed).label]).toEqual([401, "LOGIN_REQUIRED"]);
    // The other browser is untouched.
    expect((await balancesOf(desk)).status).toBe(200);
    const after = await caller.admin.users.sessions({ userId: trader.id });
    expect(after.sessions.map((s) => s.userAgent)).toEqual(["the desk"]);

    const audit = await lastAudit(`user:${trader.id}`);
    expect(audit).toMatchObject({ id: ended.auditId, actorId: operator.id, action: "session.end" });
    expect(audit?.details).toMatchObject({
      reason,
      before: {
        session: { sessionId: target.sessionId, ip: "198.51.100.9", userAgent: "the phone" },
      },
      after: { session: null },
    });
  });

  it("refuses another user's session, an ended one and a malformed id, changing nothing", async () => {
    const trader = await f.createUser();
    const other = await f.createUser();
    const theirs = await f.services.sessions.create(other.id, { ip: null, userAgent: null });
    const caller = await admin();
    const auditBefore = await lastAudit(`user:${trader.id}`);
    expect(
      await refusal(
        caller.admin.users.endSession({ userId: trader.id, sessionId: theirs.sessionId, reason }),
      ),
    ).toEqual({ label: "NOT_FOUND", status: 404 });
    expect(await f.services.sessions.userOf(theirs.sessionId)).toBe(other.id);
    await f.services.sessions.revoke(theirs.sessionId);
    expect(
      await refusal(
        caller.admin.users.endSession({ userId: other.id, sessionId: theirs.sessionId, reason }),
      ),
    ).toEqual({ label: "NOT_FOUND", status: 404 });
    expect(
      await refusal(
        caller.admin.users.endSession({ userId: trader.id, sessionId: "../../etc", reason }),
      ),
    ).toEqual({ label: "INVALID_PARAM_VALUE", status: 400 });
    const live = await f.services.sessions.create(trader.id, { ip: null, userAgent: null });
    expect(
      await refusal(
        caller.admin.users.endSession({ userId: trader.id, sessionId: live.sessionId, reason: "" }),
      ),
    ).toEqual({ label: "INVALID_PARAM_VALUE", status: 400 });
    expect(await f.services.sessions.userOf(live.sessionId)).toBe(trader.id);
    expect(await lastAudit(`user:${trader.id}`)).toEqual(auditBefore);
  });

  it("signs the operator's own browser out when they end the session they are using", async () => {
    const jar = await f.signIn(operator);
    const listed = await f.http("admin.users.sessions", {
      method: "GET",
      input: { userId: String(operator.id) },
      jar,
    });
    const own = resultOf<{ sessions: Array<{ sessionId: string; current: boolean }> }>(listed);
    const current = own.sessions.find((s) => s.current);
    if (!current) throw new Error("the operator's current session is not marked");
    const answer = await f.http("admin.users.endSession", {
      input: { userId: String(operator.id), sessionId: current.sessionId, reason: "leaving" },
      jar,
    });
    expect(resultOf<{ current: boolean }>(answer).current).toBe(true);
    // The answer cleared this browser's cookies; the session is gone either way.
    expect(jar.session).toBeUndefined();
    expect(await f.services.sessions.userOf(current.sessionId)).toBeNull();
    const audit = await lastAudit(`user:${operator.id}`);
    expect(audit).toMatchObject({ action: "session.end", details: { ownSession: true } });
  });
});

describe("a user's API keys", () => {
  it("revokes a key: refused from then on, announced to every web instance, audited", async () => {
    const trader = await f.createUser();
    const made = await createApiKey(f.db, f.services.apiKeySealingKey, {
      userId: trader.id,
      permissions: ["read", "trade"],
      label: "grid bot",
    });
    const spare = await createApiKey(f.db, f.services.apiKeySealingKey, {
      userId: trader.id,
      permissions: ["read"],
    });
    const caller = await admin();
    const { keys } = await caller.admin.users.apiKeys({ userId: trader.id });
    expect(keys.map((k) => [k.id, k.key, k.label, k.permissions, k.revokedAt])).toEqual([
      [spare.id, spare.key, "", ["read"], null],
      [made.id, made.key, "grid bot", ["read", "trade"], null],
    ]);
    expect(JSON.stringify(keys, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(
      made.secret,
    );

    // What every web instance hears (gate-server and the WebSocket API listen the same way).
    const heard: CredentialChange[] = [];
    const listener = new CredentialListener({
      redis: f.redis,
      names: f.names,
      log: logger("test-credentials"),
      onChange: (change) => heard.push(change),
    });
    await listener.start();
    try {
      const revoked = await caller.admin.users.revokeApiKey({
        userId: trader.id,
        keyId: made.id,
        reason,
      });
      expect(revoked.changed).toBe(true);
      expect(revoked.key.revokedAt).toBeInstanceOf(Date);
      expect(await findApiKey(f.db, f.services.apiKeySealingKey, made.key)).toBeUndefined();
      expect(await findApiKey(f.db, f.services.apiKeySealingKey, spare.key)).toBeDefined();
      await expect
        .poll(() => heard, { timeout: 5_000, interval: 20 })
        .toEqual([{ userId: trader.id, keyId: made.id, reason: "key_revoked" }]);

      const audit = await lastAudit(`user:${trader.id}`);
      expect(audit).toMatchObject({ id: revoked.auditId, action: "apikey.revoke" });
      expect(audit?.details).toMatchObject({
        reason,
        before: { key: made.key, label: "grid bot", revokedAt: null },
        after: { key: made.key, revokedAt: expect.any(String) },
        keyId: String(made.id),
      });

      // Again: nothing changes, nothing is announced; the attempt is on record.
      const again = await caller.admin.users.revokeApiKey({
        userId: trader.id,
        keyId: made.id,
        reason,
      });
      expect(again.changed).toBe(false);
      expect(again.key.revokedAt).toEqual(revoked.key.revokedAt);
    } finally {
      await listener.stop();
    }
    expect(heard).toHaveLength(1);
  });

  it("refuses another user's key and an unknown user, changing nothing", async () => {
    const trader = await f.createUser();
    const other = await f.createUser();
    const theirs = await createApiKey(f.db, f.services.apiKeySealingKey, {
      userId: other.id,
      permissions: ["read"],
    });
    const caller = await admin();
    expect(
      await refusal(
        caller.admin.users.revokeApiKey({ userId: trader.id, keyId: theirs.id, reason }),
      ),
    ).toEqual({ label: "NOT_FOUND", status: 404 });
    expect(
      await refusal(
        caller.admin.users.revokeApiKey({ userId: 999_999_999n, keyId: theirs.id, reason }),
      ),
    ).toEqual({ label: "NOT_FOUND", status: 404 });
    expect(await findApiKey(f.db, f.services.apiKeySealingKey, theirs.key)).toBeDefined();
    expect(await lastAudit(`user:${trader.id}`)).toBeUndefined();
  });
});
