// Applies the committed SQL migrations in ./drizzle, in order, once each.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPostgresPool } from "@spotx/platform/postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { createDatabase } from "./client";

export const migrationsFolder = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../drizzle",
);

export async function migrateDatabase(url: string): Promise<void> {
  const pool = createPostgresPool(url, { max: 1, applicationName: "spotx-migrate" });
  try {
    await migrate(createDatabase(pool), { migrationsFolder });
  } finally {
    await pool.end();
  }
}
