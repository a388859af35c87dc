// API key secrets are stored sealed with the server key, readable back only with it.
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, findApiKey, openSecret, revokeApiKey, sealSecret } from "../src/apiKeys";
import { createFixture, createUser, type Fixture } from "./fixtures";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
});

const serverKey = randomBytes(32);

describe("API keys", () => {
  it("seals a secret so that only the server key opens it, and detects tampering", () => {
    const sealed = sealSecret("s3cret", serverKey);
    expect(sealed).not.toContain("s3cret");
    expect(openSecret(sealed, serverKey)).toBe("s3cret");
    expect(() => openSecret(sealed, randomBytes(32))).toThrow();
    const tampered = Buffer.from(sealed, "base64url");
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => openSecret(tampered.toString("base64url"), serverKey)).toThrow();
  });

  it("creates a key whose secret is stored only sealed, finds it, and stops finding it once revoked", async () => {
    const user = await createUser(f.db);
    const created = await createApiKey(f.db, serverKey, {
      userId: user,
      permissions: ["read", "trade"],
      ipAllowlist: ["10.0.0.0/8"],
      label: "bot",
    });
    const stored = await f.db.execute<{ secret_sealed: string }>(
      sql`SELECT secret_sealed FROM api_keys WHERE id = ${created.id}`,
    );
    expect(stored.rows[0]?.secret_sealed).not.toContain(created.secret);
    const found = await findApiKey(f.db, serverKey, created.key);
    expect(found).toMatchObject({
      userId: user,
      secret: created.secret,
      permissions: ["read", "trade"],
      ipAllowlist: ["10.0.0.0/8"],
    });
    expect(await revokeApiKey(f.db, user, created.key)).toBe(true);
    expect(await findApiKey(f.db, serverKey, created.key)).toBeUndefined();
  });
});
