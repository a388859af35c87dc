// Applies the committed SQL migrations in ./drizzle, in order, once each, as the owner role;
// then (always, so tables added by later migrations get theirs too) grants the app role what
// it needs and nothing more (spotx_grant_app, drizzle/0005_ledger_guards.sql).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPostgresPool } from "@spotx/platform/postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { createDatabase } from "./client";
import { requirePostgresUrl, urlUser } from "./env";
import { requireObject } from "./input";

export const migrationsFolder = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../drizzle",
);

/**
 * Migrates the database at `ownerUrl` (connected as the role that owns the tables). With
 * `appUrl` naming another role, that role gets the app grants; the same role (one-role setup)
 * gets none, as it owns everything already.
 */
export async function migrateDatabase(
  ownerUrl: string,
  options: { appUrl?: string } = {},
): Promise<void> {
  requirePostgresUrl(ownerUrl, "ownerUrl");
  const opts = requireObject(options, "options");
  if (opts.appUrl !== undefined) requirePostgresUrl(opts.appUrl, "appUrl");
  const pool = createPostgresPool(ownerUrl, { max: 1, applicationName: "spotx-migrate" });
  try {
    await migrate(createDatabase(pool), { migrationsFolder });
    const appRole = options.appUrl === undefined ? undefined : urlUser(options.appUrl);
    if (appRole !== undefined && appRole !== urlUser(ownerUrl)) {
      const found = await pool.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [appRole]);
      if (found.rowCount === 0) {
        throw new Error(
          `DATABASE_URL's role "${appRole}" does not exist: create it (npm run stack -- up does for the local stack) or point DATABASE_URL at the owner`,
        );
      }
      await pool.query("SELECT spotx_grant_app($1)", [appRole]);
    }
  } finally {
    await pool.end();
  }
}
