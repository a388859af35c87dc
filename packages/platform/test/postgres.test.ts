// PostgreSQL is a real server: the services' pool bounds every statement, so a runaway query
// (a deep page, a bad plan) is cancelled instead of holding a connection and its locks.
import { afterAll, describe, expect, it } from "vitest";
import { platformEnv } from "../src/env";
import { createPostgresPool, postgresPool } from "../src/postgres";

const short = createPostgresPool(platformEnv().DATABASE_URL, { max: 1, statementTimeoutMs: 200 });
afterAll(async () => {
  await short.end();
  await postgresPool().end();
});

describe("the PostgreSQL pool", () => {
  it("gives every connection of the services' pool DATABASE_STATEMENT_TIMEOUT_MS (10 s by default)", async () => {
    expect(platformEnv().DATABASE_STATEMENT_TIMEOUT_MS).toBe(10_000);
    const shown = await postgresPool().query<{ statement_timeout: string }>(
      "SHOW statement_timeout",
    );
    expect(shown.rows[0]?.statement_timeout).toBe("10s");
  });

  it("cancels a statement that runs past the pool's timeout, and the connection stays usable", async () => {
    const slow = await short.query("SELECT pg_sleep(2)").then(
      () => "finished",
      (error: { code?: string }) => error.code,
    );
    expect(slow).toBe("57014"); // query_canceled
    const after = await short.query<{ one: number }>("SELECT 1 AS one");
    expect(after.rows[0]?.one).toBe(1);
  });
});
