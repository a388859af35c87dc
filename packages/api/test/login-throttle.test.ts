// Logging in: one answer for an unknown email and a wrong password (same label, message and
// status, in comparable time), and failures throttled in Redis per (account, client address) with
// growing waits, plus a budget per address — with the settings a running exchange has (5 free
// attempts, then 1 s doubling to 15 min; 20 per address per hour). Nobody elsewhere can lock an
// account out of its owner's address, and a parallel burst gets exactly the budget, not more.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginThrottle } from "../src/auth/login-throttle";
import { type ApiFixture, errorOf, startApiFixture, type TestUser } from "./api-fixture";

let f: ApiFixture;
let trader: TestUser;
let ipCounter = 0;
/** A client address of its own for each test, so their counts stay apart. */
const freshIp = () => `198.51.100.${++ipCounter}`;

beforeAll(async () => {
  f = await startApiFixture();
  trader = await f.createUser();
});
afterAll(async () => {
  await f?.stop();
});

const logIn = (email: string, password: string, ip: string) =>
  f.http("auth.logIn", { input: { email, password }, ip });

describe("one answer for every failed login", () => {
  it("answers an unknown email exactly as a wrong password", async () => {
    const ip = freshIp();
    const wrong = await logIn(trader.email, "not the password", ip);
    const unknown = await logIn("nobody-here@test.spotx.dev", "not the password", ip);
    expect(wrong.status).toBe(400);
    expect(unknown.status).toBe(wrong.status);
    expect(errorOf(unknown)).toEqual(errorOf(wrong));
    expect(errorOf(wrong)).toEqual({
      label: "INVALID_CREDENTIALS",
      message: "wrong email or password",
      httpStatus: 400,
    });
    expect(wrong.setCookies).toEqual([]);
    expect(unknown.setCookies).toEqual([]);
  });

  it("spends comparable time on an unknown email (a dummy hash is checked)", async () => {
    const user = await f.createUser();
    const ip = freshIp();
    const timed = async (email: string) => {
      const started = performance.now();
      await logIn(email, "not the password", ip);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Interleaved, 3 of each: within the 5 free attempts per account, the address's 20.
    for (let i = 0; i < 3; i += 1) {
      known.push(await timed(user.email));
      unknown.push(await timed(`ghost-${i}@test.spotx.dev`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? 0;
    // A scrypt check costs hundreds of ms; answering an unknown email without one takes ~1 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
  });
});

describe("the throttle, per account and address", () => {
  it("makes the 6th attempt from one address wait, and never locks the owner's own address", async () => {
    const user = await f.createUser();
    const guesser = freshIp();
    for (let i = 0; i < 5; i += 1) {
      expect(errorOf(await logIn(user.email, `guess ${i}`, guesser)).label).toBe(
        "INVALID_CREDENTIALS",
      );
    }
    const refused = await logIn(user.email, user.password, guesser);
    expect(refused.status).toBe(429);
    expect(errorOf(refused)).toMatchObject({
      label: "TOO_MANY_REQUESTS",
      message: "too many failed sign-ins; try again in 1 s",
    });
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.setCookies).toEqual([]);
    // The owner, from their own address, is not affected by the guesser's failures.
    const owner = await logIn(user.email, user.password, freshIp());
    expect(owner.status).toBe(200);
    // Nor is another account from the guesser's address.
    expect((await logIn(trader.email, trader.password, guesser)).status).toBe(200);
  });

  it("counts an attempt before checking it: 20 parallel wrong passwords get exactly 5 guesses", async () => {
    const user = await f.createUser();
    const ip = freshIp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => logIn(user.email, `burst guess ${i}`, ip)),
    );
    const labels = answers.map((a) => errorOf(a).label);
    expect(labels.filter((l) => l === "INVALID_CREDENTIALS")).toHaveLength(5);
    expect(labels.filter((l) => l === "TOO_MANY_REQUESTS")).toHaveLength(15);
  });

  it("forgets an account's failures from an address when it signs in there", async () => {
    const user = await f.createUser();
    const ip = freshIp();
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 4; i += 1) await logIn(user.email, `guess ${i}`, ip);
      expect((await logIn(user.email, user.password, ip)).status).toBe(200);
    }
  });

  it("treats unknown emails the same way (a refusal reveals nothing)", async () => {
    const ip = freshIp();
    const ghost = `ghost-${randomUUID()}@test.spotx.dev`;
    for (let i = 0; i < 5; i += 1) await logIn(ghost, `guess ${i}`, ip);
    expect(errorOf(await logIn(ghost, "x", ip)).label).toBe("TOO_MANY_REQUESTS");
  });

  it("counts an IPv6 client by its /64", async () => {
    const user = await f.createUser();
    for (let i = 1; i <= 5; i += 1) {
      await logIn(user.email, `guess ${i}`, `2001:db8:77:1::${i.toString(16)}`);
    }
    const sameNetwork = await logIn(user.email, user.password, "2001:db8:77:1:ffff::9");
    expect(errorOf(sameNetwork).label).toBe("TOO_MANY_REQUESTS");
    expect((await logIn(user.email, user.password, "2001:db8:77:2::1")).status).toBe(200);
  });

  it("doubles the wait with each further failure, up to the cap", async () => {
    const throttle = new LoginThrottle(f.redis, f.names, {
      freeAttempts: 2,
      firstDelayMs: 80,
      maxDelayMs: 320,
      attemptsTtlSeconds: 60,
      addressBudget: 100,
      addressWindowSeconds: 60,
    });
    const account = `doubling-${randomUUID()}@test.spotx.dev`;
    const ip = freshIp();
    expect((await throttle.attempt(account, ip)).ok).toBe(true);
    expect((await throttle.attempt(account, ip)).ok).toBe(true);
    const waits: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const refused = await throttle.attempt(account, ip);
      if (refused.ok) throw new Error("an attempt went through without waiting");
      waits.push(refused.waitMs);
      // What the throttle said to wait, then the attempt goes through (and fails again).
      await new Promise((resolve) => setTimeout(resolve, refused.waitMs + 5));
      expect((await throttle.attempt(account, ip)).ok).toBe(true);
    }
    // Each just after the failure before it: close to 80, 160, 320, then the cap 320.
    const expected = [80, 160, 320, 320];
    waits.forEach((wait, i) => {
      expect(wait).toBeLessThanOrEqual(expected[i] ?? 0);
      expect(wait).toBeGreaterThan((expected[i] ?? 0) - 40);
    });
  });
});

describe("the address's budget", () => {
  it("refuses an address after 20 failures across accounts; other addresses still log in", async () => {
    const ip = freshIp();
    for (let i = 0; i < 20; i += 1) {
      const answer = await logIn(`spray-${i}@test.spotx.dev`, "password123", ip);
      expect(errorOf(answer).label).toBe("INVALID_CREDENTIALS");
    }
    const fromThere = await logIn(trader.email, trader.password, ip);
    expect(fromThere.status).toBe(429);
    expect(Number(fromThere.headers.get("retry-after"))).toBeGreaterThan(3_500);
    expect((await logIn(trader.email, trader.password, freshIp())).status).toBe(200);
  });

  it("is not refilled by a good login: successes are not counted, failures stay", async () => {
    const ip = freshIp();
    for (let i = 0; i < 19; i += 1) await logIn(`spray-b${i}@test.spotx.dev`, "password123", ip);
    // Signing into one's own account takes nothing from the budget and gives nothing back.
    expect((await logIn(trader.email, trader.password, ip)).status).toBe(200);
    expect(errorOf(await logIn("spray-b19@test.spotx.dev", "password123", ip)).label).toBe(
      "INVALID_CREDENTIALS",
    );
    expect(errorOf(await logIn("spray-b20@test.spotx.dev", "password123", ip)).label).toBe(
      "TOO_MANY_REQUESTS",
    );
  });
});

describe("password changes", () => {
  it("count wrong current passwords like failed logins, for the same account and address", async () => {
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    for (let i = 0; i < 5; i += 1) {
      await expect(
        caller.auth.changePassword({ currentPassword: `guess ${i}`, newPassword: "new password" }),
      ).rejects.toMatchObject({ label: "INVALID_CREDENTIALS" });
    }
    await expect(
      caller.auth.changePassword({ currentPassword: user.password, newPassword: "new password" }),
    ).rejects.toMatchObject({ label: "TOO_MANY_REQUESTS" });
  });
});
