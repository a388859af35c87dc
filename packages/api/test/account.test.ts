// The account router with real numbers: balances in every asset, demo deposits (credited
// exactly, capped, rate-limited, switchable off), the ledger history of transfers and entries,
// withdrawals held at request and idempotent per user, and API keys whose secret is shown once
// and opens with the key the REST API's signature guard uses.
import { findApiKey, schema } from "@spotx/db";
import { apiKeySealingKey } from "@spotx/platform/secrets";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiSettings } from "../src/settings";
import { type ApiFixture, startApiFixture } from "./api-fixture";

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture({
    settings: (s) => {
      s.demoDeposits.perHour = 3;
      s.demoDeposits.maxWholeUnits = 1_000;
    },
  });
});
afterAll(async () => {
  await f?.stop();
});

describe("balances and demo deposits", () => {
  it("lists every asset, zero where nothing was ever held", async () => {
    const caller = await f.callerAs(await f.createUser());
    expect(await caller.account.balances()).toEqual([
      { asset: "BTC", name: "Bitcoin", available: "0", locked: "0", updateId: "0" },
      { asset: "ETH", name: "Ethereum", available: "0", locked: "0", updateId: "0" },
      { asset: "USDT", name: "Tether USD", available: "0", locked: "0", updateId: "0" },
    ]);
  });

  it("credits a demo deposit exactly, up to the cap, at most perHour times", async () => {
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    expect(await caller.account.demoDeposit({ asset: "BTC", amount: "0.12345678" })).toEqual({
      asset: "BTC",
      amount: "0.12345678",
      available: "0.12345678",
      locked: "0",
    });
    await expect(
      caller.account.demoDeposit({ asset: "BTC", amount: "0.123456789" }),
    ).rejects.toMatchObject({ label: "INVALID_PRECISION" });
    await expect(
      caller.account.demoDeposit({ asset: "BTC", amount: "1000.1" }),
    ).rejects.toMatchObject({
      label: "INVALID_PARAM_VALUE",
      message: "a demo deposit is at most 1000 BTC",
    });
    await expect(caller.account.demoDeposit({ asset: "XRP", amount: "1" })).rejects.toMatchObject({
      label: "INVALID_PARAM_VALUE",
    });
    // Refusals above spent none of the hourly budget: two more pass, the fourth is refused.
    await caller.account.demoDeposit({ asset: "USDT", amount: "1000" });
    await caller.account.demoDeposit({ asset: "USDT", amount: "0.5" });
    await expect(caller.account.demoDeposit({ asset: "USDT", amount: "1" })).rejects.toMatchObject({
      label: "TOO_MANY_REQUESTS",
      code: "TOO_MANY_REQUESTS",
    });
    const usdt = (await caller.account.balances()).find((b) => b.asset === "USDT");
    expect(usdt).toMatchObject({ available: "1000.5", locked: "0" });
  });

  it("refuses demo deposits where they are switched off", async () => {
    const caller = await f.callerAs(await f.createUser());
    f.settings.demoDeposits.enabled = false;
    try {
      await expect(
        caller.account.demoDeposit({ asset: "USDT", amount: "1" }),
      ).rejects.toMatchObject({ label: "FORBIDDEN" });
    } finally {
      f.settings.demoDeposits.enabled = true;
    }
    expect((await caller.account.balances()).find((b) => b.asset === "USDT")?.available).toBe("0");
  });
});

describe("demo deposits' default", () => {
  it("is off under NODE_ENV=production unless DEMO_DEPOSITS=on says otherwise, on elsewhere", () => {
    const env = {
      SESSION_TTL_SECONDS: 900,
      SESSION_REFRESH_TTL_SECONDS: 604_800,
      DEMO_DEPOSIT_MAX: 1,
    };
    expect(apiSettings(env, "production").demoDeposits.enabled).toBe(false);
    expect(apiSettings({ ...env, DEMO_DEPOSITS: "on" }, "production").demoDeposits.enabled).toBe(
      true,
    );
    expect(apiSettings(env, "development").demoDeposits.enabled).toBe(true);
    expect(apiSettings(env, "test").demoDeposits.enabled).toBe(true);
    expect(apiSettings({ ...env, DEMO_DEPOSITS: "off" }, "development").demoDeposits.enabled).toBe(
      false,
    );
  });
});

describe("account.ledger", () => {
  it("shows each transfer with the user's own entries, newest first, by asset and by page", async () => {
    const user = await f.createUser();
    await f.fund(user.id, "USDT", 500_000_000n);
    await f.fund(user.id, "BTC", 1_000_000n);
    const caller = await f.callerAs(user);
    await caller.orders.place({ market: "BTC_USDT", side: "buy", amount: "0.01", price: "20000" });
    const page = await caller.account.ledger();
    expect(page.items.map((t) => t.kind)).toEqual(["order_hold", "deposit", "deposit"]);
    expect(page.items[0]).toMatchObject({
      reference: expect.stringMatching(/^order:\d+:hold$/),
      entries: [
        { asset: "USDT", bucket: "available", amount: "-200" },
        { asset: "USDT", bucket: "locked", amount: "200" },
      ],
    });
    // The external account's side of a deposit is not the user's: only their entry shows.
    expect(page.items[1]?.entries).toEqual([{ asset: "BTC", bucket: "available", amount: "0.01" }]);
    const btcOnly = await caller.account.ledger({ asset: "BTC", limit: 50 });
    expect(btcOnly.items.map((t) => t.kind)).toEqual(["deposit"]);
    const first = await caller.account.ledger({ limit: 2 });
    const rest = await caller.account.ledger({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect([...first.items, ...rest.items].map((t) => t.transferId)).toEqual(
      page.items.map((t) => t.transferId),
    );
    expect(rest.nextCursor).toBeNull();
  });
});

describe("withdrawals", () => {
  it("holds the amount at request; the same client key again is the same withdrawal", async () => {
    const user = await f.createUser();
    await f.fund(user.id, "USDT", 100_000_000n);
    const caller = await f.callerAs(user);
    const request = { asset: "USDT", amount: "40.5", address: "0xabc", clientRef: "w-1" };
    const { withdrawal, duplicate } = await caller.account.requestWithdrawal(request);
    expect(duplicate).toBe(false);
    expect(withdrawal).toMatchObject({
      asset: "USDT",
      amount: "40.5",
      address: "0xabc",
      status: "pending",
      clientRef: "w-1",
      decidedAt: null,
    });
    expect(await caller.account.requestWithdrawal(request)).toMatchObject({
      duplicate: true,
      withdrawal: { id: withdrawal.id },
    });
    await expect(
      caller.account.requestWithdrawal({ ...request, amount: "41" }),
    ).rejects.toMatchObject({ label: "IDEMPOTENCY_CONFLICT", code: "CONFLICT" });
    const usdt = (await caller.account.balances()).find((b) => b.asset === "USDT");
    expect(usdt).toMatchObject({ available: "59.5", locked: "40.5" });
    expect(await caller.account.withdrawal({ id: withdrawal.id })).toEqual(withdrawal);
    expect((await caller.account.withdrawals({ status: "pending", limit: 10 })).items).toEqual([
      withdrawal,
    ]);

    // Another user's identical client key is theirs alone.
    const other = await f.createUser();
    await f.fund(other.id, "USDT", 100_000_000n);
    const otherCaller = await f.callerAs(other);
    const theirs = await otherCaller.account.requestWithdrawal(request);
    expect(theirs.duplicate).toBe(false);
    expect(theirs.withdrawal.id).not.toBe(withdrawal.id);
    await expect(otherCaller.account.withdrawal({ id: withdrawal.id })).rejects.toMatchObject({
      label: "NOT_FOUND",
    });
  });

  it("refuses more than the available balance and changes nothing", async () => {
    const user = await f.createUser();
    await f.fund(user.id, "USDT", 10_000_000n);
    const caller = await f.callerAs(user);
    await expect(
      caller.account.requestWithdrawal({ asset: "USDT", amount: "10.000001", address: "0xabc" }),
    ).rejects.toMatchObject({ label: "BALANCE_NOT_ENOUGH" });
    expect((await caller.account.withdrawals()).items).toEqual([]);
  });
});

describe("API keys", () => {
  it("shows the secret once, sealed with the key the REST guard opens it with", async () => {
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    const created = await caller.account.apiKeys.create({
      permissions: ["read", "trade"],
      ipAllowlist: ["10.0.0.0/8", "2001:db8::1"],
      label: "market maker",
    });
    expect(created.key).toMatch(/^[0-9a-f]{32}$/);
    expect(created.secret).toMatch(/^[0-9a-f]{64}$/);
    const found = await findApiKey(f.db, apiKeySealingKey(f.secretKey), created.key);
    expect(found).toMatchObject({ secret: created.secret, userId: user.id });
    const [row] = await f.db
      .select()
      .from(schema.apiKeys)
      .where(eq(schema.apiKeys.key, created.key));
    expect(row?.secretSealed).not.toContain(created.secret);

    const listed = await caller.account.apiKeys.list();
    expect(listed).toEqual([
      {
        id: created.id,
        key: created.key,
        permissions: ["read", "trade"],
        ipAllowlist: ["10.0.0.0/8", "2001:db8::1"],
        replay: "gate",
        label: "market maker",
        createdAt: created.createdAt,
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    expect(await caller.account.apiKeys.revoke({ key: created.key })).toEqual({ revoked: true });
    expect(await findApiKey(f.db, apiKeySealingKey(f.secretKey), created.key)).toBeUndefined();
    await expect(caller.account.apiKeys.revoke({ key: created.key })).rejects.toMatchObject({
      label: "NOT_FOUND",
    });
    expect((await caller.account.apiKeys.list())[0]?.revokedAt).toEqual(expect.any(Number));
  });

  it("takes the key's replay choice: gate.io's (repeats accepted) by default, or strict", async () => {
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    const plain = await caller.account.apiKeys.create({ permissions: ["read"] });
    const strict = await caller.account.apiKeys.create({ permissions: ["read"], replay: "strict" });
    expect(plain.replay).toBe("gate");
    expect(strict.replay).toBe("strict");
    const rows = await f.db
      .select({ key: schema.apiKeys.key, mode: schema.apiKeys.replayMode })
      .from(schema.apiKeys)
      .where(eq(schema.apiKeys.userId, user.id));
    expect(new Map(rows.map((r) => [r.key, r.mode]))).toEqual(
      new Map([
        [plain.key, "gate"],
        [strict.key, "strict"],
      ]),
    );
    await expect(
      caller.account.apiKeys.create({
        permissions: ["read"],
        replay: "never" as unknown as "gate",
      }),
    ).rejects.toMatchObject({ label: "INVALID_PARAM_VALUE" });
  });

  it("refuses keys without a permission, with one twice, or with an address that is not one", async () => {
    const caller = await f.callerAs(await f.createUser());
    type Malformed = Parameters<typeof caller.account.apiKeys.create>[0];
    const malformed: unknown[] = [
      { permissions: [] },
      { permissions: ["read", "read"] },
      { permissions: ["admin"] },
      { permissions: ["read"], ipAllowlist: ["10.0.0.0/33"] },
      { permissions: ["read"], ipAllowlist: ["example.com"] },
      { permissions: ["read"], ipAllowlist: [] },
    ];
    for (const input of malformed) {
      await expect(
        caller.account.apiKeys.create(input as Malformed),
        JSON.stringify(input),
      ).rejects.toMatchObject({ label: "INVALID_PARAM_VALUE" });
    }
    expect(await caller.account.apiKeys.list()).toEqual([]);
  });
});
