// The access token in the session cookie: a short-lived HS256 JWT naming the user and the
// session it belongs to. Its key is derived from the server key for this use alone, so a socket
// token (or any later kind) can never pass as a session token, nor the reverse. The signature
// and expiry are checked here; whether the session still exists is the session store's answer.
import { hkdfSync } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

const AUDIENCE = "spotx:session";
const USER_ID = /^[1-9][0-9]{0,18}$/;
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

export type AccessClaims = { userId: bigint; sessionId: string };

export type AccessCheck =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: "expired" | "invalid" };

export class SessionTokens {
  private readonly key: Uint8Array;

  constructor(serverKey: Uint8Array) {
    if (serverKey.length !== 32) throw new RangeError("the server key must be 32 bytes");
    this.key = new Uint8Array(hkdfSync("sha256", serverKey, "", "spotx session token v1", 32));
  }

  /** A token good for `ttlSeconds` from `issuedAt` (seconds; now unless given). */
  sign(claims: AccessClaims, ttlSeconds: number, issuedAt = Math.floor(Date.now() / 1000)) {
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(String(claims.userId))
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(this.key);
  }

  /** Signature (HS256 only), audience, expiry and the claims' shapes. */
  async verify(token: string): Promise<AccessCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        audience: AUDIENCE,
        requiredClaims: ["sub", "exp", "sid"],
      });
      const subject = payload.sub ?? "";
      const sid = payload.sid;
      if (!USER_ID.test(subject) || typeof sid !== "string" || !SESSION_ID.test(sid)) {
        return { ok: false, reason: "invalid" };
      }
      return { ok: true, claims: { userId: BigInt(subject), sessionId: sid } };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
      return { ok: false, reason: "invalid" };
    }
  }
}

/** A new session id: 16 random bytes, base64url (22 characters). */
export function newSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
}

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}
