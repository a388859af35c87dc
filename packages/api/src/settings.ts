// What the API's security and demo features are tuned by, in one object: built from the
// environment in a running process, passed explicitly (and shrunk) by tests.
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
    /** Failed logins for one email, without a success between, that lock it… */
    accountFailures: number;
    /** …counted over this window… */
    accountWindowSeconds: number;
    /** …for this long. */
    accountLockSeconds: number;
    /** Failed logins from one IP (any email) within the window that lock the IP… */
    ipFailures: number;
    ipWindowSeconds: number;
    /** …for this long. */
    ipLockSeconds: number;
  };
  demoDeposits: {
    enabled: boolean;
    /** The most one demo deposit credits, in whole units of the asset. */
    maxWholeUnits: number;
    /** Demo deposits one user may make per hour. */
    perHour: number;
  };
};

export function apiSettings(env: ApiEnv = apiEnv()): ApiSettings {
  return {
    sessions: {
      accessTtlSeconds: env.SESSION_TTL_SECONDS,
      refreshTtlSeconds: env.SESSION_REFRESH_TTL_SECONDS,
      absoluteTtlSeconds: 30 * 86_400,
      refreshGraceSeconds: 10,
    },
    login: {
      accountFailures: 5,
      accountWindowSeconds: 3_600,
      accountLockSeconds: 900,
      ipFailures: 20,
      ipWindowSeconds: 3_600,
      ipLockSeconds: 3_600,
    },
    demoDeposits: {
      enabled: env.DEMO_DEPOSITS === "on",
      maxWholeUnits: env.DEMO_DEPOSIT_MAX,
      perHour: 20,
    },
  };
}
