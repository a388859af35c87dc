// The auth router: accounts and browser sessions (see ../../auth for how sessions work).
import { currentUser } from "../../auth/authenticate";
import { publicProcedure, router } from "../../trpc";
import { accountView, toAccountView } from "./account-view";
import { changePassword } from "./change-password";
import { logIn } from "./log-in";
import { logInWithCode } from "./log-in-with-code";
import { logOut } from "./log-out";
import { refresh } from "./refresh";
import { signUp } from "./sign-up";
import { twoFactorRouter } from "./two-factor";

export const authRouter = router({
  signUp,
  logIn,
  logInWithCode,
  logOut,
  refresh,
  changePassword,
  twoFactor: twoFactorRouter,
  /** The signed-in user, or null. */
  me: publicProcedure.output(accountView.nullable()).query(async ({ ctx }) => {
    if (!ctx.session) return null;
    const user = await currentUser(ctx.db, ctx.session.userId);
    return user ? toAccountView(user) : null;
  }),
});
