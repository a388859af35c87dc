// auth.twoFactor: two-factor sign-in with an authenticator app (TOTP). Optional for traders,
// required for operators (an operator without it may use nothing of the console but this).
// - status: on or off, an enrolment in progress, recovery codes left;
// - begin (with the password): a new secret as an otpauth URI, its QR code and the text, and ten
//   recovery codes — shown this once; nothing is in force yet;
// - confirm (with the app's first code): in force from now on — signing in asks for a code, and
//   so do new API keys and withdrawals;
// - disable (with the password and a code, or a recovery code): off, secret and codes gone.
// Passwords and codes given here count towards the login throttle like a login's.
import { z } from "zod";
import { provePassword } from "../../auth/reauthenticate";
import {
  acceptCode,
  beginEnrolment,
  confirmEnrolment,
  disableTwoFactor,
  loadTwoFactorUser,
  twoFactorEnabled,
} from "../../auth/two-factor";
import { ApiError } from "../../errors";
import { protectedProcedure, router } from "../../trpc";
import { passwordField } from "./account-view";

/** Six digits, as the app shows them (spaces allowed). */
export const totpCodeField = z
  .string()
  .transform((text) => text.replace(/\s/g, ""))
  .pipe(z.string().regex(/^[0-9]{6}$/, "a code is the 6 digits your authenticator app shows"));

export const twoFactorStatus = z.object({
  enabled: z.boolean(),
  /** An enrolment was begun and not yet confirmed. */
  pending: z.boolean(),
  recoveryCodesLeft: z.number().int(),
  /** Operators must have it on. */
  required: z.boolean(),
});

async function signedInUser(ctx: { db: Parameters<typeof loadTwoFactorUser>[0] }, id: bigint) {
  const user = await loadTwoFactorUser(ctx.db, { id });
  if (!user) throw new ApiError("LOGIN_REQUIRED", "this account no longer exists");
  return user;
}

const status = protectedProcedure.output(twoFactorStatus).query(async ({ ctx }) => {
  const user = await signedInUser(ctx, ctx.session.userId);
  const enabled = twoFactorEnabled(user);
  return {
    enabled,
    pending: !enabled && user.totpSecretSealed !== null,
    recoveryCodesLeft: enabled ? (user.totpRecoveryHashes?.length ?? 0) : 0,
    required: user.role === "operator",
  };
});

const begin = protectedProcedure
  .input(z.strictObject({ password: passwordField }))
  .output(
    z.object({
      secret: z.string(),
      uri: z.string(),
      qrCode: z.string(),
      recoveryCodes: z.array(z.string()),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const user = await signedInUser(ctx, ctx.session.userId);
    if (twoFactorEnabled(user)) {
      throw new ApiError(
        "TWO_FACTOR_ALREADY_ENABLED",
        "two-factor sign-in is already on; turn it off first to enrol another device",
      );
    }
    const attempt = await provePassword(ctx, user, input.password);
    const enrolment = await beginEnrolment(ctx.db, ctx.services.twoFactorSealingKey, user);
    await ctx.services.loginThrottle.succeeded(attempt);
    return enrolment;
  });

const confirm = protectedProcedure
  .input(z.strictObject({ code: totpCodeField }))
  .output(z.object({ enabled: z.literal(true) }))
  .mutation(async ({ ctx, input }) => {
    await confirmEnrolment(
      ctx.db,
      ctx.services.twoFactorSealingKey,
      ctx.session.userId,
      input.code,
    );
    return { enabled: true as const };
  });

const disable = protectedProcedure
  .input(
    z.strictObject({
      password: passwordField,
      /** A code from the app, or an unused recovery code. */
      code: z.string().trim().min(6).max(40),
    }),
  )
  .output(z.object({ enabled: z.literal(false) }))
  .mutation(async ({ ctx, input }) => {
    const user = await signedInUser(ctx, ctx.session.userId);
    if (!twoFactorEnabled(user)) {
      throw new ApiError("TWO_FACTOR_NOT_ENABLED", "two-factor sign-in is not on");
    }
    const attempt = await provePassword(ctx, user, input.password);
    const sealingKey = ctx.services.twoFactorSealingKey;
    if (!(await acceptCode(ctx.db, sealingKey, user, input.code, { recovery: true }))) {
      await ctx.services.loginThrottle.failed(attempt);
      throw new ApiError(
        "INVALID_TWO_FACTOR_CODE",
        "that code is wrong or was already used; enter the one your app shows now",
      );
    }
    await disableTwoFactor(ctx.db, user.id);
    await ctx.services.loginThrottle.succeeded(attempt);
    return { enabled: false as const };
  });

export const twoFactorRouter = router({ status, begin, confirm, disable });
