// Logging in: one answer for an unknown email and a wrong password (same label, message and
// status, in comparable time), and failures throttled per account and per IP in Redis with the
// settings a running exchange has (5 per email, 20 per IP).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, errorOf, startApiFixture, type TestUser } from "./api-fixture";

let f: ApiFixture;
let trader: TestUser;
let ipCounter = 0;
/** A client address of its own for each test, so their IP counts stay apart. */
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
    const ip = freshIp();
    const timed = async (email: string) => {
      const started = performance.now();
      await logIn(email, "not the password", ip);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Interleaved, 3 of each: under the account lock of 5, within the IP's 20.
    for (let i = 0; i < 3; i += 1) {
      known.push(await timed(trader.email));
      unknown.push(await timed(`ghost-${i}@test.spotx.dev`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? 0;
    // A scrypt check costs tens of ms; answering an unknown email without one would take ~1 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
    await f.services.loginThrottle.succeeded(trader.email);
  });
});

describe("the throttle", () => {
  it("locks an email after 5 failures, even for the right password, and only that email", async () => {
    const user = await f.createUser();
    const ip = freshIp();
    for (let i = 0; i < 5; i += 1) {
      expect(errorOf(await logIn(user.email, `guess ${i}`, ip)).label).toBe("INVALID_CREDENTIALS");
    }
    const locked = await logIn(user.email, user.password, freshIp());
    expect(locked.status).toBe(429);
    expect(errorOf(locked).label).toBe("TOO_MANY_REQUESTS");
    expect(errorOf(locked).message).toMatch(/try again in (\d+) s/);
    const seconds = Number(/in (\d+) s/.exec(errorOf(locked).message)?.[1]);
    expect(seconds).toBeGreaterThan(850);
    expect(seconds).toBeLessThanOrEqual(900);
    expect(locked.setCookies).toEqual([]);
    // Another account from the same address is not affected.
    expect((await logIn(trader.email, trader.password, ip)).status).toBe(200);
  });

  it("locks unknown emails the same way (a lock reveals nothing)", async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i += 1) await logIn("ghost-lock@test.spotx.dev", `guess ${i}`, ip);
    expect(errorOf(await logIn("ghost-lock@test.spotx.dev", "x", ip)).label).toBe(
      "TOO_MANY_REQUESTS",
    );
  });

  it("clears an email's count on success: failures must be consecutive", async () => {
    const user = await f.createUser();
    const ip = freshIp();
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 4; i += 1) await logIn(user.email, `guess ${i}`, ip);
      expect((await logIn(user.email, user.password, ip)).status).toBe(200);
    }
  });

  it("locks an IP after 20 failures across emails; other addresses still log in", async () => {
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

  it("counts wrong current passwords on a password change towards the same lock", async () => {
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
