// The pieces of two-factor sign-in that touch no database: TOTP secrets and codes (RFC 6238 with
// otplib: SHA-1, 6 digits, 30 s steps — what every authenticator app reads from an otpauth://
// URI), the enrolment QR code (an SVG made on the server, shown as a data URL), and recovery
// codes (random, shown once, stored only as SHA-256: each has 80 bits, so a hash copied from the
// database cannot be reversed by guessing).
import { createHash, randomBytes } from "node:crypto";
import { generateSecret, generateSync, generateURI, verifySync } from "otplib";
import QRCode from "qrcode";

/** The issuer an authenticator app shows beside the account. */
export const TOTP_ISSUER = "spotx";
/** A code is accepted for the step before and after the current one (clock drift). */
const EPOCH_TOLERANCE_SECONDS = 30;
export const TOTP_PERIOD_SECONDS = 30;

export const RECOVERY_CODE_COUNT = 10;

/** Six digits (spaces around or inside, as apps show them, are the caller's to remove). */
export const TOTP_CODE = /^[0-9]{6}$/;
/** Sixteen base32 characters, in groups of four. */
const RECOVERY_CODE = /^[a-z2-7]{16}$/;

/** A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** What an authenticator app scans: otpauth://totp/spotx:<email>?secret=…&issuer=spotx. */
export function totpUri(secret: string, account: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: account, secret });
}

/** The otpauth URI as a QR code: an SVG image as a data URL (no script, no external fetch). */
export async function totpQrDataUrl(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: "svg", margin: 2, errorCorrectionLevel: "M" });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;
}

/** The code for `secret` at `epochSeconds` (now): what the user's app shows. */
export function totpCode(secret: string, epochSeconds = Math.floor(Date.now() / 1000)): string {
  return generateSync({ secret, epoch: epochSeconds });
}

/**
 * The time step `code` is good for (within one step of now), later than `afterStep`; null when
 * it is wrong, malformed, or not newer than a step already used (a replay).
 */
export function totpStepOf(
  secret: string,
  code: string,
  afterStep: number | null,
  epochSeconds = Math.floor(Date.now() / 1000),
): number | null {
  if (!TOTP_CODE.test(code)) return null;
  try {
    const result = verifySync({
      secret,
      token: code,
      epoch: epochSeconds,
      epochTolerance: EPOCH_TOLERANCE_SECONDS,
      ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
    });
    return result.valid && "timeStep" in result ? result.timeStep : null;
  } catch {
    // otplib refuses malformed input by throwing; to the caller it is just a wrong code.
    return null;
  }
}

/** Ten new recovery codes, as shown to the user: `abcd-efgh-ijkl-mnop`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const text = base32(randomBytes(10));
    return text.match(/.{4}/g)?.join("-") ?? text;
  });
}

/**
 * What is stored for a recovery code: SHA-256 of its canonical form (lower case, without dashes
 * or spaces), or null when the text cannot be one.
 */
export function recoveryCodeHash(code: string): string | null {
  const canonical = code.toLowerCase().replace(/[\s-]/g, "");
  if (!RECOVERY_CODE.test(canonical)) return null;
  return createHash("sha256").update(canonical).digest("hex");
}

/** RFC 4648 base32, lower case, without padding (10 bytes make exactly 16 characters). */
function base32(bytes: Buffer): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
