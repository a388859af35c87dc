// The drizzle handle over platform's PostgreSQL pool. Every query in spotx goes through a
// Database made here, or through a transaction handle it gives out.
import { type PostgresPool, postgresPool } from "@spotx/platform/postgres";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { LedgerError } from "./errors";
import * as schema from "./schema";

export type Database = NodePgDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

export function createDatabase(pool: PostgresPool): Database {
  if (typeof pool !== "object" || pool === null || typeof pool.query !== "function") {
    throw new LedgerError("INVALID_PARAM_VALUE", "createDatabase needs a PostgreSQL pool");
  }
  return drizzle(pool, { schema });
}

let shared: Database | undefined;

/** The process-wide database over DATABASE_URL. */
export function database(): Database {
  shared ??= createDatabase(postgresPool());
  return shared;
}
