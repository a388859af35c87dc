// Integration tests get a PostgreSQL database of their own, cloned from a migrated template
// (CREATE DATABASE … TEMPLATE is a file copy, far faster than migrating each time). The
// template is rebuilt whenever the committed migrations change (a digest of their files).
import { createHash, randomBytes } from "node:crypto";
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

/** A digest of the committed migrations: the template is rebuilt whenever any of them changes. */
function migrationsDigest(): string {
  const hash = createHash("sha256");
  for (const file of fs.readdirSync(migrationsFolder).sort()) {
    if (file.endsWith(".sql"))
      hash.update(file).update(fs.readFileSync(path.join(migrationsFolder, file)));
  }
  hash.update(fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json")));
  return hash.digest("hex");
}

async function templateIsCurrent(admin: pg.Client, digest: string): Promise<boolean> {
  const found = await admin.query<{ digest: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS digest FROM pg_database WHERE datname = $1",
    [TEMPLATE],
  );
  return found.rows[0]?.digest === digest;
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
    const digest = migrationsDigest();
    if (!(await templateIsCurrent(admin, digest))) {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${TEMPLATE}`);
      await migrateDatabase(withDatabase(serverUrl, TEMPLATE));
      // Marked current only once fully migrated, so a failed build is redone next time.
      await admin.query(`COMMENT ON DATABASE ${TEMPLATE} IS '${digest}'`);
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
