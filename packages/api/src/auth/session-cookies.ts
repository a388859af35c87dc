// The two cookies a browser session is made of, and how they are written: `spotx_session`
// holds the short-lived access token (a JWT), `spotx_refresh` the rotating refresh token. Both
// are httpOnly (no script reads them), SameSite=Lax (no other site's subrequest carries them),
// Secure when the page was served over HTTPS, and scoped to the whole site (server-rendered
// pages and the socket.io handshake read the session too).
import { parseCookie, stringifySetCookie } from "cookie";
import type { HttpExchange } from "../context";
import type { ApiServices } from "../services";

export const SESSION_COOKIE = "spotx_session";
export const REFRESH_COOKIE = "spotx_refresh";

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
  cookie(http, SESSION_COOKIE, access, accessTtlSeconds);
  if (session.refreshToken !== undefined) {
    cookie(http, REFRESH_COOKIE, session.refreshToken, refreshTtlSeconds);
  }
}

/** Removes both cookies (logout, a revoked or unknown session). */
export function clearSessionCookies(http: HttpExchange): void {
  cookie(http, SESSION_COOKIE, "", 0);
  cookie(http, REFRESH_COOKIE, "", 0);
}
