// Every admin procedure — listed from the router itself, so a new one is covered the day it is
// added — refuses anonymous callers (401), traders and frozen operators (403), and operators who
// have not turned two-factor sign-in on (403 TWO_FACTOR_REQUIRED) over HTTP, before looking at
// its input, and changes nothing.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../../src/root";
import {
  type ApiFixture,
  type CookieJar,
  errorOf,
  startApiFixture,
  type TestUser,
} from "../api-fixture";

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(async () => {
  await f?.stop();
});

type ProcedureDef = { _def: { type: "query" | "mutation" | "subscription" } };

// tRPC types `procedures` as the nested record; at runtime it is flat, keyed by dotted path.
const adminProcedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, ProcedureDef>,
).filter(([path]) => path.startsWith("admin."));

/** Everything an admin procedure could change, as one comparable value. */
async function state() {
  const rows = await f.db.execute(sql`
    SELECT (SELECT count(*) FROM audit_log) AS audit,
           (SELECT count(*) FROM markets) AS markets,
           (SELECT string_agg(symbol || status::text || maker_fee_ppm::text, ',' ORDER BY symbol) FROM markets) AS market_rows,
           (SELECT string_agg(id::text || status::text, ',' ORDER BY id) FROM users) AS users,
           (SELECT coalesce(sum(available), 0) FROM balances) AS available,
           (SELECT count(*) FROM withdrawals WHERE status = 'pending') AS pending,
           (SELECT count(*) FROM reconciliation_runs) AS runs,
           (SELECT count(*) FROM outbox) AS outbox`);
  const live = await f.etcd.getAll().prefix(f.names.etcd.configPrefix).strings();
  return { db: rows.rows[0], live };
}

/** Signed in as the login page does (with a code when two-factor sign-in is on). */
async function logIn(user: TestUser): Promise<CookieJar> {
  const jar = await f.signIn(user);
  expect(jar.session).toBeDefined();
  return jar;
}

describe("the admin router", () => {
  it("is operators only, every procedure of it", async () => {
    expect(adminProcedures.length).toBeGreaterThanOrEqual(26);
    const trader = await f.createUser("trader");
    const frozenOperator = await f.createUser("operator", "frozen");
    const unenrolled = await f.createUser("operator", "active", undefined, { twoFactor: false });
    const callers: Array<{
      who: string;
      jar: CookieJar | undefined;
      status: number;
      label: string;
    }> = [
      { who: "anonymous", jar: undefined, status: 401, label: "LOGIN_REQUIRED" },
      { who: "trader", jar: await logIn(trader), status: 403, label: "FORBIDDEN" },
      { who: "frozen operator", jar: await logIn(frozenOperator), status: 403, label: "FORBIDDEN" },
      // Signed in by password alone: may enrol in two-factor sign-in, nothing of the console.
      {
        who: "operator without two-factor sign-in",
        jar: await logIn(unenrolled),
        status: 403,
        label: "TWO_FACTOR_REQUIRED",
      },
    ];
    const before = await state();
    const refusals: string[] = [];
    for (const [path, procedure] of adminProcedures) {
      for (const caller of callers) {
        const method = procedure._def.type === "query" ? "GET" : "POST";
        // A plausible input, so that only the caller's identity can be the reason to refuse.
        const answer = await f.http(path, {
          method,
          input: { symbol: "BTC_USDT", userId: String(trader.id), reason: "authorization test" },
          jar: caller.jar,
        });
        const error = errorOf(answer);
        if (answer.status !== caller.status || error.label !== caller.label) {
          refusals.push(`${path} as ${caller.who}: ${answer.status} ${error.label}`);
        }
      }
    }
    expect(refusals).toEqual([]);
    expect(await state()).toEqual(before);
  });

  it("lets an active operator in", async () => {
    const operator = await f.createUser("operator");
    const answer = await f.http("admin.markets.list", {
      method: "GET",
      jar: await logIn(operator),
    });
    expect(answer.status).toBe(200);
  });
});
