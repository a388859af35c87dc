// The stack tool against the real servers: it recognises its own processes, refuses ports
// held by others, restarts a server that died, and fails fast on a bad external address.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { databaseUrls } from "@spotx/db";
import { pingPostgres } from "@spotx/platform/postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths";
import { isPortFree, ourPid, portOwner } from "../src/process";
import {
  postgresAdminUrl,
  postgresOwnerUrl,
  postgresUrl,
  provisionRoles,
} from "../src/servers/postgres";
import {
  migrationDatabaseUrl,
  redact,
  stackEnv,
  servers as stackServers,
  status,
  up,
} from "../src/stack";

const servers: net.Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

describe("stack", () => {
  it("points the apps at our servers unless a variable names another", () => {
    expect(stackEnv({})).toEqual({
      DATABASE_URL: "postgres://spotx_app:spotx_app@127.0.0.1:55432/spotx",
      REDIS_URL: "redis://127.0.0.1:56379",
      ETCD_ENDPOINTS: "http://127.0.0.1:52379",
      KAFKA_BROKERS: "127.0.0.1:59092",
    });
    expect(stackEnv({ KAFKA_BROKERS: "kafka-1:9092,kafka-2:9092" }).KAFKA_BROKERS).toBe(
      "kafka-1:9092,kafka-2:9092",
    );
  });

  it("migrates as the owner role, or as DATABASE_URL when the user named only that", () => {
    expect(migrationDatabaseUrl({})).toBe(
      "postgres://spotx_owner:spotx_owner@127.0.0.1:55432/spotx",
    );
    // The stack's owner role is the ledger's default owner connection too.
    expect(migrationDatabaseUrl({})).toBe(databaseUrls({}).ownerUrl);
    expect(stackEnv({}).DATABASE_URL).toBe(databaseUrls({}).appUrl);
    const theirs = "postgres://ledger:pw@db.internal:5432/exchange";
    expect(migrationDatabaseUrl({ DATABASE_URL: theirs })).toBe(theirs);
    expect(databaseUrls({ DATABASE_URL: theirs }).ownerUrl).toBe(theirs);
    const owner = "postgres://owner:pw@db.internal:5432/exchange";
    expect(migrationDatabaseUrl({ DATABASE_URL: theirs, DATABASE_OWNER_URL: owner })).toBe(owner);
  });

  it("hides passwords in the addresses it prints", () => {
    expect(redact("postgres://spotx:s3cret@db.internal:5432/spotx")).toBe(
      "postgres://spotx:***@db.internal:5432/spotx",
    );
    expect(redact("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });

  it("names the process that holds a port", async () => {
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    expect(await isPortFree(address.port)).toBe(false);
    expect(portOwner(address.port)).toBe(`node (pid ${process.pid})`);
  });

  // Servers named by an environment variable are someone else's; the rest are ours.
  const ours = stackServers.filter((s) => !process.env[s.envVar]).map((s) => s.name);
  const external = stackServers.filter((s) => process.env[s.envVar]).map((s) => s.name);

  it("reports every server healthy after up, and a second up changes nothing", async () => {
    await up(() => undefined);
    const before = ours.map((s) => ourPid(s));
    const lines: string[] = [];
    await up((line) => lines.push(line));
    expect(
      lines
        .filter((l) => /already running/.test(l))
        .map((l) => l.trim().split(/\s+/)[0])
        .sort(),
    ).toEqual([...ours].sort());
    expect(
      lines
        .filter((l) => /\bexternal\b/.test(l))
        .map((l) => l.trim().split(/\s+/)[0])
        .sort(),
    ).toEqual([...external].sort());
    expect(ours.map((s) => ourPid(s))).toEqual(before);
    expect(await status(() => undefined)).toBe(true);
  });

  it("gives an old cluster the owner and app roles, idempotently, and moves its objects to the owner", async () => {
    if (!ours.includes("postgres")) {
      // DATABASE_URL names someone else's PostgreSQL: its roles are its administrator's business.
      expect(migrationDatabaseUrl()).toBe(
        process.env.DATABASE_OWNER_URL || process.env.DATABASE_URL,
      );
      return;
    }
    // A database as the single-role days left it: everything owned by the superuser.
    const name = `spotx_old_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: postgresAdminUrl() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const old = new pg.Client({ connectionString: postgresAdminUrl(name) });
      await old.connect();
      await old.query(`
        CREATE SCHEMA drizzle;
        CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text);
        CREATE TYPE side AS ENUM ('buy', 'sell');
        CREATE TABLE orders (id bigserial PRIMARY KEY, side side);
        CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';`);
      await old.end();
      await provisionRoles(postgresAdminUrl(), name);
      await provisionRoles(postgresAdminUrl(), name); // a second run changes nothing
      const roles = await admin.query(`
        SELECT rolname, rolsuper, rolcreatedb, rolcanlogin FROM pg_roles
         WHERE rolname IN ('spotx_owner', 'spotx_app') ORDER BY rolname`);
      expect(roles.rows).toEqual([
        { rolname: "spotx_app", rolsuper: false, rolcreatedb: false, rolcanlogin: true },
        { rolname: "spotx_owner", rolsuper: false, rolcreatedb: true, rolcanlogin: true },
      ]);
      const moved = new pg.Client({ connectionString: postgresAdminUrl(name) });
      await moved.connect();
      const owners = await moved.query(`
        SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()
        UNION ALL SELECT pg_get_userbyid(relowner) FROM pg_class
         WHERE relname IN ('orders', 'orders_id_seq', '__drizzle_migrations')
        UNION ALL SELECT pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'side'
        UNION ALL SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'ledger_append_only'
        UNION ALL SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'drizzle'`);
      await moved.end();
      expect(owners.rows.map((r) => r.owner)).toEqual(Array(7).fill("spotx_owner"));
      // And the roles log in with the URLs the apps and migrations use.
      for (const url of [postgresUrl(name), postgresOwnerUrl(name)]) {
        expect((await pingPostgres(url)).ok).toBe(true);
      }
      // Any session of the app role has its statements bounded, whoever opens it.
      const app = new pg.Client({ connectionString: postgresUrl(name) });
      await app.connect();
      const timeout = await app.query("SHOW statement_timeout");
      await app.end();
      expect(timeout.rows[0]?.statement_timeout).toBe("10s");
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it("runs Redis with an fsync on every write, so no acknowledged fencing token is lost", async () => {
    if (!ours.includes("redis")) {
      expect(process.env.REDIS_URL).toBeTruthy();
      return;
    }
    await up(() => undefined);
    const { createRedis } = await import("@spotx/platform/redis");
    const client = createRedis(stackEnv().REDIS_URL);
    try {
      expect(await client.config("GET", "appendfsync")).toEqual(["appendfsync", "always"]);
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
    } finally {
      client.disconnect();
    }
  });

  it("restarts a server that was killed with SIGKILL, keeping its data", async () => {
    if (!ours.includes("redis")) {
      // REDIS_URL names someone else's Redis: the stack must leave it alone, not restart it.
      const lines: string[] = [];
      await up((line) => lines.push(line));
      expect(lines.find((l) => l.trim().startsWith("redis"))).toMatch(/redis\s+external/);
      return;
    }
    const { createRedis } = await import("@spotx/platform/redis");
    const client = createRedis(stackEnv().REDIS_URL);
    const key = `test:survives-restart:${process.pid}`;
    await client.set(key, "kept", "EX", 60);
    client.disconnect();

    const pid = ourPid("redis");
    if (pid === undefined) throw new Error("the stack's redis is not running");
    try {
      process.kill(pid, "SIGKILL");
      while (ourPid("redis") !== undefined) await new Promise((r) => setTimeout(r, 20));

      const lines: string[] = [];
      await up((line) => lines.push(line));
      expect(lines.find((l) => l.trim().startsWith("redis"))).toMatch(/redis\s+ready/);
      expect(ourPid("redis")).not.toBe(pid);

      const after = createRedis(stackEnv().REDIS_URL);
      expect(await after.get(key)).toBe("kept"); // the append-only file survived the kill
      after.disconnect();
    } finally {
      // Whatever happened above, leave the stack up for the suites that follow.
      await up(() => undefined);
    }
  });

  it.each([
    ["DATABASE_URL", "postgres://nope"],
    ["KAFKA_BROKERS", "127.0.0.1:1"],
  ])("npm start exits non-zero within 15 s naming %s when it is unreachable", (variable, value) => {
    const started = Date.now();
    const result = spawnSync(process.execPath, [path.join(repoRoot, "tools/stack/bin/start.mjs")], {
      cwd: repoRoot,
      env: { ...process.env, [variable]: value },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    const errorLines = result.stderr.split("\n").filter((line) => line.startsWith("✗"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain(`${variable}=${value}`);
    expect(errorLines[0]).toContain("not reachable");
  });
});
