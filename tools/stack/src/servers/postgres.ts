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
export const POSTGRES_USER = "spotx";
export const POSTGRES_PASSWORD = "spotx";
export const POSTGRES_DATABASE = "spotx";
export const postgresUrl = (database = POSTGRES_DATABASE) =>
  `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:${POSTGRES_PORT}/${database}`;

const pgData = path.join(dataDir, "pg");

/** PostgreSQL will not run as root; as root we become the `postgres` account Debian creates. */
function runAccount(): Account | undefined {
  if (!isRoot()) return undefined;
  const account = lookupAccount("postgres");
  if (!account)
    throw new StackError(
      "postgres",
      "running as root but there is no `postgres` account to run the server as",
    );
  return account;
}

function binDir(): string {
  const dir = postgresBinDir();
  if (!dir)
    throw new StackError(
      "postgres",
      "PostgreSQL 15+ server binaries not found under /usr/lib/postgresql",
    );
  return dir;
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
    const account = runAccount();
    fs.mkdirSync(dataDir, { recursive: true });
    if (account) makeTraversable(pgData, account);
    if (fs.existsSync(path.join(pgData, "PG_VERSION"))) return;

    fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
    const pwfile = path.join(dataDir, ".pgpass-init");
    fs.writeFileSync(pwfile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
    if (account) {
      fs.chownSync(pgData, account.uid, account.gid);
      fs.chownSync(pwfile, account.uid, account.gid);
    }
    const result = spawnSync(
      path.join(binDir(), "initdb"),
      [
        "-D",
        pgData,
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
      fs.rmSync(pgData, { recursive: true, force: true });
      const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-2).join(" | ");
      throw new StackError("postgres", `initdb failed: ${tail}`);
    }
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

  probe: () => pingPostgres(postgresUrl("postgres")),
  probeExternal: (url) => pingPostgres(url),

  async afterReady() {
    const client = new pg.Client({ connectionString: postgresUrl("postgres") });
    await client.connect();
    try {
      const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        POSTGRES_DATABASE,
      ]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${POSTGRES_DATABASE}`);
    } finally {
      await client.end();
    }
  },
};
