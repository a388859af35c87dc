// auth.refresh: exchanges the refresh cookie for new tokens (the refresh token rotates). The
// route handler does the same by itself when a request's access token has expired; this is for
// a client that wants fresh tokens before they run out.
import { currentUser, refreshSession } from "../../auth/authenticate";
import { requireHttp } from "../../auth/sign-in";
import { ApiError } from "../../errors";
import { publicProcedure } from "../../trpc";
import { accountView, toAccountView } from "./account-view";

export const refresh = publicProcedure.output(accountView).mutation(async ({ ctx }) => {
  const http = requireHttp(ctx);
  // Building this request's context may have refreshed already (its access token had run out):
  // a refresh token is presented once per request, or parallel requests would look like theft.
  const session = http.refreshed ? ctx.session : await refreshSession(http, ctx.services, ctx.db);
  const user = session ? await currentUser(ctx.db, session.userId) : null;
  if (!user) throw new ApiError("LOGIN_REQUIRED", "the session has ended; log in again");
  return toAccountView(user);
});
