// The one module that talks to PostgreSQL: it owns the connection pool, its health check and
// its metrics. The ledger and every query reach the database through a pool made here.
import pg from "pg";
import { platformEnv } from "./env";
import { metrics } from "./metrics";
import { type ProbeResult, probe, processSingleton } from "./probe";

// int8 columns carry money in minor units: return them as bigint, never as a lossy number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => BigInt(value));

export type PostgresPool = pg.Pool;
export type PostgresClient = pg.PoolClient;

export function createPostgresPool(
  url: string,
  options: {
    max?: number;
    applicationName?: string;
    /** statement_timeout of every connection (ms); absent: the role's or server's default. */
    statementTimeoutMs?: number;
    /** How long opening a connection may take (ms; 5 s by default). */
    connectTimeoutMs?: number;
  } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? "spotx",
    ...(options.statementTimeoutMs === undefined
      ? {}
      : { statement_timeout: options.statementTimeoutMs }),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {
    metrics.dependencyErrors.inc({ dependency: "postgres" });
  });
  // Nor a checked-out one: the pool stops listening for a client's errors while it is lent out,
  // so a connection cut between two queries of a transaction (a failover, a restart) would be
  // an unhandled 'error' event ending the process. Its next query fails instead, and the pool
  // drops it when it comes back.
  pool.on("connect", (client) => {
    client.on("error", () => {
      metrics.dependencyErrors.inc({ dependency: "postgres" });
    });
  });
  return pool;
}

/** The process-wide pool for DATABASE_URL. */
export function postgresPool(): pg.Pool {
  return processSingleton("postgres.pool", () => {
    const env = platformEnv();
    return createPostgresPool(env.DATABASE_URL, {
      max: 20,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    });
  });
}

/** Connects afresh and runs SELECT 1, so the answer reflects the server, not a pooled socket. */
export function pingPostgres(url: string, timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
    try {
      await client.connect();
      const result = await client.query<{ version: string }>(
        "SELECT current_setting('server_version') AS version",
      );
      return `PostgreSQL ${result.rows[0]?.version ?? "?"}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }, timeoutMs);
}

/**
 * Asks the server for its version over a connection of `pool` (the process's own): what the
 * process itself can reach, without opening a connection per probe.
 */
export function checkPostgres(pool: pg.Pool, timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => {
    const result = await pool.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    return `PostgreSQL ${result.rows[0]?.version ?? "?"}`;
  }, timeoutMs);
}
