// Password hashes: scrypt at OWASP's current cost (N = 2^17, r = 8, p = 1), older hashes still
// verify and are recognised as needing a new hash, and a cost beyond what the module runs is
// refused rather than attempted.
import { describe, expect, it } from "vitest";
import {
  hashPassword,
  isLedgerError,
  PASSWORD_COST,
  passwordNeedsRehash,
  verifyPassword,
} from "../src/index";

/** The cost fields of a stored hash: scrypt$N$r$p$salt$key. */
const costOf = (hash: string) => hash.split("$").slice(1, 4).map(Number);

describe("password hashes", () => {
  it("are made with N = 2^17, r = 8, p = 1 and verify", async () => {
    expect(PASSWORD_COST).toEqual({ N: 131_072, r: 8, p: 1 });
    const hash = await hashPassword("correct horse battery");
    expect(costOf(hash)).toEqual([131_072, 8, 1]);
    expect(await verifyPassword("correct horse battery", hash)).toBe(true);
    expect(await verifyPassword("correct horse batterY", hash)).toBe(false);
    expect(passwordNeedsRehash(hash)).toBe(false);
  });

  it("still verify at the older cost (N = 2^14), and say they need a new hash", async () => {
    const old = await hashPassword("correct horse battery", { N: 16_384, r: 8, p: 1 });
    expect(costOf(old)).toEqual([16_384, 8, 1]);
    expect(await verifyPassword("correct horse battery", old)).toBe(true);
    expect(passwordNeedsRehash(old)).toBe(true);
    expect(passwordNeedsRehash("not a hash")).toBe(true);
  });

  it("refuse a cost past 128 MiB of scrypt work instead of running it", async () => {
    const refused = await hashPassword("pw", { N: 2 ** 18, r: 8, p: 1 }).catch((e: unknown) => e);
    expect(isLedgerError(refused, "INVALID_PARAM_VALUE")).toBe(true);
    // A stored hash claiming such a cost is not one of ours: no match, nothing attempted.
    const salt = Buffer.alloc(16, 1).toString("base64url");
    const key = Buffer.alloc(32, 2).toString("base64url");
    expect(await verifyPassword("pw", `scrypt$262144$8$1$${salt}$${key}`)).toBe(false);
  });
});
