// A procedure that fails unexpectedly answers "internal error" without leaking its cause.

import { createDatabase } from "@spotx/db";
import { createPostgresPool } from "@spotx/platform/postgres";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, describe, expect, it } from "vitest";
import { createContext } from "../src/context";
import { appRouter } from "../src/root";
import { ApiServices } from "../src/services";

// A database URL whose database does not exist: every query fails inside the procedure.
const pool = createPostgresPool("postgres://spotx:spotx@127.0.0.1:55432/spotx_does_not_exist", {
  max: 1,
});
afterAll(() => pool.end());

describe("tRPC errors", () => {
  it("hides the cause of an internal error from the caller", async () => {
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://localhost/api/trpc/markets.list"),
      router: appRouter,
      createContext: () =>
        createContext({
          db: createDatabase(pool),
          // No market is halted: the query itself is what fails.
          services: new ApiServices({ halts: { get: () => ({ halted: false, reason: null }) } }),
        }),
    });
    expect(response.status).toBe(500);
    const body = JSON.stringify(await response.json());
    expect(body).toContain("internal error");
    expect(body).toContain('"label":"SERVER_ERROR"');
    expect(body).not.toMatch(/spotx_does_not_exist|select|markets"/i);
  });
});
