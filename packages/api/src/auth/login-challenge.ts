// The step between a right password and a session for a user with two-factor sign-in: a short
// HS256 JWT the browser holds and sends back with the code (`auth.logInWithCode`). Its key is
// derived from the server key for this use alone (a session or socket token never passes as
// one), it names the user and a fingerprint of their password hash — so a password changed in
// between ends every challenge made with the old one — and it lives five minutes.
import { createHash, hkdfSync } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

const AUDIENCE = "spotx:login-challenge";
const USER_ID = /^[1-9][0-9]{0,18}$/;
export const CHALLENGE_TTL_SECONDS = 300;

export type ChallengeCheck =
  | { ok: true; userId: bigint; passwordFingerprint: string }
  | { ok: false; reason: "expired" | "invalid" };

/** A short fingerprint of a stored password hash (never the hash itself, in a token). */
export function passwordFingerprint(passwordHash: string): string {
  return createHash("sha256").update(passwordHash).digest("base64url").slice(0, 22);
}

export class LoginChallenges {
  private readonly key: Uint8Array;

  constructor(serverKey: Uint8Array) {
    if (serverKey.length !== 32) throw new RangeError("the server key must be 32 bytes");
    this.key = new Uint8Array(hkdfSync("sha256", serverKey, "", "spotx login challenge v1", 32));
  }

  issue(userId: bigint, passwordHash: string): Promise<string> {
    return new SignJWT({ pwf: passwordFingerprint(passwordHash) })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(String(userId))
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${CHALLENGE_TTL_SECONDS}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<ChallengeCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        audience: AUDIENCE,
        requiredClaims: ["sub", "exp", "pwf"],
      });
      const subject = payload.sub ?? "";
      const pwf = payload.pwf;
      if (!USER_ID.test(subject) || typeof pwf !== "string")
        return { ok: false, reason: "invalid" };
      return { ok: true, userId: BigInt(subject), passwordFingerprint: pwf };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
      return { ok: false, reason: "invalid" };
    }
  }
}
