// auth.changePassword: the current password, then a new one. It is what one does after a
// suspected compromise, so everything the old password could have handed out ends with it: in
// one transaction the new hash is stored and every API key of the user is revoked; then every
// session ends (this browser gets a new one at once), the session's sockets are closed, and the
// change is announced so every web instance ends the WebSocket subscriptions of those keys and
// sessions. Wrong current passwords count towards the login throttle like failed logins.
import { hashPassword, schema } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { disconnectSession } from "../../auth/authenticate";
import { announceCredentialChange } from "../../auth/credential-events";
import { provePassword } from "../../auth/reauthenticate";
import { startSession } from "../../auth/sign-in";
import { ApiError } from "../../errors";
import { protectedProcedure } from "../../trpc";
import { newPasswordField, passwordField } from "./account-view";

const log = logger("auth");

export const changePasswordInput = z.strictObject({
  currentPassword: passwordField,
  newPassword: newPasswordField,
});
export type ChangePasswordInput = z.input<typeof changePasswordInput>;

export const changePasswordOutput = z.object({
  /** Sessions ended, this browser's previous one included. */
  revokedSessions: z.number().int(),
  /** API keys revoked (every key that was live). */
  revokedApiKeys: z.number().int(),
});

export const changePassword = protectedProcedure
  .input(changePasswordInput)
  .output(changePasswordOutput)
  .mutation(async ({ ctx, input }) => {
    const { users, apiKeys } = schema;
    const { userId } = ctx.session;
    const found = await ctx.db
      .select({ email: users.email, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1);
    const user = found[0];
    if (!user) throw new ApiError("LOGIN_REQUIRED", "this account no longer exists");
    const attempt = await provePassword(ctx, user, input.currentPassword);
    const passwordHash = await hashPassword(input.newPassword);
    const revokedKeys = await ctx.db.transaction(async (tx) => {
      await tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
      return tx
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
    });
    await ctx.services.loginThrottle.succeeded(attempt);
    const revoked = await ctx.services.sessions.revokeAll(userId);
    await Promise.all(revoked.map((id) => disconnectSession(ctx.services, id)));
    // Committed: every web instance ends the WebSocket subscriptions of the revoked keys and
    // sessions. A lost announcement is caught by their periodic re-check, so a failure only logs.
    await announceCredentialChange(ctx.services.redis, ctx.services.names, {
      userId,
      reason: "password_changed",
    }).catch((error: unknown) => log.warn({ err: error }, "could not announce a password change"));
    if (ctx.http) await startSession(ctx, userId);
    return { revokedSessions: revoked.length, revokedApiKeys: revokedKeys.length };
  });
