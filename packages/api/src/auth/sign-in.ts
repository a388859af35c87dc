// Starting a session for a user who has just proved who they are (sign-up, login, a password
// change): a new session in the store and its two cookies on the response.
import type { Context, HttpExchange } from "../context";
import { ApiError } from "../errors";
import { setSessionCookies } from "./session-cookies";

/** The HTTP exchange of a call that must set cookies; in-process callers have none. */
export function requireHttp(ctx: Context): HttpExchange {
  if (ctx.http === null) {
    throw new ApiError("INVALID_PARAM_VALUE", "signing in needs an HTTP request (cookies)");
  }
  return ctx.http;
}

export async function startSession(ctx: Context, userId: bigint): Promise<string> {
  const http = requireHttp(ctx);
  const { sessionId, refreshToken } = await ctx.services.sessions.create(userId, {
    ip: ctx.request.ip,
    userAgent: ctx.request.userAgent,
  });
  await setSessionCookies(http, ctx.services, { userId, sessionId, refreshToken });
  return sessionId;
}
