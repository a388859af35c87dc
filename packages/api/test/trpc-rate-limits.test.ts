// tRPC calls over HTTP spend the rate-limit budgets of guards/rate-limits.ts — queries `reads`,
// sign-in calls `auth` (per IP, and per account named at that IP), other changes `orders` — and
// are refused with 429 TOO_MANY_REQUESTS and Retry-After once one runs out. Our own server
// renders (in-process calls) spend nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../src/root";
import { rateLimitClass } from "../src/trpc";
import { type ApiFixture, errorOf, startApiFixture } from "./api-fixture";

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture({
    rateLimits: {
      reads: { ip: { points: 3, duration: 60 } },
      auth: { ip: { points: 100, duration: 60 }, user: { points: 2, duration: 60 } },
    },
  });
});
afterAll(async () => {
  await f?.stop();
});

describe("rate limits on tRPC", () => {
  it("classifies calls: auth mutations, reads, the rest as orders", () => {
    expect(rateLimitClass("auth.logIn", "mutation")).toBe("auth");
    expect(rateLimitClass("auth.me", "query")).toBe("reads");
    expect(rateLimitClass("markets.depth", "query")).toBe("reads");
    expect(rateLimitClass("orders.place", "mutation")).toBe("orders");
    expect(rateLimitClass("orders.amend", "mutation")).toBe("orders");
    expect(rateLimitClass("orders.placeStop", "mutation")).toBe("orders");
    expect(rateLimitClass("orders.cancelStop", "mutation")).toBe("orders");
    expect(rateLimitClass("orders.stops", "query")).toBe("reads");
    expect(rateLimitClass("account.demoDeposit", "mutation")).toBe("orders");
  });

  it("refuses the 4th read from one IP within the window, with Retry-After", async () => {
    // The address in-process calls of the fixture carry too.
    const ip = "192.0.2.10";
    for (let i = 0; i < 3; i += 1) {
      expect((await f.http("markets.list", { method: "GET", ip })).status).toBe(200);
    }
    const refused = await f.http("markets.list", { method: "GET", ip });
    expect(refused.status).toBe(429);
    expect(errorOf(refused).label).toBe("TOO_MANY_REQUESTS");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another address has its own budget; in-process calls (no HTTP) are not counted.
    expect((await f.http("markets.list", { method: "GET", ip: "203.0.113.8" })).status).toBe(200);
    const caller = createCaller(f.context(null, null));
    for (let i = 0; i < 5; i += 1) expect(await caller.markets.list()).toHaveLength(2);
  });

  it("counts sign-in calls per account named from one address; elsewhere the owner signs in", async () => {
    const user = await f.createUser();
    const attempt = (ip: string, password = "x") =>
      f.http("auth.logIn", { input: { email: user.email.toUpperCase(), password }, ip });
    expect(errorOf(await attempt("203.0.113.20")).label).toBe("INVALID_CREDENTIALS");
    expect(errorOf(await attempt("203.0.113.20")).label).toBe("INVALID_CREDENTIALS");
    expect(errorOf(await attempt("203.0.113.20")).label).toBe("TOO_MANY_REQUESTS");
    // Someone spending the account's budget elsewhere does not keep its owner out.
    expect((await attempt("203.0.113.21", user.password)).status).toBe(200);
  });
});
