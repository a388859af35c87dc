// The market maker's account, provisioned against a real PostgreSQL (a test database of its
// own): made once however often it starts — one user, funds deposited up to the target and
// topped up only when low, one API key whose sealed secret opens with the server key — and a
// key sealed under another server key is revoked and replaced.
import { randomBytes } from "node:crypto";
import { DEMO_ASSETS, findApiKey, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MARKET_MAKER_EMAIL, MARKET_MAKER_KEY_LABEL, provisionMarketMaker } from "../src/account";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.insert(schema.assets).values([...DEMO_ASSETS]);
});
afterAll(async () => {
  await t?.drop();
});

const balance = async (userId: bigint, asset: string) => {
  const [row] = await t.db
    .select({ available: schema.balances.available })
    .from(schema.balances)
    .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, asset)));
  return row?.available ?? 0n;
};

describe("provisionMarketMaker", () => {
  const sealingKey = randomBytes(32);

  it("creates the user, funds it and makes one read+trade key, once", async () => {
    const first = await provisionMarketMaker(t.db, sealingKey);
    expect(await balance(first.userId, "BTC")).toBe(200n * 10n ** 8n);
    expect(await balance(first.userId, "USDT")).toBe(10_000_000n * 10n ** 6n);
    const stored = await findApiKey(t.db, sealingKey, first.credentials.key);
    expect(stored).toMatchObject({
      userId: first.userId,
      permissions: ["read", "trade"],
      label: MARKET_MAKER_KEY_LABEL,
      secret: first.credentials.secret,
    });

    const again = await provisionMarketMaker(t.db, sealingKey);
    expect(again).toEqual(first);
    const users = await t.db
      .select()
      .from(schema.users)
      .where(eq(schema.users.email, MARKET_MAKER_EMAIL));
    expect(users).toHaveLength(1);
    const keys = await t.db
      .select()
      .from(schema.apiKeys)
      .where(eq(schema.apiKeys.userId, first.userId));
    expect(keys).toHaveLength(1);
    // Funded once: the second start found the balances full.
    expect(await balance(first.userId, "BTC")).toBe(200n * 10n ** 8n);
  });

  it("tops a balance up to its target only once it is below half of it", async () => {
    const { userId } = await provisionMarketMaker(t.db, sealingKey);
    // Most of the ETH gone (3,000 → 1,000). A raw update of the balance row, which is all
    // provisioning reads; this database is thrown away after the file.
    await t.db
      .update(schema.balances)
      .set({ available: 1_000n * 10n ** 8n })
      .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, "ETH")));
    await provisionMarketMaker(t.db, sealingKey);
    expect(await balance(userId, "ETH")).toBe(3_000n * 10n ** 8n);
  });

  it("replaces a key sealed under another server key", async () => {
    const before = await provisionMarketMaker(t.db, sealingKey);
    const otherKey = randomBytes(32);
    const after = await provisionMarketMaker(t.db, otherKey);
    expect(after.credentials.key).not.toBe(before.credentials.key);
    expect(await findApiKey(t.db, otherKey, after.credentials.key)).toMatchObject({
      secret: after.credentials.secret,
    });
    // The old key is revoked: no longer found as a live key.
    expect(
      await findApiKey(t.db, otherKey, before.credentials.key).catch(() => undefined),
    ).toBeUndefined();
  });
});
