// auth.logIn: email and password for a session. An unknown email and a wrong password get the
// same answer (INVALID_CREDENTIALS), in about the same time — an unknown email is checked
// against a dummy hash with the same scrypt cost — and both count towards the login throttle.
// A frozen user may log in: they can still read (and cancel nothing, trade nothing).
import { randomBytes } from "node:crypto";
import { hashPassword, schema, verifyPassword } from "@spotx/db";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { sessionMetrics } from "../../auth/authenticate";
import { requireHttp, startSession } from "../../auth/sign-in";
import { ApiError } from "../../errors";
import { publicProcedure } from "../../trpc";
import { accountView, emailField, passwordField, toAccountView } from "./account-view";

export const logInInput = z.strictObject({ email: emailField, password: passwordField });
export type LogInInput = z.input<typeof logInInput>;

let dummyHash: Promise<string> | undefined;
/** A hash no password matches, made once with the same parameters as real ones. */
const unknownUserHash = () => {
  dummyHash ??= hashPassword(randomBytes(24).toString("base64url"));
  return dummyHash;
};

export const logIn = publicProcedure
  .input(logInInput)
  .output(accountView)
  .mutation(async ({ ctx, input }) => {
    requireHttp(ctx);
    const throttle = ctx.services.loginThrottle;
    const ip = ctx.request.ip;
    try {
      await throttle.check(input.email, ip);
    } catch (error) {
      sessionMetrics.logins.inc({ outcome: "throttled" });
      throw error;
    }
    const { users } = schema;
    const found = await ctx.db
      .select({
        id: users.id,
        email: users.email,
        passwordHash: users.passwordHash,
        role: users.role,
        status: users.status,
      })
      .from(users)
      .where(eq(users.email, input.email))
      .limit(1);
    const user = found[0];
    const matches = await verifyPassword(
      input.password,
      user ? user.passwordHash : await unknownUserHash(),
    );
    if (!user || !matches) {
      await throttle.failed(input.email, ip);
      sessionMetrics.logins.inc({ outcome: "invalid" });
      throw new ApiError("INVALID_CREDENTIALS", "wrong email or password");
    }
    await throttle.succeeded(input.email);
    await startSession(ctx, user.id);
    sessionMetrics.logins.inc({ outcome: "ok" });
    return toAccountView(user);
  });
