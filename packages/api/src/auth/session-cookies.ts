// The two cookies a browser session is made of, and how they are written: the session cookie
// holds the short-lived access token (a JWT), the refresh cookie the rotating refresh token. Both
// are httpOnly (no script reads them), SameSite=Lax (no other site's subrequest carries them) and
// scoped to the whole site (server-rendered pages and the socket.io handshake read the session
// too). Served over HTTPS they are `__Host-spotx_session` and `__Host-spotx_refresh`, Secure: the
// browser keeps a `__Host-` cookie only when it is Secure, Path=/ and has no Domain, so neither
// a plain-HTTP page nor a sibling subdomain can set or shadow one. Over plain HTTP (development)
// they are `spotx_session` and `spotx_refresh`. Readers take the names of the request's scheme
// only: under HTTPS a plain-named cookie is somebody else's attempt and is ignored.
import { parseCookie, stringifySetCookie } from "cookie";
import type { HttpExchange } from "../context";
import type { ApiServices } from "../services";

/** The cookies' names over plain HTTP. */
export const SESSION_COOKIE = "spotx_session";
export const REFRESH_COOKIE = "spotx_refresh";
/** Their names over HTTPS. */
export const SECURE_SESSION_COOKIE = "__Host-spotx_session";
export const SECURE_REFRESH_COOKIE = "__Host-spotx_refresh";

export type SessionCookieNames = { session: string; refresh: string };

/** The names a request of this scheme sets and reads. */
export function sessionCookieNames(secure: boolean): SessionCookieNames {
  return secure
    ? { session: SECURE_SESSION_COOKIE, refresh: SECURE_REFRESH_COOKIE }
    : { session: SESSION_COOKIE, refresh: REFRESH_COOKIE };
}

/** The request's cookies by name (the first of a repeated name, as browsers send the most specific first). */
export function readCookies(header: string | null | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const [name, value] of Object.entries(parseCookie(header))) {
    if (value !== undefined) cookies.set(name, value);
  }
  return cookies;
}

function cookie(http: HttpExchange, name: string, value: string, maxAgeSeconds: number) {
  http.setCookie(
    stringifySetCookie(name, value, {
      httpOnly: true,
      sameSite: "lax",
      secure: http.secure,
      path: "/",
      maxAge: maxAgeSeconds,
    }),
  );
  if (maxAgeSeconds > 0) http.cookies.set(name, value);
  else http.cookies.delete(name);
}

/**
 * Signs a fresh access token for the session and sets it; sets the refresh token too when the
 * session has a new one (sign-in, rotation).
 */
export async function setSessionCookies(
  http: HttpExchange,
  services: ApiServices,
  session: { userId: bigint; sessionId: string; refreshToken?: string },
): Promise<void> {
  const { accessTtlSeconds, refreshTtlSeconds } = services.settings.sessions;
  const access = await services.sessionTokens.sign(session, accessTtlSeconds);
  const names = sessionCookieNames(http.secure);
  cookie(http, names.session, access, accessTtlSeconds);
  if (session.refreshToken !== undefined) {
    cookie(http, names.refresh, session.refreshToken, refreshTtlSeconds);
  }
}

/** Removes both cookies (logout, a revoked or unknown session). */
export function clearSessionCookies(http: HttpExchange): void {
  const names = sessionCookieNames(http.secure);
  cookie(http, names.session, "", 0);
  cookie(http, names.refresh, "", 0);
}
