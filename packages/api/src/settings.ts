// What the API's security and demo features are tuned by, in one object: built from the
// environment in a running process, passed explicitly (and shrunk) by tests.
import { type PlatformEnv, platformEnv } from "@spotx/platform/env";
import { type ApiEnv, apiEnv } from "./env";

export type ApiSettings = {
  sessions: {
    /** Access token (session cookie) lifetime. */
    accessTtlSeconds: number;
    /** A session unused this long ends; each refresh renews it… */
    refreshTtlSeconds: number;
    /** …up to this long after the sign-in. */
    absoluteTtlSeconds: number;
    /**
     * A refresh token replaced less than this long ago is answered with a new access token
     * (and no new refresh token) instead of being taken for a stolen one: parallel requests of
     * one browser, each finding the access token expired, all present the same refresh token.
     */
    refreshGraceSeconds: number;
  };
  login: {
    /**
     * Attempts at one account from one client address that go through at once; each further
     * one waits `firstDelayMs`, doubled per further failure…
     */
    freeAttempts: number;
    firstDelayMs: number;
    /** …up to this long. */
    maxDelayMs: number;
    /** An account's failures from an address are forgotten this long after the last one. */
    attemptsTtlSeconds: number;
    /** Attempts (any accounts) that did not end in a sign-in that one address may make… */
    addressBudget: number;
    /** …per this window, counted from its first. */
    addressWindowSeconds: number;
  };
  demoDeposits: {
    enabled: boolean;
    /** The most one demo deposit credits, in whole units of the asset. */
    maxWholeUnits: number;
    /** Demo deposits one user may make per hour. */
    perHour: number;
  };
};

/** Demo deposits as configured, or by default on everywhere but production. */
export function demoDepositsEnabled(
  setting: ApiEnv["DEMO_DEPOSITS"],
  nodeEnv: PlatformEnv["NODE_ENV"],
): boolean {
  return (setting ?? (nodeEnv === "production" ? "off" : "on")) === "on";
}

export function apiSettings(
  env: ApiEnv = apiEnv(),
  nodeEnv: PlatformEnv["NODE_ENV"] = platformEnv().NODE_ENV,
): ApiSettings {
  return {
    sessions: {
      accessTtlSeconds: env.SESSION_TTL_SECONDS,
      refreshTtlSeconds: env.SESSION_REFRESH_TTL_SECONDS,
      absoluteTtlSeconds: 30 * 86_400,
      refreshGraceSeconds: 10,
    },
    login: {
      freeAttempts: 5,
      firstDelayMs: 1_000,
      maxDelayMs: 900_000,
      attemptsTtlSeconds: 86_400,
      addressBudget: 20,
      addressWindowSeconds: 3_600,
    },
    demoDeposits: {
      enabled: demoDepositsEnabled(env.DEMO_DEPOSITS, nodeEnv),
      maxWholeUnits: env.DEMO_DEPOSIT_MAX,
      perHour: 20,
    },
  };
}
