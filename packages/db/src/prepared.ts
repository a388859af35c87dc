// The exchange's hottest statements run as named prepared statements: PostgreSQL parses and
// plans a statement the first time each connection runs it, then reuses the plan, instead of
// planning every batch afresh (a placement batch's write statement took about as long to plan
// as to run). The name is derived from the statement's text, so one text is one name
// everywhere; the parameters still travel with each execution.
import { createHash } from "node:crypto";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { QueryResult, QueryResultRow } from "pg";
import type { Database, Transaction } from "./client";

const dialect = new PgDialect();
const names = new Map<string, string>();

/** Runs `query` as a named prepared statement on the handle's connection (or the pool's). */
export async function executePrepared<Row extends QueryResultRow>(
  db: Database | Transaction,
  query: SQL,
): Promise<QueryResult<Row>> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  let name = names.get(text);
  if (name === undefined) {
    name = `spotx_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    names.set(text, name);
  }
  const prepared = db._.session.prepareQuery<{
    execute: QueryResult<Row>;
    all: unknown;
    values: unknown;
  }>({ sql: text, params }, undefined, name, false);
  return prepared.execute();
}
