// auth.signUp: a new trader account, signed in at once. An email already taken is said so
// (EMAIL_TAKEN): sign-up cannot hide which emails exist without hiding it from the person who
// owns one, and the auth rate limit bounds how fast anyone can ask.
import { hashPassword, schema } from "@spotx/db";
import { z } from "zod";
import { startSession } from "../../auth/sign-in";
import { ApiError } from "../../errors";
import { publicProcedure } from "../../trpc";
import { accountView, emailField, newPasswordField, toAccountView } from "./account-view";

export const signUpInput = z.strictObject({ email: emailField, password: newPasswordField });
export type SignUpInput = z.input<typeof signUpInput>;

export const signUp = publicProcedure
  .input(signUpInput)
  .output(accountView)
  .mutation(async ({ ctx, input }) => {
    const { users } = schema;
    const passwordHash = await hashPassword(input.password);
    const inserted = await ctx.db
      .insert(users)
      .values({ email: input.email, passwordHash, role: "trader", status: "active" })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id, email: users.email, role: users.role, status: users.status });
    const user = inserted[0];
    if (!user) throw new ApiError("EMAIL_TAKEN", `${input.email} already has an account; log in`);
    await startSession(ctx, user.id);
    return toAccountView({ ...user, twoFactor: false });
  });
