// Two-factor sign-in (TOTP): enrolment (password, then a QR code, the secret and ten recovery
// codes shown once, in force after a first code), signing in in two steps (the password gives
// a challenge, not a session), codes good once (a replay within the step is refused, a recovery
// code is used up), wrong codes counted by the login throttle, operators held to enrolment before
// any console call, and traders with it on confirming new API keys and withdrawals with a code.
import { openSecret, schema } from "@spotx/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCode } from "../src/auth/totp";
import { refusal } from "./admin/refusal";
import {
  type ApiFixture,
  CookieJar,
  errorOf,
  resultOf,
  startApiFixture,
  type TestUser,
} from "./api-fixture";

let f: ApiFixture;
let ipCounter = 0;
/** A client address of its own per test, so throttle counts stay apart. */
const freshIp = () => `203.0.113.${++ipCounter}`;

beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(async () => {
  await f?.stop();
});

type LogInAnswer =
  | { outcome: "signed_in"; account: { email: string; twoFactor: boolean } }
  | { outcome: "code_required"; challenge: string; expiresInSeconds: number };

async function passwordStep(user: TestUser, ip: string, jar = new CookieJar()) {
  const answer = await f.http("auth.logIn", {
    input: { email: user.email, password: user.password },
    ip,
    jar,
  });
  return { answer, result: resultOf<LogInAnswer>(answer) };
}

async function challengeOf(user: TestUser, ip: string): Promise<string> {
  const { answer, result } = await passwordStep(user, ip);
  expect(answer.setCookies).toEqual([]);
  if (result.outcome !== "code_required") throw new Error("expected a code to be required");
  return result.challenge;
}

const codeStep = (challenge: string, code: string, ip: string, jar = new CookieJar()) =>
  f.http("auth.logInWithCode", { input: { challenge, code }, ip, jar });

async function stored(userId: bigint) {
  const [row] = await f.db.select().from(schema.users).where(eq(schema.users.id, userId));
  if (!row) throw new Error("no such user");
  return row;
}

describe("enrolment", () => {
  it("shows the secret, a QR code and recovery codes once, and is in force after a first code", async () => {
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    expect(await caller.auth.twoFactor.status()).toEqual({
      enabled: false,
      pending: false,
      recoveryCodesLeft: 0,
      required: false,
    });
    expect(
      await refusal(caller.auth.twoFactor.begin({ password: "not my password" })),
    ).toMatchObject({ label: "INVALID_CREDENTIALS" });
    const enrolment = await caller.auth.twoFactor.begin({ password: user.password });
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolment.uri).toBe(
      `otpauth://totp/spotx:${encodeURIComponent(user.email)}?secret=${enrolment.secret}&issuer=spotx`,
    );
    expect(enrolment.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(enrolment.qrCode.split(",")[1] ?? "", "base64").toString()).toMatch(
      /^<svg /,
    );
    expect(enrolment.recoveryCodes).toHaveLength(10);
    for (const code of enrolment.recoveryCodes)
      expect(code).toMatch(/^([a-z2-7]{4}-){3}[a-z2-7]{4}$/);

    // Stored sealed under the server's two-factor key, the recovery codes only as hashes.
    const row = await stored(user.id);
    expect(row.totpSecretSealed).not.toContain(enrolment.secret);
    expect(openSecret(row.totpSecretSealed ?? "", f.services.twoFactorSealingKey)).toBe(
      enrolment.secret,
    );
    expect(() => openSecret(row.totpSecretSealed ?? "", f.services.apiKeySealingKey)).toThrow();
    expect(row.totpRecoveryHashes).toHaveLength(10);
    expect(row.totpRecoveryHashes?.join(" ")).not.toContain(enrolment.recoveryCodes[0]);
    expect(await caller.auth.twoFactor.status()).toMatchObject({ enabled: false, pending: true });

    // Not in force before a code confirms it; a wrong one is refused.
    expect((await passwordStep(user, freshIp())).result.outcome).toBe("signed_in");
    const wrong = totpCode(enrolment.secret, Math.floor(Date.now() / 1000) - 600);
    expect(await refusal(caller.auth.twoFactor.confirm({ code: wrong }))).toMatchObject({
      label: "INVALID_TWO_FACTOR_CODE",
    });
    user.totpSecret = enrolment.secret;
    expect(await caller.auth.twoFactor.confirm({ code: await f.freshCode(user) })).toEqual({
      enabled: true,
    });
    expect(await caller.auth.twoFactor.status()).toEqual({
      enabled: true,
      pending: false,
      recoveryCodesLeft: 10,
      required: false,
    });
    expect((await passwordStep(user, freshIp())).result.outcome).toBe("code_required");
    // On, it cannot be begun again (that would replace the secret): off first.
    expect(await refusal(caller.auth.twoFactor.begin({ password: user.password }))).toMatchObject({
      label: "TWO_FACTOR_ALREADY_ENABLED",
    });
  });

  it("turns off with the password and a code, not with either alone", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    const caller = await f.callerAs(user);
    expect(
      await refusal(
        caller.auth.twoFactor.disable({ password: "wrong one", code: await f.freshCode(user) }),
      ),
    ).toMatchObject({ label: "INVALID_CREDENTIALS" });
    expect(
      await refusal(caller.auth.twoFactor.disable({ password: user.password, code: "000000" })),
    ).toMatchObject({ label: "INVALID_TWO_FACTOR_CODE" });
    expect((await caller.auth.twoFactor.status()).enabled).toBe(true);
    expect(
      await caller.auth.twoFactor.disable({
        password: user.password,
        code: await f.freshCode(user),
      }),
    ).toEqual({ enabled: false });
    const row = await stored(user.id);
    expect([row.totpSecretSealed, row.totpEnabledAt, row.totpRecoveryHashes]).toEqual([
      null,
      null,
      null,
    ]);
    expect((await passwordStep(user, freshIp())).result.outcome).toBe("signed_in");
  });
});

describe("signing in with a second factor", () => {
  it("gives no session for the password alone; the code completes the sign-in", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    const ip = freshIp();
    const challenge = await challengeOf(user, ip);
    const jar = new CookieJar();
    const signedIn = await codeStep(challenge, await f.freshCode(user), ip, jar);
    expect(resultOf<{ email: string; twoFactor: boolean }>(signedIn)).toMatchObject({
      email: user.email,
      twoFactor: true,
    });
    expect([...jar.cookies.keys()].sort()).toEqual(["spotx_refresh", "spotx_session"]);
    const me = await f.http("auth.me", { method: "GET", jar });
    expect(resultOf<{ email: string }>(me).email).toBe(user.email);
  });

  it("refuses a code used once already (a replay within its step)", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    const ip = freshIp();
    const code = await f.freshCode(user);
    expect((await codeStep(await challengeOf(user, ip), code, ip)).status).toBe(200);
    const replay = await codeStep(await challengeOf(user, ip), code, ip);
    expect(errorOf(replay)).toMatchObject({ label: "INVALID_TWO_FACTOR_CODE", httpStatus: 400 });
    expect(replay.setCookies).toEqual([]);
  });

  it("takes a recovery code instead, once", async () => {
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    const enrolment = await caller.auth.twoFactor.begin({ password: user.password });
    user.totpSecret = enrolment.secret;
    await caller.auth.twoFactor.confirm({ code: await f.freshCode(user) });
    const ip = freshIp();
    const recovery = (enrolment.recoveryCodes[3] ?? "").toUpperCase();
    expect((await codeStep(await challengeOf(user, ip), recovery, ip)).status).toBe(200);
    expect((await caller.auth.twoFactor.status()).recoveryCodesLeft).toBe(9);
    const again = await codeStep(await challengeOf(user, ip), recovery, ip);
    expect(errorOf(again).label).toBe("INVALID_TWO_FACTOR_CODE");
  });

  it("counts wrong codes towards the login throttle of the account at that address", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    const ip = freshIp();
    const challenge = await challengeOf(user, ip);
    for (let i = 0; i < 5; i += 1) {
      const guess = String(100_000 + i * 7);
      expect(errorOf(await codeStep(challenge, guess, ip)).label).toBe("INVALID_TWO_FACTOR_CODE");
    }
    // Even the right code waits now; so does the password from this address…
    const right = await codeStep(challenge, await f.freshCode(user), ip);
    expect(errorOf(right).label).toBe("TOO_MANY_REQUESTS");
    const password = await f.http("auth.logIn", {
      input: { email: user.email, password: user.password },
      ip,
    });
    expect(errorOf(password).label).toBe("TOO_MANY_REQUESTS");
    // …while the owner elsewhere signs in.
    const elsewhere = freshIp();
    expect(
      (await codeStep(await challengeOf(user, elsewhere), await f.freshCode(user), elsewhere))
        .status,
    ).toBe(200);
  });

  it("starts over at the password for a forged or stale challenge", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    const ip = freshIp();
    const forged = await codeStep("eyJhbGciOiJIUzI1NiJ9.e30.x", await f.freshCode(user), ip);
    expect(errorOf(forged).label).toBe("LOGIN_REQUIRED");
    // A challenge from before a password change is worthless after it.
    const challenge = await challengeOf(user, ip);
    const caller = await f.callerAs(user);
    await caller.auth.changePassword({
      currentPassword: user.password,
      newPassword: "a brand new password",
    });
    const stale = await codeStep(challenge, await f.freshCode(user), ip);
    expect(errorOf(stale)).toMatchObject({ label: "LOGIN_REQUIRED", httpStatus: 401 });
  });
});

describe("operators", () => {
  it("without two-factor sign-in may only enrol; the same session is an operator's after", async () => {
    const operator = await f.createUser("operator", "active", undefined, { twoFactor: false });
    const ip = freshIp();
    const jar = new CookieJar();
    const { result } = await passwordStep(operator, ip, jar);
    expect(result).toMatchObject({ outcome: "signed_in", account: { twoFactor: false } });
    const console = await f.http("admin.locks", { method: "GET", jar });
    expect(errorOf(console)).toMatchObject({ label: "TWO_FACTOR_REQUIRED", httpStatus: 403 });
    expect(errorOf(console).message).toMatch(/two-factor/);
    const status = await f.http("auth.twoFactor.status", { method: "GET", jar });
    expect(resultOf<{ required: boolean }>(status).required).toBe(true);

    const begun = await f.http("auth.twoFactor.begin", {
      input: { password: operator.password },
      jar,
    });
    operator.totpSecret = resultOf<{ secret: string }>(begun).secret;
    const code = await f.freshCode(operator);
    expect((await f.http("auth.twoFactor.confirm", { input: { code }, jar })).status).toBe(200);
    expect((await f.http("admin.locks", { method: "GET", jar })).status).toBe(200);
    // From now on the password alone gives no session.
    expect((await passwordStep(operator, freshIp())).result.outcome).toBe("code_required");
  });
});

describe("a trader with two-factor sign-in on", () => {
  it("confirms a new API key with a current code", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    const caller = await f.callerAs(user);
    const input = { permissions: ["read" as const] };
    expect(await refusal(caller.account.apiKeys.create(input))).toEqual({
      label: "TWO_FACTOR_REQUIRED",
      status: 403,
    });
    expect(await refusal(caller.account.apiKeys.create({ ...input, totpCode: "123456" }))).toEqual({
      label: "INVALID_TWO_FACTOR_CODE",
      status: 400,
    });
    expect(await caller.account.apiKeys.list()).toEqual([]);
    const created = await caller.account.apiKeys.create({
      ...input,
      totpCode: await f.freshCode(user),
    });
    expect(created.secret).toMatch(/^[0-9a-f]+$/);
  });

  it("confirms a withdrawal with a current code; a refused one holds nothing", async () => {
    const user = await f.createUser("trader", "active", undefined, { twoFactor: true });
    await f.fund(user.id, "USDT", 100_000_000n);
    const caller = await f.callerAs(user);
    const input = { asset: "USDT", amount: "10", address: "wallet-1" };
    expect(await refusal(caller.account.requestWithdrawal(input))).toEqual({
      label: "TWO_FACTOR_REQUIRED",
      status: 403,
    });
    expect(
      await refusal(caller.account.requestWithdrawal({ ...input, totpCode: "000 000" })),
    ).toEqual({ label: "INVALID_TWO_FACTOR_CODE", status: 400 });
    expect((await caller.account.withdrawals()).items).toEqual([]);
    const made = await caller.account.requestWithdrawal({
      ...input,
      totpCode: await f.freshCode(user),
    });
    expect(made.withdrawal).toMatchObject({ amount: "10", status: "pending" });
  });

  it("a trader without it needs no code", async () => {
    const user = await f.createUser();
    await f.fund(user.id, "USDT", 100_000_000n);
    const caller = await f.callerAs(user);
    await caller.account.apiKeys.create({ permissions: ["read"] });
    await caller.account.requestWithdrawal({ asset: "USDT", amount: "1", address: "wallet-2" });
  });
});
