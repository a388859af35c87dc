// auth.changePassword: the current password, then a new one. Every session of the user ends —
// a password change is what one does after a suspected compromise — and this browser gets a new
// session at once. Wrong current passwords count towards the login throttle like failed logins.
import { hashPassword, schema, verifyPassword } from "@spotx/db";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { disconnectSession } from "../../auth/authenticate";
import { startSession } from "../../auth/sign-in";
import { ApiError } from "../../errors";
import { protectedProcedure } from "../../trpc";
import { newPasswordField, passwordField } from "./account-view";

export const changePasswordInput = z.strictObject({
  currentPassword: passwordField,
  newPassword: newPasswordField,
});
export type ChangePasswordInput = z.input<typeof changePasswordInput>;

export const changePasswordOutput = z.object({
  /** Sessions ended, this browser's previous one included. */
  revokedSessions: z.number().int(),
});

export const changePassword = protectedProcedure
  .input(changePasswordInput)
  .output(changePasswordOutput)
  .mutation(async ({ ctx, input }) => {
    const { users } = schema;
    const { userId } = ctx.session;
    const found = await ctx.db
      .select({ email: users.email, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1);
    const user = found[0];
    if (!user) throw new ApiError("LOGIN_REQUIRED", "this account no longer exists");
    const throttle = ctx.services.loginThrottle;
    await throttle.check(user.email, ctx.request.ip);
    if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
      await throttle.failed(user.email, ctx.request.ip);
      throw new ApiError("INVALID_CREDENTIALS", "the current password is wrong");
    }
    const passwordHash = await hashPassword(input.newPassword);
    await ctx.db.update(users).set({ passwordHash }).where(eq(users.id, userId));
    const revoked = await ctx.services.sessions.revokeAll(userId);
    await Promise.all(revoked.map((id) => disconnectSession(ctx.services, id)));
    if (ctx.http) await startSession(ctx, userId);
    return { revokedSessions: revoked.length };
  });
