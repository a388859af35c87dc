// Integration tests get a PostgreSQL database of their own, cloned from a migrated template
// (CREATE DATABASE … TEMPLATE is a file copy, far faster than migrating each time). The
// template is rebuilt whenever the committed migrations change (a digest of their files).
// As in production, the owner role creates and migrates the database and the tests (and the
// processes they spawn) connect as the app role, which the migrations' grants cover: a grant
// missing for something the services do fails a test.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createPostgresPool, type PostgresPool } from "@spotx/platform/postgres";
import pg from "pg";
import { createDatabase, type Database } from "./client";
import { databaseUrls, urlUser } from "./env";
import { migrateDatabase, migrationsFolder } from "./migrate";

const LOCK_KEY = 7_305_001; // pg_advisory_lock key that serialises template work across test files

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A digest of the committed migrations (and the app role granted): rebuilt when either changes. */
function migrationsDigest(appRole: string): string {
  const hash = createHash("sha256").update(`app role ${appRole}\n`);
  for (const file of fs.readdirSync(migrationsFolder).sort()) {
    if (file.endsWith(".sql"))
      hash.update(file).update(fs.readFileSync(path.join(migrationsFolder, file)));
  }
  hash.update(fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json")));
  return hash.digest("hex");
}

async function templateIsCurrent(
  admin: pg.Client,
  template: string,
  digest: string,
): Promise<boolean> {
  const found = await admin.query<{ digest: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS digest FROM pg_database WHERE datname = $1",
    [template],
  );
  return found.rows[0]?.digest === digest;
}

/**
 * Drops a test database once the app role's sessions have gone. A closed connection's server
 * process exits a moment after the client does, and the owner role (no superuser) may not
 * terminate another role's sessions, so DROP … WITH (FORCE) could refuse: wait for them instead,
 * and use FORCE only for the owner's own stragglers at the end.
 */
async function dropWhenClosed(admin: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "55006" || Date.now() > deadline) break; // 55006: in use by other sessions
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export type TestDatabase = {
  /** The app role's URL: what the code under test (and any process it spawns) connects with. */
  url: string;
  /** The owner role's URL, for what only the owner may do (inspect migrations, tamper on purpose). */
  ownerUrl: string;
  name: string;
  /** Pool and database handle as the app role. */
  pool: PostgresPool;
  db: Database;
  /** Pool and database handle as the owner role (two connections). */
  ownerPool: PostgresPool;
  ownerDb: Database;
  drop: () => Promise<void>;
};

/**
 * A fresh, migrated database for one test file; `drop` removes it. `serverUrl` is the owner's
 * connection (default DATABASE_OWNER_URL, see databaseUrls); the app role is DATABASE_URL's.
 */
export async function createTestDatabase(
  serverUrl?: string,
  options: { poolSize?: number; appUrl?: string; connectTimeoutMs?: number } = {},
): Promise<TestDatabase> {
  const urls = databaseUrls();
  const ownerServer = serverUrl ?? urls.ownerUrl;
  const appServer = options.appUrl ?? (serverUrl === undefined ? urls.appUrl : serverUrl);
  const appRole = urlUser(appServer);
  // One template per owner role: it is owned by (so can only be rebuilt by) its creator.
  const template = `spotx_tpl_${urlUser(ownerServer)
    .replace(/[^a-z0-9_]/gi, "_")
    .toLowerCase()}`;
  const admin = new pg.Client({ connectionString: withDatabase(ownerServer, "postgres") });
  await admin.connect();
  const name = `spotx_t_${randomBytes(6).toString("hex")}`;
  try {
    await admin.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    const digest = migrationsDigest(appRole);
    if (!(await templateIsCurrent(admin, template, digest))) {
      await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${template}`);
      await migrateDatabase(withDatabase(ownerServer, template), {
        appUrl: withDatabase(appServer, template),
      });
      // Marked current only once fully migrated, so a failed build is redone next time.
      await admin.query(`COMMENT ON DATABASE ${template} IS '${digest}'`);
    }
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    await admin.end();
  }
  const url = withDatabase(appServer, name);
  const ownerUrl = withDatabase(ownerServer, name);
  const pool = createPostgresPool(url, {
    max: options.poolSize ?? 10,
    applicationName: "spotx-test",
    ...(options.connectTimeoutMs === undefined
      ? {}
      : { connectTimeoutMs: options.connectTimeoutMs }),
  });
  const ownerPool = createPostgresPool(ownerUrl, { max: 2, applicationName: "spotx-test-owner" });
  return {
    url,
    ownerUrl,
    name,
    pool,
    db: createDatabase(pool),
    ownerPool,
    ownerDb: createDatabase(ownerPool),
    async drop() {
      await pool.end();
      await ownerPool.end();
      const cleanup = new pg.Client({ connectionString: withDatabase(ownerServer, "postgres") });
      await cleanup.connect();
      try {
        await dropWhenClosed(cleanup, name);
      } finally {
        await cleanup.end();
      }
    },
  };
}
