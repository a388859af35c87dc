// Password hashing with scrypt (node:crypto): a per-password salt, the cost stored in the hash so
// it can be raised later, and a constant-time comparison. The cost is OWASP's current advice for
// scrypt (Password Storage Cheat Sheet: N = 2^17, r = 8, p = 1 — 128 MiB and a few hundred ms per
// hash); hashes made at an older, lower cost still verify, and `passwordNeedsRehash` tells the
// login to store the password again at this one.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { LedgerError } from "./errors";

export type PasswordCost = { N: number; r: number; p: number };

/** What every password is hashed with (OWASP: N = 2^17, r = 8, p = 1). */
export const PASSWORD_COST: PasswordCost = { N: 2 ** 17, r: 8, p: 1 };

const KEY_LENGTH = 32;
/** scrypt needs 128 · N · r bytes; Node refuses past `maxmem` (32 MiB by default, too small). */
const MAX_MEMORY = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, options: ScryptOptions, keyLength: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(
      password.normalize("NFKC"),
      salt,
      keyLength,
      { ...options, maxmem: MAX_MEMORY },
      (error, key) => (error ? reject(error) : resolve(key)),
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

/** A cost scrypt can run within MAX_MEMORY: N a power of two, r and p small. */
function acceptableCost(N: number, r: number, p: number): boolean {
  return (
    Number.isInteger(N) &&
    Number.isInteger(Math.log2(N)) &&
    N >= 2 &&
    N <= 2 ** 20 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= 32 &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= 16 &&
    N * r * p <= 2 ** 20 // 128 MiB of scrypt work at most
  );
}

function requireCost(cost: unknown): PasswordCost {
  if (typeof cost === "object" && cost !== null && "N" in cost && "r" in cost && "p" in cost) {
    const { N, r, p } = cost;
    if (
      typeof N === "number" &&
      typeof r === "number" &&
      typeof p === "number" &&
      acceptableCost(N, r, p)
    ) {
      return { N, r, p };
    }
  }
  throw new LedgerError("INVALID_PARAM_VALUE", "not a scrypt cost this module accepts");
}

/**
 * A hash of `password`. `cost` is for test fixtures that make many users (a lower cost); every
 * production caller leaves it out.
 */
export async function hashPassword(
  password: string,
  cost: PasswordCost = PASSWORD_COST,
): Promise<string> {
  requirePassword(password);
  const { N, r, p } = requireCost(cost);
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r, p }, KEY_LENGTH);
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

type ParsedHash = { cost: PasswordCost; salt: Buffer; key: Buffer };

function parseHash(stored: unknown): ParsedHash | null {
  if (typeof stored !== "string") return null;
  const [scheme, n, r, p, salt, key, ...rest] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key || rest.length > 0) return null;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  // Only the parameters this module writes (or stronger, within scrypt's memory limit).
  if (!acceptableCost(cost.N, cost.r, cost.p)) return null;
  const expected = Buffer.from(key, "base64url");
  if (expected.length < 16 || expected.length > 64) return null;
  return { cost, salt: Buffer.from(salt, "base64url"), key: expected };
}

/** True when `password` matches; false for a wrong password or a stored hash that is not one. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  requirePassword(password);
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const actual = await derive(password, parsed.salt, parsed.cost, parsed.key.length).catch(
    () => null,
  );
  return actual !== null && timingSafeEqual(actual, parsed.key);
}

/**
 * True when a stored hash was made at a cost below PASSWORD_COST (or is not one of ours): after
 * the password was verified, hash it again and store that.
 */
export function passwordNeedsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  const { N, r, p } = parsed.cost;
  return N < PASSWORD_COST.N || r < PASSWORD_COST.r || p < PASSWORD_COST.p;
}
