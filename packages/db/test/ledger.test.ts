// Deposits, adjustments and the double-entry rules, in code and in the database itself.

import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLedgerError, type LedgerError } from "../src/errors";
import { adjust, adjustWithLock, deposit } from "../src/ledger";
import { seedDemo } from "../src/seed";
import {
  BTC,
  balanceOf,
  createFixture,
  createUser,
  type Fixture,
  systemBalance,
  USDT,
} from "./fixtures";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:ledger:${randomUUID()}:` });
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

async function rejection(work: Promise<unknown>): Promise<LedgerError> {
  try {
    await work;
  } catch (error) {
    if (isLedgerError(error)) return error;
    throw error;
  }
  throw new Error("operation was accepted");
}

/** Runs raw SQL (as the app role unless `as` says owner) and returns the database's refusal. */
async function sqlRejection(statement: ReturnType<typeof sql>, as: "app" | "owner" = "app") {
  try {
    await (as === "owner" ? f.test.ownerDb : f.db).execute(statement);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; constraint?: string; message?: string } })
      .cause;
    return cause ?? (error as { code?: string; constraint?: string; message?: string });
  }
  throw new Error("statement was accepted");
}

describe("deposit", () => {
  it("credits the user from the asset's external account with two entries summing to zero", async () => {
    const user = await createUser(f.db);
    const outcome = await deposit(f.db, {
      userId: user,
      asset: "BTC",
      amount: BTC("1.5"),
      ref: "chain:tx1",
    });
    expect(outcome.duplicate).toBe(false);
    expect(outcome.balances).toEqual([
      expect.objectContaining({ userId: user, asset: "BTC", available: BTC("1.5"), locked: 0n }),
    ]);
    const entries = await f.db.execute<{ kind: string; bucket: string; amount: bigint }>(sql`
      SELECT a.kind, e.bucket, e.amount FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
       WHERE e.transfer_id = ${outcome.transferId} ORDER BY e.idx`);
    expect(entries.rows).toEqual([
      { kind: "external", bucket: "available", amount: -BTC("1.5") },
      { kind: "user", bucket: "available", amount: BTC("1.5") },
    ]);
  });

  it("applies the same reference once, even when sent twice at the same moment", async () => {
    const user = await createUser(f.db);
    const input = {
      userId: user,
      asset: "USDT",
      amount: USDT("250"),
      ref: `chain:${randomUUID()}`,
    };
    const [a, b] = await Promise.all([deposit(f.db, input), deposit(f.db, input)]);
    const again = await deposit(f.db, input);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(again.duplicate).toBe(true);
    expect(a.transferId).toBe(b.transferId);
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("250"), locked: 0n });
  });

  it("refuses a reused reference with a different amount (IDEMPOTENCY_CONFLICT)", async () => {
    const user = await createUser(f.db);
    const ref = `chain:${randomUUID()}`;
    await deposit(f.db, { userId: user, asset: "BTC", amount: BTC("1"), ref });
    const error = await rejection(
      deposit(f.db, { userId: user, asset: "BTC", amount: BTC("2"), ref }),
    );
    expect(error.label).toBe("IDEMPOTENCY_CONFLICT");
    expect(await balanceOf(f.db, user, "BTC")).toEqual({ available: BTC("1"), locked: 0n });
  });

  it("refuses zero, unknown assets, unknown users and disabled deposits with labels", async () => {
    const user = await createUser(f.db);
    expect(
      (await rejection(deposit(f.db, { userId: user, asset: "BTC", amount: 0n, ref: "z" }))).label,
    ).toBe("INVALID_PARAM_VALUE");
    expect(
      (await rejection(deposit(f.db, { userId: user, asset: "DOGE", amount: 1n, ref: "d" }))).label,
    ).toBe("INVALID_PARAM_VALUE");
    expect(
      (await rejection(deposit(f.db, { userId: 999_999n, asset: "BTC", amount: 1n, ref: "u" })))
        .label,
    ).toBe("NOT_FOUND");
    await f.db.execute(sql`UPDATE assets SET deposit_enabled = false WHERE symbol = 'ETH'`);
    expect(
      (await rejection(deposit(f.db, { userId: user, asset: "ETH", amount: 1n, ref: "e" }))).label,
    ).toBe("INVALID_PARAM_VALUE");
    await f.db.execute(sql`UPDATE assets SET deposit_enabled = true WHERE symbol = 'ETH'`);
  });
});

describe("the database enforces the ledger's rules against any SQL", () => {
  it("rejects a transfer whose entries do not sum to zero", async () => {
    const user = await createUser(f.db);
    await deposit(f.db, { userId: user, asset: "BTC", amount: 100n, ref: `r:${randomUUID()}` });
    const error = await sqlRejection(sql`
      WITH t AS (INSERT INTO transfers (kind, ref) VALUES ('adjustment', 'raw:unbalanced') RETURNING id)
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT t.id, 0, b.account_id, 'BTC', 'available', 5 FROM t, balances b
       WHERE b.user_id = ${user} AND b.asset = 'BTC'`);
    expect(error.constraint).toBe("ledger_transfer_balanced");
  });

  it("rejects an entry in another asset than its account's, or a locked bucket on a system account", async () => {
    const user = await createUser(f.db);
    await deposit(f.db, { userId: user, asset: "BTC", amount: 100n, ref: `r:${randomUUID()}` });
    const wrongAsset = await sqlRejection(sql`
      WITH t AS (INSERT INTO transfers (kind, ref) VALUES ('adjustment', 'raw:asset') RETURNING id)
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT t.id, i, b.account_id, 'ETH', 'available', CASE i WHEN 0 THEN 5 ELSE -5 END
        FROM t, balances b, generate_series(0, 1) i WHERE b.user_id = ${user} AND b.asset = 'BTC'`);
    expect(wrongAsset.constraint).toBe("ledger_entry_fits_account");
    const lockedSystem = await sqlRejection(sql`
      WITH t AS (INSERT INTO transfers (kind, ref) VALUES ('adjustment', 'raw:bucket') RETURNING id)
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT t.id, i, a.id, 'BTC', CASE i WHEN 0 THEN 'available' ELSE 'locked' END::ledger_bucket,
             CASE i WHEN 0 THEN 5 ELSE -5 END
        FROM t, accounts a, generate_series(0, 1) i WHERE a.kind = 'fees' AND a.asset = 'BTC'`);
    expect(lockedSystem.constraint).toBe("ledger_entry_fits_account");
  });

  it("rejects entries whose transfer or account does not exist", async () => {
    const noTransfer = await sqlRejection(sql`
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT 987654321, i, a.id, 'BTC', 'available', CASE i WHEN 0 THEN 5 ELSE -5 END
        FROM accounts a, generate_series(0, 1) i WHERE a.kind = 'fees' AND a.asset = 'BTC'`);
    expect(noTransfer.constraint).toBe("ledger_entries_transfer_exists");
    const noAccount = await sqlRejection(sql`
      WITH t AS (INSERT INTO transfers (kind, ref) VALUES ('adjustment', 'raw:account') RETURNING id)
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT t.id, i, 987654321 + i, 'BTC', 'available', CASE i WHEN 0 THEN 5 ELSE -5 END
        FROM t, generate_series(0, 1) i`);
    expect(noAccount.constraint).toBe("ledger_entries_account_exists");
  });

  it("keeps entries, transfers and accounts append-only, even for the tables' owner", async () => {
    // The app role may not even try (see roles.test.ts); the trigger stops the owner too.
    for (const statement of [
      sql`DELETE FROM accounts WHERE kind = 'fees'`,
      sql`UPDATE accounts SET asset = 'ETH' WHERE asset = 'BTC'`,
      sql`UPDATE ledger_entries SET amount = amount * 2`,
      sql`DELETE FROM ledger_entries`,
      sql`DELETE FROM transfers`,
      sql`TRUNCATE ledger_entries CASCADE`,
    ]) {
      const error = await sqlRejection(statement, "owner");
      expect(error.message).toMatch(/append-only/);
    }
  });

  it("never lets a balance go negative (CHECK balances_non_negative)", async () => {
    const user = await createUser(f.db);
    await deposit(f.db, { userId: user, asset: "BTC", amount: 100n, ref: `r:${randomUUID()}` });
    const error = await sqlRejection(
      sql`UPDATE balances SET available = available - 101 WHERE user_id = ${user} AND asset = 'BTC'`,
    );
    expect(error.constraint).toBe("balances_non_negative");
  });

  it("refuses a market whose precisions do not fit its assets, and decimals that change", async () => {
    const market = await sqlRejection(sql`
      INSERT INTO markets (symbol, base, quote, price_precision, amount_precision, min_base_lots,
                           min_quote_amount, maker_fee_ppm, taker_fee_ppm)
      VALUES ('ETH_BTC', 'ETH', 'BTC', 6, 4, 1, 1, 0, 0)`);
    expect(market.constraint).toBe("markets_precision_fits_assets");
    const decimals = await sqlRejection(
      sql`UPDATE assets SET decimals = 6 WHERE symbol = 'BTC'`,
      "owner",
    );
    expect(decimals.constraint).toBe("assets_decimals_fixed");
  });

  it("gives every asset its external, fees and adjustment accounts", async () => {
    const found = await f.db.execute<{ kind: string }>(
      sql`SELECT kind FROM accounts WHERE asset = 'USDT' AND user_id IS NULL ORDER BY kind`,
    );
    expect(found.rows.map((r) => r.kind)).toEqual(["external", "fees", "adjustment"]);
  });
});

describe("adjust", () => {
  it("credits or debits a user against the adjustment account and writes the audit log", async () => {
    const user = await createUser(f.db);
    await deposit(f.db, {
      userId: user,
      asset: "USDT",
      amount: USDT("10"),
      ref: `r:${randomUUID()}`,
    });
    const before = await systemBalance(f.db, "adjustment", "USDT");
    const outcome = await adjustWithLock(f.db, locks, {
      userId: user,
      asset: "USDT",
      amount: -USDT("2.5"),
      reason: "duplicate credit on chain reorg",
      operatorId: f.operatorId,
      ref: `fix:${randomUUID()}`,
      findingId: 17n,
    });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("7.5"), locked: 0n });
    expect(await systemBalance(f.db, "adjustment", "USDT")).toBe(before + USDT("2.5"));
    const audit = await f.db.execute<{
      actor_id: bigint;
      action: string;
      subject: string;
      details: Record<string, unknown>;
    }>(
      sql`SELECT actor_id, action, subject, details FROM audit_log WHERE subject = ${`user:${user}`}`,
    );
    expect(audit.rows).toEqual([
      {
        actor_id: f.operatorId,
        action: "ledger.adjust",
        subject: `user:${user}`,
        details: expect.objectContaining({
          asset: "USDT",
          amount: "-2500000",
          reason: "duplicate credit on chain reorg",
          findingId: "17",
          transferId: outcome.transferId.toString(),
        }),
      },
    ]);
  });

  it("refuses a debit below zero, a non-operator, and a fence for another account", async () => {
    const user = await createUser(f.db);
    const trader = await createUser(f.db);
    await deposit(f.db, { userId: user, asset: "BTC", amount: 100n, ref: `r:${randomUUID()}` });
    const base = { userId: user, asset: "BTC", reason: "test", ref: `fix:${randomUUID()}` };
    expect(
      (
        await rejection(
          adjustWithLock(f.db, locks, { ...base, amount: -101n, operatorId: f.operatorId }),
        )
      ).label,
    ).toBe("BALANCE_NOT_ENOUGH");
    expect(
      (await rejection(adjustWithLock(f.db, locks, { ...base, amount: 1n, operatorId: trader })))
        .label,
    ).toBe("FORBIDDEN");
    const wrongFence = { resource: `account:${trader}`, token: 1n, owner: "operator-console:1" };
    expect(
      (
        await rejection(
          adjust(f.db, { ...base, amount: 1n, operatorId: f.operatorId, fence: wrongFence }),
        )
      ).label,
    ).toBe("INVALID_PARAM_VALUE");
    expect(await balanceOf(f.db, user, "BTC")).toEqual({ available: 100n, locked: 0n });
  });
});

describe("demo seed", () => {
  it("gives each demo trader 10 BTC, 100 ETH and 1,000,000 USDT, once", async () => {
    await seedDemo(f.db);
    const again = await seedDemo(f.db);
    expect(again.created).toBe(false);
    const rows = await f.db.execute<{ email: string; asset: string; available: bigint }>(sql`
      SELECT u.email, b.asset, b.available FROM balances b JOIN users u ON u.id = b.user_id
       WHERE u.email LIKE 'trader%@spotx.dev' ORDER BY u.email, b.asset`);
    expect(rows.rows).toEqual([
      { email: "trader1@spotx.dev", asset: "BTC", available: BTC("10") },
      { email: "trader1@spotx.dev", asset: "ETH", available: BTC("100") },
      { email: "trader1@spotx.dev", asset: "USDT", available: USDT("1000000") },
      { email: "trader2@spotx.dev", asset: "BTC", available: BTC("10") },
      { email: "trader2@spotx.dev", asset: "ETH", available: BTC("100") },
      { email: "trader2@spotx.dev", asset: "USDT", available: USDT("1000000") },
    ]);
  });
});
