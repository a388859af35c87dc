// The committed migrations build the schema on a real PostgreSQL, and the invariants written
// as constraints hold even against raw SQL that bypasses the application.
import fs from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFolder } from "../src/migrate";
import { seedDemo } from "../src/seed";
import { createTestDatabase, type TestDatabase } from "../src/testing";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});

const rejection = async (statement: string) => {
  try {
    await test.pool.query(statement);
  } catch (error) {
    return error as { code?: string; constraint?: string };
  }
  throw new Error(`statement was accepted: ${statement}`);
};

describe("migrations", () => {
  it("records every committed migration as applied", async () => {
    const applied = await test.ownerPool.query(
      "SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations",
    );
    const files = fs.readdirSync(migrationsFolder).filter((file) => file.endsWith(".sql"));
    expect(applied.rows[0].n).toBe(files.length);
    const tables = await test.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "accounts",
        "api_keys",
        "assets",
        "audit_log",
        "balances",
        "candles",
        "engine_snapshots",
        "fencing_tokens",
        "ledger_entries",
        "market_sequences",
        "markets",
        "orders",
        "outbox",
        "reconciliation_findings",
        "reconciliation_runs",
        "settlement_batches",
        "trades",
        "transfers",
        "users",
        "withdrawals",
      ]),
    );
  });

  it("rejects an asset with more than 18 decimals through a CHECK constraint", async () => {
    const error = await rejection(
      "INSERT INTO assets (symbol, name, decimals) VALUES ('DOGE', 'Doge', 19)",
    );
    expect(error.code).toBe("23514"); // check_violation
    expect(error.constraint).toBe("assets_decimals_range");
  });

  it("rejects a market whose symbol does not match its base and quote", async () => {
    await seedDemo(test.db);
    const error = await rejection(
      `INSERT INTO markets (symbol, base, quote, price_precision, amount_precision, min_base_lots,
         min_quote_amount, maker_fee_ppm, taker_fee_ppm) VALUES ('BTC_ETH', 'ETH', 'BTC', 2, 4, 1, 1, 0, 0)`,
    );
    expect(error.constraint).toBe("markets_symbol_format");
  });

  it("rejects a market whose base asset does not exist", async () => {
    const error = await rejection(
      `INSERT INTO markets (symbol, base, quote, price_precision, amount_precision, min_base_lots,
         min_quote_amount, maker_fee_ppm, taker_fee_ppm) VALUES ('XYZ_USDT', 'XYZ', 'USDT', 2, 4, 1, 1, 0, 0)`,
    );
    expect(error.code).toBe("23503"); // foreign_key_violation
  });

  it("seeds the demo data once, however often it runs", async () => {
    await seedDemo(test.db);
    const again = await seedDemo(test.db);
    expect(again.created).toBe(false);
    const counts = await test.db.execute(
      sql`SELECT (SELECT count(*) FROM markets)::int AS markets, (SELECT count(*) FROM users)::int AS users`,
    );
    expect(counts.rows[0]).toEqual({ markets: 2, users: 3 });
  });
});
