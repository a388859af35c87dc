// auth.logOut: ends this browser's session (its access and refresh tokens, and its sockets) and
// clears the cookies. Open to anyone: a browser whose access token has expired is signed in
// again by its refresh token while the request's context is built, so its session still ends.
import { z } from "zod";
import { disconnectSession } from "../../auth/authenticate";
import { clearSessionCookies } from "../../auth/session-cookies";
import { publicProcedure } from "../../trpc";

export const logOutOutput = z.object({ loggedOut: z.boolean() });

export const logOut = publicProcedure.output(logOutOutput).mutation(async ({ ctx }) => {
  const sessionId = ctx.session?.sessionId ?? null;
  const loggedOut = sessionId !== null && (await ctx.services.sessions.revoke(sessionId));
  if (sessionId !== null) await disconnectSession(ctx.services, sessionId);
  if (ctx.http) clearSessionCookies(ctx.http);
  return { loggedOut };
});
