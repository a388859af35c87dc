// Integration tests get a PostgreSQL database of their own, cloned from a migrated template
// (CREATE DATABASE … TEMPLATE is a file copy, far faster than migrating each time). The
// template is rebuilt whenever the committed migrations change.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { platformEnv } from "@spotx/platform";
import { createPostgresPool, type PostgresPool } from "@spotx/platform/postgres";
import pg from "pg";
import { createDatabase, type Database } from "./client";
import { migrateDatabase, migrationsFolder } from "./migrate";

const TEMPLATE = "spotx_template";
const LOCK_KEY = 7_305_001; // pg_advisory_lock key that serialises template work across test files

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function migrationCount(): number {
  const journal = JSON.parse(
    fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8"),
  ) as { entries: unknown[] };
  return journal.entries.length;
}

async function templateIsCurrent(admin: pg.Client, serverUrl: string): Promise<boolean> {
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [TEMPLATE]);
  if (exists.rowCount === 0) return false;
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, TEMPLATE) });
  await client.connect();
  try {
    const applied = await client.query<{ count: string }>(
      "SELECT count(*)::text AS count FROM drizzle.__drizzle_migrations",
    );
    return Number(applied.rows[0]?.count) === migrationCount();
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

export type TestDatabase = {
  url: string;
  name: string;
  pool: PostgresPool;
  db: Database;
  drop: () => Promise<void>;
};

/** A fresh, migrated database for one test file; `drop` removes it. */
export async function createTestDatabase(
  serverUrl = platformEnv().DATABASE_URL,
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await admin.connect();
  const name = `spotx_t_${randomBytes(6).toString("hex")}`;
  try {
    await admin.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    if (!(await templateIsCurrent(admin, serverUrl))) {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${TEMPLATE}`);
      await migrateDatabase(withDatabase(serverUrl, TEMPLATE));
    }
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  } finally {
    await admin.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const pool = createPostgresPool(url, {
    max: options.poolSize ?? 10,
    applicationName: "spotx-test",
  });
  return {
    url,
    name,
    pool,
    db: createDatabase(pool),
    async drop() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
