// A signed-in user giving their password again before a change that a stolen session must not
// make on its own (a new password, turning two-factor sign-in on or off). Counted by the login
// throttle exactly like a login, so a session cannot be used to guess the password faster.

import { verifyPassword } from "@spotx/db";
import type { Context } from "../context";
import { ApiError } from "../errors";
import type { LoginAttempt } from "./login-throttle";

/**
 * Checks `password` against the user's; refuses a wrong one with INVALID_CREDENTIALS (counted).
 * The attempt is returned still open: the caller settles it when the whole change succeeded.
 */
export async function provePassword(
  ctx: Context,
  user: { email: string; passwordHash: string },
  password: string,
): Promise<LoginAttempt> {
  const attempt = await ctx.services.loginThrottle.begin(user.email, ctx.request.ip);
  if (!(await verifyPassword(password, user.passwordHash))) {
    await ctx.services.loginThrottle.failed(attempt);
    throw new ApiError("INVALID_CREDENTIALS", "the current password is wrong");
  }
  return attempt;
}
