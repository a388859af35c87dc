// Browser sessions over tRPC's HTTP endpoint, as the web's route handler serves them: the
// cookies and their flags, expiry and automatic refresh, refresh-token rotation and reuse
// detection, logout and password changes revoking, freezes applying at once, and the CSRF rule.
import { createApiKey, hashPassword, revokeApiKey, schema, verifyPassword } from "@spotx/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCredentialChange } from "../src/auth/credential-events";
import { CLIENT_HTTPS_HEADER } from "../src/auth/http-context";
import {
  type ApiFixture,
  CookieJar,
  errorOf,
  resultOf,
  startApiFixture,
  type TestUser,
} from "./api-fixture";

let f: ApiFixture;
let trader: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  trader = await f.createUser();
});
afterAll(async () => {
  await f?.stop();
});

type Account = { id: string; email: string; role: string; status: string; twoFactor: boolean };

async function logIn(jar = new CookieJar(), user = trader) {
  const answer = await f.http("auth.logIn", {
    input: { email: user.email, password: user.password },
    jar,
  });
  expect(answer.status).toBe(200);
  return { jar, answer };
}

const me = async (jar: CookieJar) =>
  resultOf<Account | null>(await f.http("auth.me", { method: "GET", jar }));

/** An access token for the session that expired a second ago (signed with the server's key). */
async function expiredAccessToken(jar: CookieJar): Promise<string> {
  const current = jar.session;
  if (!current) throw new Error("no session cookie");
  const check = await f.services.sessionTokens.verify(current);
  if (!check.ok) throw new Error("the session cookie does not verify");
  const ttl = f.settings.sessions.accessTtlSeconds;
  return f.services.sessionTokens.sign(check.claims, ttl, Math.floor(Date.now() / 1000) - ttl - 1);
}

describe("cookies", () => {
  it("sets an httpOnly, SameSite=Lax session cookie and a refresh cookie on login", async () => {
    const { answer } = await logIn();
    const [session, refresh] = ["spotx_session", "spotx_refresh"].map((name) =>
      answer.setCookies.find((c) => c.startsWith(`${name}=`)),
    );
    expect(session).toMatch(/; Max-Age=900(;|$)/);
    expect(refresh).toMatch(/; Max-Age=604800(;|$)/);
    for (const cookie of [session, refresh]) {
      expect(cookie).toMatch(/; HttpOnly(;|$)/);
      expect(cookie).toMatch(/; SameSite=Lax(;|$)/);
      expect(cookie).toMatch(/; Path=\/(;|$)/);
      expect(cookie).not.toMatch(/Secure/);
    }
    expect(resultOf<{ account: Account }>(answer).account.email).toBe(trader.email);
  });

  it("marks the cookies Secure when the page was served over HTTPS", async () => {
    const direct = await f.http("auth.logIn", {
      input: { email: trader.email, password: trader.password },
      url: "https://exchange.example",
    });
    // The web server's verdict (its TLS, or a trusted proxy's X-Forwarded-Proto).
    const proxied = await f.http("auth.logIn", {
      input: { email: trader.email, password: trader.password },
      headers: { [CLIENT_HTTPS_HEADER]: "1" },
    });
    for (const answer of [direct, proxied]) {
      expect(answer.setCookies).toHaveLength(2);
      for (const cookie of answer.setCookies) {
        expect(cookie).toMatch(/^__Host-spotx_(session|refresh)=/);
        expect(cookie).toMatch(/; Secure(;|$)/);
        expect(cookie).toMatch(/; Path=\/(;|$)/);
        expect(cookie).not.toMatch(/Domain=/i);
      }
    }
    // A client claiming HTTPS itself is not believed: the web server overwrites the header.
    const claimed = await f.http("auth.logIn", {
      input: { email: trader.email, password: trader.password },
      headers: { "x-forwarded-proto": "https" },
    });
    for (const cookie of claimed.setCookies) {
      expect(cookie).not.toMatch(/Secure/);
      expect(cookie).toMatch(/^spotx_(session|refresh)=/);
    }
  });

  it("reads only the cookie names of the request's scheme", async () => {
    const https = { [CLIENT_HTTPS_HEADER]: "1" };
    const jar = new CookieJar();
    await f.http("auth.logIn", {
      input: { email: trader.email, password: trader.password },
      headers: https,
      jar,
    });
    expect([...jar.cookies.keys()].sort()).toEqual([
      "__Host-spotx_refresh",
      "__Host-spotx_session",
    ]);
    const overHttps = await f.http("auth.me", { method: "GET", jar, headers: https });
    expect(resultOf<Account | null>(overHttps)).toMatchObject({ email: trader.email });
    // The same cookies on a plain-HTTP request are not the session cookies of that scheme…
    expect(await me(jar)).toBeNull();
    // …and a plain-named cookie on an HTTPS request (set by a plain-HTTP page or a sibling
    // subdomain, which cannot set a __Host- one) is ignored.
    const planted = new CookieJar();
    planted.cookies.set("spotx_session", jar.cookies.get("__Host-spotx_session") ?? "");
    const ignored = await f.http("auth.me", { method: "GET", jar: planted, headers: https });
    expect(resultOf<Account | null>(ignored)).toBeNull();
  });

  it("knows the user from the cookie, and nobody without it", async () => {
    const { jar } = await logIn();
    expect(await me(jar)).toMatchObject({
      id: String(trader.id),
      role: "trader",
      status: "active",
    });
    expect(await me(new CookieJar())).toBeNull();
    const balances = await f.http("account.balances", { method: "GET", jar: new CookieJar() });
    expect(balances.status).toBe(401);
    expect(errorOf(balances).label).toBe("LOGIN_REQUIRED");
  });

  it("refuses a session cookie signed with another key or for another use", async () => {
    const jar = new CookieJar();
    const { SessionTokens } = await import("../src/auth/session-token");
    const { randomBytes } = await import("node:crypto");
    const forged = await new SessionTokens(randomBytes(32)).sign(
      { userId: trader.id, sessionId: "A".repeat(22) },
      900,
    );
    jar.cookies.set("spotx_session", forged);
    expect(await me(jar)).toBeNull();
    const { signSocketToken } = await import("@spotx/platform/secrets");
    jar.cookies.set("spotx_session", await signSocketToken(trader.id, f.secretKey, 900));
    expect(await me(jar)).toBeNull();
  });
});

describe("expiry and refresh", () => {
  it("refreshes an expired access token from the refresh cookie, rotating it", async () => {
    const { jar } = await logIn();
    const firstRefresh = jar.refresh;
    jar.cookies.set("spotx_session", await expiredAccessToken(jar));
    const answer = await f.http("auth.me", { method: "GET", jar });
    expect(resultOf<Account>(answer).email).toBe(trader.email);
    expect(answer.setCookies.map((c) => c.split("=")[0]).sort()).toEqual([
      "spotx_refresh",
      "spotx_session",
    ]);
    expect(jar.refresh).not.toBe(firstRefresh);
    expect(await f.services.sessionTokens.verify(jar.session ?? "")).toMatchObject({ ok: true });
  });

  it("is anonymous once the access token expired and there is no refresh token", async () => {
    const { jar } = await logIn();
    jar.cookies.set("spotx_session", await expiredAccessToken(jar));
    jar.cookies.delete("spotx_refresh");
    expect(await me(jar)).toBeNull();
  });

  it("rotates on auth.refresh: each token works once", async () => {
    const { jar } = await logIn();
    const tokens = [jar.refresh];
    for (let i = 0; i < 3; i += 1) {
      const answer = await f.http("auth.refresh", { jar });
      expect(resultOf<Account>(answer).email).toBe(trader.email);
      tokens.push(jar.refresh);
    }
    expect(new Set(tokens).size).toBe(4);
  });

  it("revokes the whole session when a replaced refresh token is used again", async () => {
    const { jar } = await logIn();
    const stolen = jar.refresh ?? "";
    await f.http("auth.refresh", { jar }); // the owner rotates: `stolen` is now replaced
    // Past the grace for parallel requests, the old token shows up again: a thief's replay.
    f.settings.sessions.refreshGraceSeconds = 0;
    try {
      const thief = new CookieJar();
      thief.cookies.set("spotx_refresh", stolen);
      const replay = await f.http("auth.refresh", { jar: thief });
      expect(errorOf(replay).label).toBe("LOGIN_REQUIRED");
      expect(replay.setCookies.every((c) => c.includes("Max-Age=0"))).toBe(true);
    } finally {
      f.settings.sessions.refreshGraceSeconds = 10;
    }
    // The owner's current tokens died with the family: access at once, refresh too.
    expect(await me(jar)).toBeNull();
    const owner = await f.http("auth.refresh", { jar });
    expect(errorOf(owner).label).toBe("LOGIN_REQUIRED");
  });

  it("answers parallel refreshes with the same token without revoking the session", async () => {
    const { jar } = await logIn();
    const shared = jar.refresh ?? "";
    const tabs = [new CookieJar(), new CookieJar(), new CookieJar()];
    for (const tab of tabs) tab.cookies.set("spotx_refresh", shared);
    const answers = await Promise.all(tabs.map((tab) => f.http("auth.refresh", { jar: tab })));
    for (const answer of answers) expect(answer.status).toBe(200);
    // One rotated (new refresh token); the others got an access token only.
    const rotated = answers.filter((a) => a.setCookies.some((c) => c.startsWith("spotx_refresh=")));
    expect(rotated).toHaveLength(1);
    for (const tab of tabs) expect(await me(tab)).toMatchObject({ email: trader.email });
  });
});

describe("revocation", () => {
  it("logout ends the session: its access and refresh tokens stop working at once", async () => {
    const { jar } = await logIn();
    const copy = new CookieJar();
    for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
    const answer = await f.http("auth.logOut", { jar });
    expect(resultOf<{ loggedOut: boolean }>(answer)).toEqual({ loggedOut: true });
    expect(jar.cookies.size).toBe(0);
    // A copy of the cookies taken before logout is worth nothing after it.
    expect(await me(copy)).toBeNull();
    copy.cookies.delete("spotx_session");
    expect(errorOf(await f.http("auth.refresh", { jar: copy })).label).toBe("LOGIN_REQUIRED");
  });

  it("logout with only a refresh token (access expired) still ends the session", async () => {
    const { jar } = await logIn();
    const refresh = jar.refresh ?? "";
    const holder = new CookieJar();
    holder.cookies.set("spotx_refresh", refresh);
    // The request refreshes itself first (access missing), then logs out that session.
    expect(resultOf<{ loggedOut: boolean }>(await f.http("auth.logOut", { jar: holder }))).toEqual({
      loggedOut: true,
    });
    expect(await me(jar)).toBeNull();
  });

  it("a password change ends every session and API key of the user and keeps this browser signed in", async () => {
    const user = await f.createUser("trader", "active", "old password 1");
    const here = (await logIn(new CookieJar(), user)).jar;
    const elsewhere = (await logIn(new CookieJar(), user)).jar;
    const keys = [];
    for (let i = 0; i < 3; i += 1) {
      keys.push(
        await createApiKey(f.db, f.services.apiKeySealingKey, {
          userId: user.id,
          permissions: ["read", "trade"],
        }),
      );
    }
    const revokedBefore = keys[2]?.key ?? "";
    await revokeApiKey(f.db, user.id, revokedBefore);
    const othersKey = await createApiKey(f.db, f.services.apiKeySealingKey, {
      userId: trader.id,
      permissions: ["read"],
    });
    const listener = f.redis.duplicate();
    await listener.subscribe(f.names.redis.credentialsChannel);
    const heard = new Promise<string>((resolve) => listener.once("message", (_c, m) => resolve(m)));
    const answer = await f.http("auth.changePassword", {
      input: { currentPassword: "old password 1", newPassword: "new password 2" },
      jar: here,
    });
    expect(resultOf<{ revokedSessions: number }>(answer)).toEqual({
      revokedSessions: 2,
      revokedApiKeys: 2,
    });
    // Every key is dead (the one revoked before kept its time); another user's is untouched.
    for (const key of [...keys, othersKey]) {
      const [row] = await f.db
        .select({ revokedAt: schema.apiKeys.revokedAt })
        .from(schema.apiKeys)
        .where(eq(schema.apiKeys.key, key.key));
      expect(row?.revokedAt, key.key).toEqual(key === othersKey ? null : expect.any(Date));
    }
    // Announced after the commit: web instances end the keys' and sessions' subscriptions.
    try {
      expect(decodeCredentialChange(await heard)).toEqual({
        userId: user.id,
        reason: "password_changed",
      });
    } finally {
      listener.disconnect();
    }
    expect(await me(elsewhere)).toBeNull();
    expect(errorOf(await f.http("auth.refresh", { jar: elsewhere })).label).toBe("LOGIN_REQUIRED");
    expect(await me(here)).toMatchObject({ email: user.email });
    const old = await f.http("auth.logIn", {
      input: { email: user.email, password: "old password 1" },
    });
    expect(errorOf(old).label).toBe("INVALID_CREDENTIALS");
    const renewed = await f.http("auth.logIn", {
      input: { email: user.email, password: "new password 2" },
    });
    expect(renewed.status).toBe(200);
  });

  it("a login with a hash of the older scrypt cost stores the password again at today's", async () => {
    const user = await f.createUser();
    const old = await hashPassword(user.password, { N: 16_384, r: 8, p: 1 });
    await f.db.update(schema.users).set({ passwordHash: old }).where(eq(schema.users.id, user.id));
    await logIn(new CookieJar(), user);
    const [row] = await f.db
      .select({ passwordHash: schema.users.passwordHash })
      .from(schema.users)
      .where(eq(schema.users.id, user.id));
    expect(row?.passwordHash.split("$").slice(1, 4)).toEqual(["131072", "8", "1"]);
    expect(await verifyPassword(user.password, row?.passwordHash ?? "")).toBe(true);
    // And the next login verifies against the new hash.
    await logIn(new CookieJar(), user);
  });

  it("a wrong current password changes nothing", async () => {
    const user = await f.createUser("trader", "active", "keep this one");
    const { jar } = await logIn(new CookieJar(), user);
    const answer = await f.http("auth.changePassword", {
      input: { currentPassword: "not it at all", newPassword: "something new" },
      jar,
    });
    expect(errorOf(answer)).toMatchObject({ label: "INVALID_CREDENTIALS", httpStatus: 400 });
    expect(await me(jar)).toMatchObject({ email: user.email });
  });

  it("a freeze applies to the next request, with the same access token", async () => {
    const user = await f.createUser();
    const { jar } = await logIn(new CookieJar(), user);
    const deposit = { asset: "USDT", amount: "1" };
    expect((await f.http("account.demoDeposit", { input: deposit, jar })).status).toBe(200);
    await f.db.update(schema.users).set({ status: "frozen" }).where(eq(schema.users.id, user.id));
    const refused = await f.http("account.demoDeposit", { input: deposit, jar });
    expect(errorOf(refused)).toMatchObject({ label: "FORBIDDEN", httpStatus: 403 });
    expect(await me(jar)).toMatchObject({ status: "frozen" });
    // Reading stays open to a frozen user.
    expect((await f.http("account.balances", { method: "GET", jar })).status).toBe(200);
  });
});

describe("CSRF", () => {
  it("refuses a mutation without the CSRF header, before it changes anything", async () => {
    const email = `csrf-${Date.now()}@test.spotx.dev`;
    const answer = await f.http("auth.signUp", {
      input: { email, password: "long enough" },
      csrf: false,
    });
    expect(answer.status).toBe(403);
    expect(errorOf(answer)).toMatchObject({ label: "MISSING_REQUIRED_HEADER" });
    expect(answer.setCookies).toEqual([]);
    const users = await f.db.select().from(schema.users).where(eq(schema.users.email, email));
    expect(users).toEqual([]);
  });

  it("refuses a signed-in user's mutation without the header, and allows it with it", async () => {
    const { jar } = await logIn();
    const input = { asset: "BTC", amount: "0.5" };
    const without = await f.http("account.demoDeposit", { input, jar, csrf: false });
    expect(errorOf(without).label).toBe("MISSING_REQUIRED_HEADER");
    const balance = async () =>
      (await f.db.select().from(schema.balances).where(eq(schema.balances.userId, trader.id))).find(
        (b) => b.asset === "BTC",
      )?.available ?? 0n;
    const before = await balance();
    expect((await f.http("account.demoDeposit", { input, jar })).status).toBe(200);
    expect((await balance()) - before).toBe(50_000_000n);
  });

  it("lets queries through without the header (they change nothing)", async () => {
    const { jar } = await logIn();
    const answer = await f.http("account.balances", { method: "GET", jar, csrf: false });
    expect(answer.status).toBe(200);
  });
});
