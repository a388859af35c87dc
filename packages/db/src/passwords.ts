// Password hashing with scrypt (node:crypto): a per-password salt, parameters stored in the
// hash so they can be raised later, and a constant-time comparison.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { LedgerError } from "./errors";

const PARAMS = { N: 16384, r: 8, p: 1, keyLength: 32 };

function derive(password: string, salt: Buffer, options: ScryptOptions, keyLength: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Passwords are 1 to 1,024 characters: longer is a denial-of-service lever, not security. */
function requirePassword(password: unknown): string {
  if (typeof password !== "string" || password.length === 0 || password.length > 1_024) {
    throw new LedgerError("INVALID_PARAM_VALUE", "a password is 1 to 1,024 characters");
  }
  return password;
}

export async function hashPassword(password: string): Promise<string> {
  requirePassword(password);
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = PARAMS;
  const key = await derive(password, salt, { N, r, p }, keyLength);
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** True when `password` matches; false for a wrong password or a stored hash that is not one. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  requirePassword(password);
  if (typeof stored !== "string") return false;
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) return false;
  // Only the parameters this module writes (or stronger, within scrypt's memory limit).
  const [cost, block, parallel] = [Number(n), Number(r), Number(p)];
  if (
    !Number.isInteger(Math.log2(cost)) ||
    cost < 2 ||
    cost > 2 ** 20 ||
    !Number.isInteger(block) ||
    block < 1 ||
    block > 32 ||
    !Number.isInteger(parallel) ||
    parallel < 1 ||
    parallel > 16 ||
    cost * block * parallel > 2 ** 20 // about 128 MiB of scrypt work at most
  ) {
    return false;
  }
  const expected = Buffer.from(key, "base64url");
  if (expected.length < 16 || expected.length > 64) return false;
  const actual = await derive(
    password,
    Buffer.from(salt, "base64url"),
    { N: cost, r: block, p: parallel, maxmem: 256 * 1024 * 1024 },
    expected.length,
  ).catch(() => null);
  return actual !== null && timingSafeEqual(actual, expected);
}
