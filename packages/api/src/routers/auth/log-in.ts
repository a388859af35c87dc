// auth.logIn: email and password. An unknown email and a wrong password get the same answer
// (INVALID_CREDENTIALS), in about the same time — an unknown email is checked against a dummy
// hash with the same scrypt cost — and both count towards the login throttle, which counts the
// attempt before the password is checked (auth/login-throttle.ts).
// A right password signs in at once, or — for a user with two-factor sign-in — answers
// `code_required` with a short-lived challenge for auth.logInWithCode: no session yet.
// A hash made at an older scrypt cost is replaced, now that the password is known to be right.
// A frozen user may log in: they can still read (and cancel nothing, trade nothing).
import { randomBytes } from "node:crypto";
import { hashPassword, passwordNeedsRehash, schema, verifyPassword } from "@spotx/db";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { sessionMetrics } from "../../auth/authenticate";
import { CHALLENGE_TTL_SECONDS } from "../../auth/login-challenge";
import { requireHttp, startSession } from "../../auth/sign-in";
import { loadTwoFactorUser, twoFactorEnabled } from "../../auth/two-factor";
import { ApiError } from "../../errors";
import { publicProcedure } from "../../trpc";
import { accountView, emailField, passwordField, toAccountView } from "./account-view";

export const logInInput = z.strictObject({ email: emailField, password: passwordField });
export type LogInInput = z.input<typeof logInInput>;

export const logInOutput = z.discriminatedUnion("outcome", [
  z.object({ outcome: z.literal("signed_in"), account: accountView }),
  z.object({
    outcome: z.literal("code_required"),
    /** Send back with the code to auth.logInWithCode. */
    challenge: z.string(),
    expiresInSeconds: z.number().int(),
  }),
]);
export type LogInOutput = z.infer<typeof logInOutput>;

let dummyHash: Promise<string> | undefined;
/** A hash no password matches, made once with the same parameters as real ones. */
const unknownUserHash = () => {
  dummyHash ??= hashPassword(randomBytes(24).toString("base64url"));
  return dummyHash;
};

export const logIn = publicProcedure
  .input(logInInput)
  .output(logInOutput)
  .mutation(async ({ ctx, input }) => {
    requireHttp(ctx);
    const throttle = ctx.services.loginThrottle;
    const attempt = await throttle.begin(input.email, ctx.request.ip).catch((error: unknown) => {
      sessionMetrics.logins.inc({ outcome: "throttled" });
      throw error;
    });
    const user = await loadTwoFactorUser(ctx.db, { email: input.email });
    const matches = await verifyPassword(
      input.password,
      user ? user.passwordHash : await unknownUserHash(),
    );
    if (!user || !matches) {
      await throttle.failed(attempt);
      sessionMetrics.logins.inc({ outcome: "invalid" });
      throw new ApiError("INVALID_CREDENTIALS", "wrong email or password");
    }
    let passwordHash = user.passwordHash;
    if (passwordNeedsRehash(passwordHash)) {
      const fresh = await hashPassword(input.password);
      const { users } = schema;
      // Unless the password changed meanwhile.
      const replaced = await ctx.db
        .update(users)
        .set({ passwordHash: fresh })
        .where(and(eq(users.id, user.id), eq(users.passwordHash, passwordHash)))
        .returning({ id: users.id });
      if (replaced.length > 0) passwordHash = fresh;
    }
    if (twoFactorEnabled(user)) {
      await throttle.notAFailure(attempt);
      sessionMetrics.logins.inc({ outcome: "code_required" });
      return {
        outcome: "code_required" as const,
        challenge: await ctx.services.loginChallenges.issue(user.id, passwordHash),
        expiresInSeconds: CHALLENGE_TTL_SECONDS,
      };
    }
    await throttle.succeeded(attempt);
    await startSession(ctx, user.id);
    sessionMetrics.logins.inc({ outcome: "ok" });
    return { outcome: "signed_in" as const, account: toAccountView({ ...user, twoFactor: false }) };
  });
