// PostgreSQL out of reach is an outage, not a bug: both front doors answer 503
// SERVICE_UNAVAILABLE with a Retry-After, as they do for a server behind a circuit breaker —
// a refused connection and a connection the server dropped alike.
import { createDatabase } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { logger } from "@spotx/platform/logger";
import { createPostgresPool } from "@spotx/platform/postgres";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createContext } from "../src/context";
import { toGateError } from "../src/gate/errors";
import { appRouter } from "../src/root";
import { ApiServices } from "../src/services";

// Nothing listens on port 1: every connection is refused at once.
const refused = createPostgresPool("postgres://spotx:spotx@127.0.0.1:1/spotx", { max: 1 });
afterAll(() => refused.end());

/** The error a query meets when the server refuses the connection. */
async function refusedQueryError(): Promise<unknown> {
  return createDatabase(refused)
    .query.markets.findMany()
    .then(
      () => new Error("the query unexpectedly succeeded"),
      (error: unknown) => error,
    );
}

describe("PostgreSQL out of reach", () => {
  it("tRPC answers 503 SERVICE_UNAVAILABLE, not an internal error", async () => {
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://localhost/api/trpc/markets.list"),
      router: appRouter,
      createContext: () =>
        createContext({
          db: createDatabase(refused),
          services: new ApiServices({ halts: { get: () => ({ halted: false, reason: null }) } }),
        }),
    });
    expect(response.status).toBe(503);
    const body = (await response.json()) as {
      error: { json: { message: string; data: { label: string; retryAfterSeconds: number } } };
    };
    expect(body.error.json.data).toMatchObject({
      label: "SERVICE_UNAVAILABLE",
      retryAfterSeconds: 1,
    });
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|select/i);
  });

  it("the gate.io API answers 503 SERVICE_UNAVAILABLE with Retry-After to a refused connection", async () => {
    const failure = toGateError(await refusedQueryError(), logger("test"));
    expect(failure).toMatchObject({ status: 503, label: "SERVICE_UNAVAILABLE" });
    expect(failure.headers).toEqual({ "Retry-After": "1" });
    expect(failure.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });

  it("a connection the server drops (57P01) is the same outage", async () => {
    const client = new pg.Client({ connectionString: platformEnv().DATABASE_URL });
    client.on("error", () => undefined);
    await client.connect();
    const dropped = await client.query("SELECT pg_terminate_backend(pg_backend_pid())").then(
      () => new Error("the server did not drop the connection"),
      (error: unknown) => error,
    );
    await client.end().catch(() => undefined);
    expect(dropped).toMatchObject({ code: "57P01" });
    expect(toGateError(dropped, logger("test"))).toMatchObject({
      status: 503,
      label: "SERVICE_UNAVAILABLE",
    });
  });
});
