// The server's secret key (SPOTX_SECRET_KEY) and the tokens signed with it. Until sessions
// land, a socket.io client proves who it is with a short HS256 JWT whose `sub` is the user id:
// the interim handshake for the private user rooms.
import { hkdfSync, randomBytes } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import { ConfigError, type PlatformEnv, platformEnv } from "./env";
import { logger } from "./logger";
import { processSingleton } from "./probe";

/**
 * The 32-byte server key. Production refuses to run without SPOTX_SECRET_KEY (`npm start`
 * generates one into .data/secret-key); a development or test process without it gets a
 * random key of its own, with a warning — never a fixed one that would be the same on every
 * machine — so its tokens are good only inside that process.
 */
export function serverSecretKey(env: PlatformEnv = platformEnv()): Buffer {
  if (env.SPOTX_SECRET_KEY !== undefined) return Buffer.from(env.SPOTX_SECRET_KEY, "hex");
  if (env.NODE_ENV === "production") {
    throw new ConfigError(
      "SPOTX_SECRET_KEY",
      "must be set in production (64 hex characters; `npm start` generates one into .data/secret-key)",
    );
  }
  return processSingleton("secrets.ephemeral-key", () => {
    logger("secrets").warn(
      "SPOTX_SECRET_KEY is not set: using a random key for this process only; tokens it signs are not valid elsewhere",
    );
    return randomBytes(32);
  });
}

/** Tokens for socket.io only: a token meant for another use (a session later) is refused. */
const SOCKET_AUDIENCE = "spotx:socket";
const USER_ID = /^[1-9][0-9]{0,18}$/;

// The server key will also seal API secrets and sign sessions: each use gets its own key
// derived from it, so a token of one kind can never pass as another.
function socketTokenKey(serverKey: Uint8Array): Uint8Array {
  if (serverKey.length !== 32) throw new RangeError("the server key must be 32 bytes");
  return new Uint8Array(hkdfSync("sha256", serverKey, "", "spotx socket token v1", 32));
}

/**
 * The 32-byte key API key secrets are sealed with (AES-256-GCM, `sealSecret`/`openSecret` and
 * `createApiKey`/`findApiKey` in @spotx/db). Both front doors must use this one: a key created
 * on the account page is checked by the REST API's signature guard.
 */
export function apiKeySealingKey(serverKey: Uint8Array): Buffer {
  if (serverKey.length !== 32) throw new RangeError("the server key must be 32 bytes");
  return Buffer.from(hkdfSync("sha256", serverKey, "", "spotx api key sealing v1", 32));
}

/**
 * The 32-byte key two-factor (TOTP) secrets are sealed with (`sealSecret`/`openSecret` in
 * @spotx/db), and never anything else: a copy of the users table alone gives no one's codes.
 */
export function twoFactorSealingKey(serverKey: Uint8Array): Buffer {
  if (serverKey.length !== 32) throw new RangeError("the server key must be 32 bytes");
  return Buffer.from(hkdfSync("sha256", serverKey, "", "spotx two-factor sealing v1", 32));
}

/** A token that lets its holder join `rooms.user(userId)` for `ttlSeconds`. */
export async function signSocketToken(
  userId: bigint | string,
  serverKey: Uint8Array,
  ttlSeconds: number,
): Promise<string> {
  const subject = String(userId);
  if (!USER_ID.test(subject)) throw new RangeError(`not a user id: ${subject}`);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`token lifetime must be a positive whole number of seconds`);
  }
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject)
    .setAudience(SOCKET_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(socketTokenKey(serverKey));
}

export type SocketTokenCheck =
  | { ok: true; userId: string }
  | { ok: false; reason: "expired" | "invalid" };

/** Checks signature (HS256 only), audience, expiry and the subject's shape. */
export async function verifySocketToken(
  token: string,
  serverKey: Uint8Array,
): Promise<SocketTokenCheck> {
  try {
    const { payload } = await jwtVerify(token, socketTokenKey(serverKey), {
      algorithms: ["HS256"],
      audience: SOCKET_AUDIENCE,
      requiredClaims: ["sub", "exp"],
    });
    const subject = payload.sub ?? "";
    return USER_ID.test(subject) ? { ok: true, userId: subject } : { ok: false, reason: "invalid" };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
    return { ok: false, reason: "invalid" };
  }
}
