// Who is calling: the session cookie's access token, checked three ways on every request — its
// signature and expiry (the JWT), that its session still exists (Redis: logout and password
// changes revoke at once), and the user's role and status as the database has them now (a
// freeze or a role change applies to the very next request, not when the token expires).
// When the access token has expired and the browser still holds a refresh token, the request
// refreshes the session itself (rotating the refresh token) and sets the new cookies.
import { type Database, schema } from "@spotx/db";
import { metrics, prometheus } from "@spotx/platform/metrics";
import { processSingleton } from "@spotx/platform/probe";
import { eq, sql } from "drizzle-orm";
import type { HttpExchange, Session } from "../context";
import type { ApiServices } from "../services";
import { clearSessionCookies, sessionCookieNames, setSessionCookies } from "./session-cookies";

export const sessionMetrics = processSingleton("auth.session-metrics", () => ({
  refreshes: new prometheus.Counter({
    name: "spotx_session_refreshes_total",
    help: "Refresh tokens presented, by outcome (rotated, superseded, reused = family revoked, unknown)",
    labelNames: ["outcome"] as const,
    registers: [metrics.registry],
  }),
  logins: new prometheus.Counter({
    name: "spotx_logins_total",
    help: "Login attempts by outcome (ok, code_required, invalid, throttled)",
    labelNames: ["outcome"] as const,
    registers: [metrics.registry],
  }),
}));

export type AccessOutcome =
  | { ok: true; session: Session }
  | { ok: false; reason: "expired" | "invalid" | "revoked" };

/**
 * The user's role, status and whether two-factor sign-in is on, as they are now; null when the
 * user no longer exists.
 */
export async function currentUser(db: Database, userId: bigint) {
  const { users } = schema;
  const found = await db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      status: users.status,
      twoFactor: sql<boolean>`${users.totpEnabledAt} IS NOT NULL`,
    })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  return found[0] ?? null;
}

/** Checks an access token: signature and expiry, a live session, the user as they are now. */
export async function sessionFromAccessToken(
  token: string,
  services: ApiServices,
  db: Database,
): Promise<AccessOutcome> {
  const check = await services.sessionTokens.verify(token);
  if (!check.ok) return check;
  const { userId, sessionId } = check.claims;
  const owner = await services.sessions.userOf(sessionId);
  if (owner !== userId) return { ok: false, reason: "revoked" };
  const user = await currentUser(db, userId);
  if (!user) return { ok: false, reason: "revoked" };
  return {
    ok: true,
    session: { userId, role: user.role, status: user.status, twoFactor: user.twoFactor, sessionId },
  };
}

/**
 * Exchanges the request's refresh token for a new one and a new access token, set as cookies.
 * Null (and both cookies cleared) when there is none, it is unknown, or it was reused — which
 * has just revoked its whole session.
 */
export async function refreshSession(
  http: HttpExchange,
  services: ApiServices,
  db: Database,
): Promise<Session | null> {
  const token = http.cookies.get(sessionCookieNames(http.secure).refresh);
  if (!token || http.refreshed) return null;
  http.refreshed = true;
  const rotated = await services.sessions.rotate(token);
  sessionMetrics.refreshes.inc({ outcome: rotated.outcome });
  if (rotated.outcome === "unknown" || rotated.outcome === "reused") {
    if (rotated.outcome === "reused") await disconnectSession(services, rotated.sessionId);
    clearSessionCookies(http);
    return null;
  }
  const user = await currentUser(db, rotated.userId);
  if (!user) {
    await services.sessions.revoke(rotated.sessionId);
    clearSessionCookies(http);
    return null;
  }
  await setSessionCookies(http, services, {
    userId: rotated.userId,
    sessionId: rotated.sessionId,
    refreshToken: rotated.outcome === "rotated" ? rotated.refreshToken : undefined,
  });
  return {
    userId: rotated.userId,
    role: user.role,
    status: user.status,
    twoFactor: user.twoFactor,
    sessionId: rotated.sessionId,
  };
}

/** The session of an HTTP request, refreshing it when its access token has run out. */
export async function authenticateHttp(
  http: HttpExchange,
  services: ApiServices,
  db: Database,
): Promise<Session | null> {
  const access = http.cookies.get(sessionCookieNames(http.secure).session);
  if (access) {
    const outcome = await sessionFromAccessToken(access, services, db);
    if (outcome.ok) return outcome.session;
    // A revoked session's refresh token is dead too; only an expired one may be refreshed.
    if (outcome.reason === "revoked") {
      clearSessionCookies(http);
      return null;
    }
  }
  return refreshSession(http, services, db);
}

/** Closes the socket.io connections a revoked session opened (their user room goes with them). */
export async function disconnectSession(services: ApiServices, sessionId: string): Promise<void> {
  services.emitter?.in(services.names.rooms.session(sessionId)).disconnectSockets(true);
}
