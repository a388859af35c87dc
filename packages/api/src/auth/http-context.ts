// The context of a tRPC call that arrived over HTTP (the web's route handler) or in a server
// component's render: the session from the cookies, where the request came from, and — over
// HTTP — a way to set cookies on the response and whether the CSRF header came along.
import { type Database, database } from "@spotx/db";
import type { Context, HttpExchange, RequestInfo } from "../context";
import { type ApiServices, apiServices } from "../services";
import { authenticateHttp, sessionFromAccessToken } from "./authenticate";
import { CSRF_HEADER } from "./csrf";
import { readCookies, sessionCookieNames } from "./session-cookies";

/**
 * The client's address, as the web server saw the socket: it sets this header on every request
 * it hands to Next.js, replacing whatever the client sent (so it cannot be forged from outside).
 */
export const CLIENT_IP_HEADER = "x-spotx-client-ip";

/** "1" when the client reached the web server over HTTPS: set by the web server, like the IP. */
export const CLIENT_HTTPS_HEADER = "x-spotx-client-https";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

type HeaderSource = { get(name: string): string | null };

export function requestInfo(headers: HeaderSource): RequestInfo {
  const requestId = headers.get("x-request-id");
  return {
    ip: headers.get(CLIENT_IP_HEADER) || null,
    userAgent: headers.get("user-agent")?.slice(0, 300) ?? null,
    requestId: requestId && REQUEST_ID.test(requestId) ? requestId : crypto.randomUUID(),
  };
}

/**
 * HTTPS as the browser saw it: the web server's verdict (its own TLS, or a trusted proxy's
 * X-Forwarded-Proto — see SPOTX_TRUSTED_PROXIES), never a header the client set.
 */
function servedSecurely(req: Request): boolean {
  return new URL(req.url).protocol === "https:" || requestIsHttps(req.headers);
}

/** For server components: whether the web server said this request came over HTTPS. */
export function requestIsHttps(headers: HeaderSource): boolean {
  return headers.get(CLIENT_HTTPS_HEADER) === "1";
}

/** For the route handler: the context of one HTTP request, its Set-Cookie headers into `resHeaders`. */
export async function createHttpContext(options: {
  req: Request;
  resHeaders: Headers;
  services?: ApiServices;
  db?: Database;
}): Promise<Context> {
  const { req, resHeaders } = options;
  const services = options.services ?? apiServices();
  const db = options.db ?? database();
  const http: HttpExchange = {
    cookies: readCookies(req.headers.get("cookie")),
    setCookie: (header) => resHeaders.append("set-cookie", header),
    secure: servedSecurely(req),
    csrfHeader: req.headers.has(CSRF_HEADER),
    refreshed: false,
  };
  const session = await authenticateHttp(http, services, db);
  return { db, session, request: requestInfo(req.headers), services, http };
}

/**
 * For server components: the session from the cookies as they are. A render cannot set
 * cookies, so an expired access token is not refreshed here (the page's client side does that
 * through the route handler); the caller is then anonymous for this render.
 */
export async function createServerContext(options: {
  cookies: Map<string, string>;
  headers: HeaderSource;
  services?: ApiServices;
  db?: Database;
}): Promise<Context> {
  const services = options.services ?? apiServices();
  const db = options.db ?? database();
  const token = options.cookies.get(sessionCookieNames(requestIsHttps(options.headers)).session);
  const outcome = token ? await sessionFromAccessToken(token, services, db) : null;
  return {
    db,
    session: outcome?.ok ? outcome.session : null,
    request: requestInfo(options.headers),
    services,
    http: null,
  };
}
