// The least-privilege database role (issue 11, item 8). Web and worker connect as the app role,
// which the migrations' grants give only what the services do: it cannot switch the ledger's
// triggers off, truncate, rewrite or erase history, or change the schema. The tables' owner
// runs migrations and is not a superuser either.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrls, urlUser } from "../src/env";
import { deposit } from "../src/ledger";
import { createFixture, createUser, type Fixture, USDT } from "./fixtures";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
});

/** The SQLSTATE the app role gets for a statement, or "accepted". */
async function asApp(statement: string): Promise<string> {
  const client = await f.test.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(statement);
    return "accepted";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    client.release();
  }
}

describe("the app role", () => {
  it("is what tests and the processes they spawn connect as, and is not the owner", async () => {
    expect(urlUser(f.test.url)).toBe(urlUser(databaseUrls().appUrl));
    expect(urlUser(f.test.url)).not.toBe(urlUser(f.test.ownerUrl));
    const role = await f.test.pool.query(`
      SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
        FROM pg_roles WHERE rolname = current_user`);
    expect(role.rows).toEqual([
      {
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolreplication: false,
        rolbypassrls: false,
      },
    ]);
  });

  it("cannot switch triggers off: neither session_replication_role nor ALTER TABLE", async () => {
    expect(await asApp("SET session_replication_role = replica")).toBe("42501");
    expect(
      await asApp("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"),
    ).toBe("42501");
    expect(await asApp("ALTER TABLE balances DROP CONSTRAINT balances_non_negative")).toBe("42501");
  });

  it("cannot truncate, update or delete history, so a transfer and its balance change cannot be erased", async () => {
    const user = await createUser(f.db);
    const { transferId } = await deposit(f.db, {
      userId: user,
      asset: "USDT",
      amount: USDT("5"),
      ref: `roles:${user}`,
    });
    for (const statement of [
      "TRUNCATE ledger_entries, transfers CASCADE",
      "TRUNCATE balances",
      `DELETE FROM ledger_entries WHERE transfer_id = ${transferId}`,
      `DELETE FROM transfers WHERE id = ${transferId}`,
      `UPDATE ledger_entries SET amount = amount * 2 WHERE transfer_id = ${transferId}`,
      "UPDATE accounts SET asset = asset",
      "UPDATE trades SET price_ticks = 1",
      "DELETE FROM trades",
      "UPDATE audit_log SET action = 'nothing'",
      "DELETE FROM audit_log",
      "UPDATE settlement_batches SET last_seq = last_seq + 1",
      "DELETE FROM reconciliation_findings",
      "DELETE FROM balances",
      "DELETE FROM orders",
      "UPDATE assets SET decimals = 2",
    ]) {
      expect(await asApp(statement), statement).toBe("42501");
    }
  });

  it("cannot change the schema", async () => {
    for (const statement of [
      "CREATE TABLE shadow_ledger (id int)",
      "DROP TABLE outbox",
      "CREATE FUNCTION nothing() RETURNS int LANGUAGE sql AS 'SELECT 1'",
      "DROP TRIGGER ledger_entries_balanced ON ledger_entries",
    ]) {
      expect(await asApp(statement), statement).toBe("42501");
    }
  });

  it("can do what the services do: relay and prune the outbox, prune snapshots, halt, freeze", async () => {
    for (const statement of [
      "INSERT INTO outbox (topic, payload) VALUES ('t', '{}')",
      "UPDATE outbox SET sent_at = now()",
      "DELETE FROM outbox WHERE sent_at IS NOT NULL",
      "INSERT INTO engine_snapshots (market, seq, input_offset, state) VALUES ('BTC_USDT', 1, '0', '\\x00')",
      "DELETE FROM engine_snapshots",
      "UPDATE markets SET status = 'halted'",
      "UPDATE users SET status = 'frozen' WHERE role = 'trader'",
      "UPDATE assets SET deposit_enabled = false",
      "UPDATE candles SET trades = trades",
      "SELECT * FROM settlement_batches",
    ]) {
      expect(await asApp(statement), statement).toBe("accepted");
    }
  });
});

describe("the owner role", () => {
  it("owns the tables but is no superuser: it cannot set session_replication_role either", async () => {
    const client = await f.test.ownerPool.connect();
    try {
      const error = await client
        .query("SET session_replication_role = replica")
        .then(() => "accepted")
        .catch((e: { code?: string }) => e.code);
      expect(error).toBe("42501");
      const owner = await client.query(
        "SELECT tableowner = current_user AS owns FROM pg_tables WHERE tablename = 'ledger_entries'",
      );
      expect(owner.rows).toEqual([{ owns: true }]);
    } finally {
      client.release();
    }
  });
});
