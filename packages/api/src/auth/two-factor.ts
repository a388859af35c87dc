// Two-factor sign-in (TOTP) as the users table keeps it: a sealed secret, set at enrolment and in
// force once a first code confirmed it; the last time step a code was accepted for; the hashes of
// the unused recovery codes. Every acceptance is one conditional UPDATE — a step newer than the
// last one, a recovery code still in the list — so two requests with the same code cannot both
// pass, whichever web instance they reach. Wrong codes count towards the login throttle like
// wrong passwords, for signing in and for the actions that ask for a code.
import { type Database, openSecret, schema, sealSecret } from "@spotx/db";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Context, Session } from "../context";
import { ApiError } from "../errors";
import {
  newRecoveryCodes,
  newTotpSecret,
  recoveryCodeHash,
  totpQrDataUrl,
  totpStepOf,
  totpUri,
} from "./totp";

export type TwoFactorRow = {
  id: bigint;
  email: string;
  role: "trader" | "operator";
  status: "active" | "frozen";
  passwordHash: string;
  totpSecretSealed: string | null;
  totpEnabledAt: Date | null;
  totpLastStep: bigint | null;
  totpRecoveryHashes: string[] | null;
};

const u = schema.users;
const columns = {
  id: u.id,
  email: u.email,
  role: u.role,
  status: u.status,
  passwordHash: u.passwordHash,
  totpSecretSealed: u.totpSecretSealed,
  totpEnabledAt: u.totpEnabledAt,
  totpLastStep: u.totpLastStep,
  totpRecoveryHashes: u.totpRecoveryHashes,
};

/** A user with their two-factor columns, by id or by email; null when there is none. */
export async function loadTwoFactorUser(
  db: Database,
  by: { id: bigint } | { email: string },
): Promise<TwoFactorRow | null> {
  const found = await db
    .select(columns)
    .from(u)
    .where("id" in by ? eq(u.id, by.id) : eq(u.email, by.email))
    .limit(1);
  return found[0] ?? null;
}

export const twoFactorEnabled = (user: TwoFactorRow) =>
  user.totpEnabledAt !== null && user.totpSecretSealed !== null;

export type Enrolment = {
  /** The secret as text, for apps that cannot scan (base32). */
  secret: string;
  uri: string;
  /** The URI as a QR code: an SVG data URL. */
  qrCode: string;
  /** Shown once, now; stored only hashed. */
  recoveryCodes: string[];
};

/**
 * Starts (or starts again) an enrolment: a new secret and new recovery codes, not in force until
 * `confirmEnrolment` sees a code made with the secret. Refused while two-factor sign-in is on.
 */
export async function beginEnrolment(
  db: Database,
  sealingKey: Buffer,
  user: { id: bigint; email: string },
): Promise<Enrolment> {
  const secret = newTotpSecret();
  const recoveryCodes = newRecoveryCodes();
  const hashes = recoveryCodes.map((code) => recoveryCodeHash(code) ?? "");
  const updated = await db
    .update(u)
    .set({
      totpSecretSealed: sealSecret(secret, sealingKey),
      totpLastStep: null,
      totpRecoveryHashes: hashes,
    })
    .where(and(eq(u.id, user.id), isNull(u.totpEnabledAt)))
    .returning({ id: u.id });
  if (updated.length === 0) {
    throw new ApiError(
      "TWO_FACTOR_ALREADY_ENABLED",
      "two-factor sign-in is already on; turn it off first to enrol another device",
    );
  }
  const uri = totpUri(secret, user.email);
  return { secret, uri, qrCode: await totpQrDataUrl(uri), recoveryCodes };
}

/** Turns two-factor sign-in on with the first code of the enrolment's secret. */
export async function confirmEnrolment(
  db: Database,
  sealingKey: Buffer,
  userId: bigint,
  code: string,
): Promise<void> {
  const user = await loadTwoFactorUser(db, { id: userId });
  if (!user) throw new ApiError("LOGIN_REQUIRED", "this account no longer exists");
  if (twoFactorEnabled(user)) {
    throw new ApiError("TWO_FACTOR_ALREADY_ENABLED", "two-factor sign-in is already on");
  }
  const sealed = user.totpSecretSealed;
  if (sealed === null) {
    throw new ApiError(
      "TWO_FACTOR_NOT_ENABLED",
      "start the enrolment first (auth.twoFactor.begin)",
    );
  }
  const step = totpStepOf(openSecret(sealed, sealingKey), code, null);
  if (step === null) {
    throw new ApiError(
      "INVALID_TWO_FACTOR_CODE",
      "that code does not match: check the app's clock and enter the code it shows now",
    );
  }
  // Only the secret this code was checked against, and only if nothing enabled it meanwhile.
  const updated = await db
    .update(u)
    .set({ totpEnabledAt: new Date(), totpLastStep: BigInt(step) })
    .where(and(eq(u.id, userId), isNull(u.totpEnabledAt), eq(u.totpSecretSealed, sealed)))
    .returning({ id: u.id });
  if (updated.length === 0) {
    throw new ApiError("INVALID_TWO_FACTOR_CODE", "the enrolment changed meanwhile; start again");
  }
}

/** Turns two-factor sign-in off: the secret and the recovery codes are gone. */
export async function disableTwoFactor(db: Database, userId: bigint): Promise<void> {
  await db
    .update(u)
    .set({
      totpSecretSealed: null,
      totpEnabledAt: null,
      totpLastStep: null,
      totpRecoveryHashes: null,
    })
    .where(eq(u.id, userId));
}

/**
 * Accepts a code of a user whose two-factor sign-in is on, once: a TOTP code for a step newer
 * than the last one used, or — where `recovery` allows — an unused recovery code, which is then
 * used up. False for anything else.
 */
export async function acceptCode(
  db: Database,
  sealingKey: Buffer,
  user: TwoFactorRow,
  code: string,
  options: { recovery: boolean },
): Promise<boolean> {
  const sealed = user.totpSecretSealed;
  if (sealed === null || user.totpEnabledAt === null) return false;
  const digits = code.replace(/\s/g, "");
  if (/^[0-9]+$/.test(digits)) {
    const last = user.totpLastStep === null ? null : Number(user.totpLastStep);
    const step = totpStepOf(openSecret(sealed, sealingKey), digits, last);
    if (step === null) return false;
    const claimed = await db
      .update(u)
      .set({ totpLastStep: BigInt(step) })
      .where(
        and(
          eq(u.id, user.id),
          eq(u.totpSecretSealed, sealed),
          sql`(${u.totpLastStep} IS NULL OR ${u.totpLastStep} < ${BigInt(step)})`,
        ),
      )
      .returning({ id: u.id });
    return claimed.length > 0;
  }
  if (!options.recovery) return false;
  const hash = recoveryCodeHash(code);
  if (hash === null) return false;
  const used = await db
    .update(u)
    .set({ totpRecoveryHashes: sql`array_remove(${u.totpRecoveryHashes}, ${hash})` })
    .where(
      and(
        eq(u.id, user.id),
        eq(u.totpSecretSealed, sealed),
        sql`${hash} = ANY(${u.totpRecoveryHashes})`,
      ),
    )
    .returning({ id: u.id });
  return used.length > 0;
}

/**
 * For an action a user with two-factor sign-in must confirm with a current code (new API keys,
 * withdrawals): nothing when theirs is off; TWO_FACTOR_REQUIRED without a code;
 * INVALID_TWO_FACTOR_CODE for a wrong or used one, counted by the login throttle.
 */
export async function requireCodeFor(
  ctx: Context & { session: Session },
  action: string,
  code: string | undefined,
): Promise<void> {
  const user = await loadTwoFactorUser(ctx.db, { id: ctx.session.userId });
  if (!user || !twoFactorEnabled(user)) return;
  if (code === undefined) {
    throw new ApiError(
      "TWO_FACTOR_REQUIRED",
      `${action} needs a current code from your authenticator app (totpCode)`,
    );
  }
  const throttle = ctx.services.loginThrottle;
  const attempt = await throttle.begin(user.email, ctx.request.ip);
  if (
    !(await acceptCode(ctx.db, ctx.services.twoFactorSealingKey, user, code, { recovery: false }))
  ) {
    await throttle.failed(attempt);
    throw new ApiError(
      "INVALID_TWO_FACTOR_CODE",
      "that code is wrong or was already used; enter the one your app shows now",
    );
  }
  await throttle.succeeded(attempt);
}
