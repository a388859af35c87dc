// auth.logInWithCode: the second step of signing in with two-factor sign-in on — the challenge
// auth.logIn answered with, and the code the user's app shows now (or one of their recovery
// codes, used up by this). Wrong codes count towards the login throttle of the account at this
// address, like wrong passwords; a right one starts the session. A challenge that expired, or
// that was made before the password or the second factor changed, starts over at the password.
import { z } from "zod";
import { sessionMetrics } from "../../auth/authenticate";
import { passwordFingerprint } from "../../auth/login-challenge";
import { requireHttp, startSession } from "../../auth/sign-in";
import { acceptCode, loadTwoFactorUser, twoFactorEnabled } from "../../auth/two-factor";
import { ApiError } from "../../errors";
import { publicProcedure } from "../../trpc";
import { accountView, toAccountView } from "./account-view";

export const logInWithCodeInput = z.strictObject({
  challenge: z.string().min(1).max(2_000),
  /** Six digits from the authenticator app, or a recovery code (abcd-efgh-ijkl-mnop). */
  code: z.string().trim().min(6).max(40),
});
export type LogInWithCodeInput = z.input<typeof logInWithCodeInput>;

export const logInWithCode = publicProcedure
  .input(logInWithCodeInput)
  .output(accountView)
  .mutation(async ({ ctx, input }) => {
    requireHttp(ctx);
    const checked = await ctx.services.loginChallenges.verify(input.challenge);
    if (!checked.ok) {
      throw new ApiError(
        "LOGIN_REQUIRED",
        checked.reason === "expired"
          ? "the sign-in took too long: enter your password again"
          : "not a sign-in in progress: enter your password again",
      );
    }
    const user = await loadTwoFactorUser(ctx.db, { id: checked.userId });
    if (
      !user ||
      !twoFactorEnabled(user) ||
      passwordFingerprint(user.passwordHash) !== checked.passwordFingerprint
    ) {
      throw new ApiError(
        "LOGIN_REQUIRED",
        "the account changed meanwhile: enter your password again",
      );
    }
    const throttle = ctx.services.loginThrottle;
    const attempt = await throttle.begin(user.email, ctx.request.ip).catch((error: unknown) => {
      sessionMetrics.logins.inc({ outcome: "throttled" });
      throw error;
    });
    const sealingKey = ctx.services.twoFactorSealingKey;
    if (!(await acceptCode(ctx.db, sealingKey, user, input.code, { recovery: true }))) {
      await throttle.failed(attempt);
      sessionMetrics.logins.inc({ outcome: "invalid" });
      throw new ApiError(
        "INVALID_TWO_FACTOR_CODE",
        "that code is wrong or was already used; enter the one your app shows now",
      );
    }
    await throttle.succeeded(attempt);
    await startSession(ctx, user.id);
    sessionMetrics.logins.inc({ outcome: "ok" });
    return toAccountView({ ...user, twoFactor: true });
  });
