// PostgreSQL from Debian's `postgresql` package, initialised into .data/pg on port 55432.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pingPostgres } from "@spotx/platform/postgres";
import pg from "pg";
import { dataDir } from "../paths";
import { spawnDetached } from "../process";
import {
  type Account,
  isRoot,
  lookupAccount,
  makeTraversable,
  postgresBinDir,
  StackError,
} from "../system";
import type { StackServer } from "./types";

export const POSTGRES_PORT = 55432;
/** The cluster's superuser (initdb): the stack creates roles and databases with it, nothing else. */
export const POSTGRES_USER = "spotx";
export const POSTGRES_PASSWORD = "spotx";
export const POSTGRES_DATABASE = "spotx";

/**
 * The two roles spotx runs as. The owner runs migrations and owns every table; the app role is
 * what web and worker connect with, holding only the grants a migration gives it (see
 * packages/db drizzle/0005_ledger_guards.sql): not a superuser, no DDL, no TRUNCATE, no UPDATE
 * or DELETE on append-only tables, so it cannot switch triggers off or rewrite the ledger.
 */
export const POSTGRES_OWNER_ROLE = "spotx_owner";
export const POSTGRES_APP_ROLE = "spotx_app";
/** The app role's default statement_timeout (the services' DATABASE_STATEMENT_TIMEOUT_MS default). */
export const APP_STATEMENT_TIMEOUT = "10s";
// Local-only passwords, like the superuser's: the stack listens on 127.0.0.1 alone.
const ROLE_PASSWORDS = { [POSTGRES_OWNER_ROLE]: "spotx_owner", [POSTGRES_APP_ROLE]: "spotx_app" };

const url = (user: string, password: string, database: string, port = POSTGRES_PORT) =>
  `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
/** What the apps connect with (DATABASE_URL's default): the app role. */
export const postgresUrl = (database = POSTGRES_DATABASE, port = POSTGRES_PORT) =>
  url(POSTGRES_APP_ROLE, ROLE_PASSWORDS[POSTGRES_APP_ROLE], database, port);
/** What migrations run as (DATABASE_OWNER_URL's default): the owner role. */
export const postgresOwnerUrl = (database = POSTGRES_DATABASE, port = POSTGRES_PORT) =>
  url(POSTGRES_OWNER_ROLE, ROLE_PASSWORDS[POSTGRES_OWNER_ROLE], database, port);
/** The superuser, for the stack's own administration. */
export const postgresAdminUrl = (database = "postgres", port = POSTGRES_PORT) =>
  url(POSTGRES_USER, POSTGRES_PASSWORD, database, port);

const pgData = path.join(dataDir, "pg");

/** PostgreSQL will not run as root; as root we become the `postgres` account Debian creates. */
export function runAccount(): Account | undefined {
  if (!isRoot()) return undefined;
  const account = lookupAccount("postgres");
  if (!account)
    throw new StackError(
      "postgres",
      "running as root but there is no `postgres` account to run the server as",
    );
  return account;
}

export function binDir(): string {
  const dir = postgresBinDir();
  if (!dir)
    throw new StackError(
      "postgres",
      "PostgreSQL 15+ server binaries not found under /usr/lib/postgresql",
    );
  return dir;
}

/**
 * Initialises a PostgreSQL cluster in `dir` once (a no-op when it holds one), with the stack's
 * superuser; as root the directory belongs to the `postgres` account.
 */
export function initdb(dir: string): void {
  const account = runAccount();
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  if (account) makeTraversable(dir, account);
  if (fs.existsSync(path.join(dir, "PG_VERSION"))) return;

  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(dir), ".pgpass-init");
  fs.writeFileSync(pwfile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
  if (account) {
    fs.chownSync(dir, account.uid, account.gid);
    fs.chownSync(pwfile, account.uid, account.gid);
  }
  const result = spawnSync(
    path.join(binDir(), "initdb"),
    [
      "-D",
      dir,
      "-U",
      POSTGRES_USER,
      `--pwfile=${pwfile}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--encoding=UTF8",
      "--no-locale",
    ],
    { encoding: "utf8", ...(account ? { uid: account.uid, gid: account.gid } : {}) },
  );
  fs.rmSync(pwfile, { force: true });
  if (result.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-2).join(" | ");
    throw new StackError("postgres", `initdb failed: ${tail}`);
  }
}

export const postgresServer: StackServer = {
  name: "postgres",
  envVar: "DATABASE_URL",
  ports: [POSTGRES_PORT],
  readyTimeoutMs: 30_000,
  stopSignal: "SIGINT", // "fast" shutdown: roll back open transactions, checkpoint, exit
  stopGraceMs: 20_000,

  missingPackages: () => (postgresBinDir() ? [] : ["postgresql"]),

  async prepare() {
    initdb(pgData);
  },

  start() {
    const account = runAccount();
    return spawnDetached({
      server: "postgres",
      command: path.join(binDir(), "postgres"),
      args: [
        "-D",
        pgData,
        "-p",
        String(POSTGRES_PORT),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=300",
        "-c",
        "shared_buffers=256MB",
        "-c",
        "logging_collector=off",
      ],
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
  },

  probe: () => pingPostgres(postgresAdminUrl()),
  probeExternal: (url) => pingPostgres(url),

  // Runs on every `up`, also against a server that was already running: a cluster initialised
  // before the roles existed (an old .data/pg) gets them, and its database moves to the owner.
  async afterReady() {
    await provisionRoles(postgresAdminUrl());
  },
};

/**
 * Creates the owner and app roles (or resets their attributes and passwords), and makes the
 * owner own the spotx database and everything in it. Idempotent.
 */
export async function provisionRoles(
  adminUrl: string,
  database: string = POSTGRES_DATABASE,
): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const [role, attributes] of [
      [POSTGRES_OWNER_ROLE, "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"],
      [POSTGRES_APP_ROLE, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"],
    ] as const) {
      const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      const password = admin.escapeLiteral(ROLE_PASSWORDS[role]);
      await admin.query(
        `${exists.rowCount === 0 ? "CREATE" : "ALTER"} ROLE ${role} ${attributes} PASSWORD ${password}`,
      );
    }
    // Any session of the app role — the services, or a person with its password — has its
    // statements bounded; the services also set the same on their pools
    // (DATABASE_STATEMENT_TIMEOUT_MS), which is what counts against a server spotx did not start.
    await admin.query(
      `ALTER ROLE ${POSTGRES_APP_ROLE} SET statement_timeout = '${APP_STATEMENT_TIMEOUT}'`,
    );
    const db = await admin.query<{ owner: string }>(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
      [database],
    );
    const owner = db.rows[0]?.owner;
    const quoted = admin.escapeIdentifier(database);
    if (owner === undefined) {
      await admin.query(`CREATE DATABASE ${quoted} OWNER ${POSTGRES_OWNER_ROLE}`);
    } else if (owner !== POSTGRES_OWNER_ROLE) {
      await admin.query(`ALTER DATABASE ${quoted} OWNER TO ${POSTGRES_OWNER_ROLE}`);
    }
    // The test template of the single-role days (tests now clone spotx_template_<owner role>).
    // A drop fails harmlessly while someone still clones from it; a later `up` retries.
    await admin.query("DROP DATABASE IF EXISTS spotx_template").catch(() => undefined);
  } finally {
    await admin.end();
  }
  // Objects the superuser created (migrations run before the roles existed) move to the owner.
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;
  const inDatabase = new pg.Client({ connectionString: databaseUrl.toString() });
  await inDatabase.connect();
  try {
    await inDatabase.query(`
      DO $$
      DECLARE
        r record;
      BEGIN
        FOR r IN SELECT nspname FROM pg_namespace
                  WHERE nspname IN ('public', 'drizzle') AND nspowner = current_user::text::regrole LOOP
          EXECUTE format('ALTER SCHEMA %I OWNER TO ${POSTGRES_OWNER_ROLE}', r.nspname);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname IN ('public', 'drizzle') AND c.relkind IN ('r', 'p', 'v', 'm')
                    AND c.relowner = current_user::text::regrole LOOP
          EXECUTE format('ALTER TABLE %s OWNER TO ${POSTGRES_OWNER_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname IN ('public', 'drizzle') AND c.relkind = 'S'
                    AND c.relowner = current_user::text::regrole LOOP
          EXECUTE format('ALTER SEQUENCE %s OWNER TO ${POSTGRES_OWNER_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                  WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
                    AND t.typowner = current_user::text::regrole LOOP
          EXECUTE format('ALTER TYPE %s OWNER TO ${POSTGRES_OWNER_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND p.proowner = current_user::text::regrole LOOP
          EXECUTE format('ALTER FUNCTION %s OWNER TO ${POSTGRES_OWNER_ROLE}', r.name);
        END LOOP;
      END $$`);
  } finally {
    await inDatabase.end();
  }
}
