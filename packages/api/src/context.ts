// What every procedure sees: the database, who is calling (the session, null when anonymous)
// and from where, the services procedures call, and — for calls that came over HTTP — the
// cookies to read and set. The web's route handler builds it per request (auth/http-context.ts);
// server components and tests build it directly. Authentication itself (cookies, tokens) lives
// in ./auth and fills `session`; nothing else reads a cookie or a header.
import { type Database, database } from "@spotx/db";
import { type ApiServices, apiServices } from "./services";

/** The caller, as their session says. `role` and `status` are re-read from the database per request. */
export type Session = {
  userId: bigint;
  role: "trader" | "operator";
  status: "active" | "frozen";
  /**
   * The user has two-factor sign-in on (re-read per request like the role): an operator
   * without it may only enrol (operatorProcedure answers TWO_FACTOR_REQUIRED).
   */
  twoFactor: boolean;
  /** The session's id (revocation, audit). */
  sessionId: string;
};

/** Where the request came from, for rate limits and the audit log. */
export type RequestInfo = {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
};

/** The HTTP request a call arrived in: its cookies, and a way to set them on the response. */
export type HttpExchange = {
  /** The request's cookies, as they stand after any refresh this request already made. */
  cookies: Map<string, string>;
  /** Adds a Set-Cookie header to the response. */
  setCookie(header: string): void;
  /** Served over HTTPS: cookies are set Secure. */
  secure: boolean;
  /** The request carried the CSRF header (required of state-changing calls, see auth/csrf.ts). */
  csrfHeader: boolean;
  /** This request has already presented its refresh token (one rotation per request). */
  refreshed: boolean;
};

export type Context = {
  db: Database;
  session: Session | null;
  request: RequestInfo;
  services: ApiServices;
  /** Null for in-process callers (server components, tests): no cookies, no CSRF to fear. */
  http: HttpExchange | null;
};

export function createContext(partial: Partial<Context> = {}): Context {
  return {
    db: partial.db ?? database(),
    session: partial.session ?? null,
    request: partial.request ?? { ip: null, userAgent: null, requestId: crypto.randomUUID() },
    services: partial.services ?? apiServices(),
    http: partial.http ?? null,
  };
}
