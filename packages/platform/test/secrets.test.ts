// The server key and the interim socket tokens: production refuses to run without a key, a
// development process never falls back to a fixed one, and only a token signed with this
// server's key, for sockets, unexpired, names a user.
import { hkdfSync, randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv, platformEnvSchema } from "../src/env";
import { serverSecretKey, signSocketToken, verifySocketToken } from "../src/secrets";

const HEX = "ab".repeat(32);

describe("serverSecretKey", () => {
  it("reads the 32-byte key from SPOTX_SECRET_KEY", () => {
    const env = parseEnv(platformEnvSchema, { SPOTX_SECRET_KEY: HEX });
    expect(serverSecretKey(env)).toEqual(Buffer.alloc(32, 0xab));
  });

  it("refuses a key that is not 64 hex characters, naming the variable", () => {
    expect(() => parseEnv(platformEnvSchema, { SPOTX_SECRET_KEY: "abc" })).toThrow(
      /SPOTX_SECRET_KEY: must be 64 hex characters/,
    );
  });

  it("refuses to run in production without a key", () => {
    const env = parseEnv(platformEnvSchema, { NODE_ENV: "production" });
    expect(() => serverSecretKey(env)).toThrow(ConfigError);
    expect(() => serverSecretKey(env)).toThrow(/SPOTX_SECRET_KEY: must be set in production/);
  });

  it("gives a development process a random key of its own, not a fixed one", () => {
    const env = parseEnv(platformEnvSchema, { NODE_ENV: "development" });
    const key = serverSecretKey(env);
    expect(key).toHaveLength(32);
    expect(key.equals(Buffer.alloc(32))).toBe(false);
    expect(serverSecretKey(env).equals(key)).toBe(true); // stable within the process
  });
});

describe("socket tokens", () => {
  const key = randomBytes(32);

  it("carries the user id to a server with the same key", async () => {
    const token = await signSocketToken(81_234_567_890n, key, 60);
    expect(await verifySocketToken(token, key)).toEqual({ ok: true, userId: "81234567890" });
  });

  it("is refused under another key or with an altered payload", async () => {
    const token = await signSocketToken(7n, key, 60);
    expect(await verifySocketToken(token, randomBytes(32))).toEqual({
      ok: false,
      reason: "invalid",
    });
    const [header, , signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "8", aud: "spotx:socket", exp: 9e9 }));
    expect(
      await verifySocketToken(`${header}.${forged.toString("base64url")}.${signature}`, key),
    ).toEqual({ ok: false, reason: "invalid" });
  });

  it("is refused once expired", async () => {
    const past = await signedWithSocketKey(key, { sub: "7", expiresIn: -10 });
    expect(await verifySocketToken(past, key)).toEqual({ ok: false, reason: "expired" });
  });

  it("is refused for another audience", async () => {
    const other = await signedWithSocketKey(key, { sub: "7", expiresIn: 60, aud: "spotx:session" });
    expect(await verifySocketToken(other, key)).toEqual({ ok: false, reason: "invalid" });
  });

  it("is not a token when it was signed with the raw server key (the socket key is derived)", async () => {
    const raw = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("7")
      .setAudience("spotx:socket")
      .setExpirationTime("1m")
      .sign(key);
    expect(await verifySocketToken(raw, key)).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses ids that are not user ids", async () => {
    await expect(signSocketToken("0", key, 60)).rejects.toThrow(RangeError);
    await expect(signSocketToken("1 OR 1", key, 60)).rejects.toThrow(RangeError);
    await expect(signSocketToken(1n, key, 0)).rejects.toThrow(RangeError);
  });
});

/** A token signed the way the server signs (derived key), with chosen claims. */
function signedWithSocketKey(
  key: Buffer,
  claims: { sub: string; expiresIn: number; aud?: string },
) {
  const derived = new Uint8Array(hkdfSync("sha256", key, "", "spotx socket token v1", 32));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setAudience(claims.aud ?? "spotx:socket")
    .setIssuedAt(now - 60)
    .setExpirationTime(now + claims.expiresIn)
    .sign(derived);
}
