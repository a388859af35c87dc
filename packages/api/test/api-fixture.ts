// The API as the web server runs it, for one test file: a database of its own with the demo
// assets and markets, a Redis/etcd namespace of its own, the real trading service and market
// halt watch, and the services procedures call — plus users of each kind, their sessions, and
// two ways in: in-process callers (createCaller) and HTTP through tRPC's fetch adapter with the
// route handler's own context builder. Nothing of our servers is mocked.
import { randomBytes, randomUUID } from "node:crypto";
import {
  type Database,
  DEMO_ASSETS,
  DEMO_MARKETS,
  deposit,
  hashPassword,
  schema,
  sealSecret,
} from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { logger } from "@spotx/platform/logger";
import { MarketConfigWatcher } from "@spotx/platform/market-config";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { type Topology, topology } from "@spotx/platform/topology";
import { eq } from "drizzle-orm";
import { CSRF_HEADER } from "../src/auth/csrf";
import { CLIENT_IP_HEADER } from "../src/auth/http-context";
import { REFRESH_COOKIE, SESSION_COOKIE } from "../src/auth/session-cookies";
import { newTotpSecret, TOTP_PERIOD_SECONDS, totpCode } from "../src/auth/totp";
import type { Context, HttpExchange, Session } from "../src/context";
import { type RateLimitSettingsInput, RateLimits } from "../src/guards/rate-limits";
import { handleTrpcRequest } from "../src/http-handler";
import { createCaller } from "../src/root";
import { ApiServices } from "../src/services";
import { type ApiSettings, apiSettings } from "../src/settings";
import { TradingService } from "../src/trading/trading-service";

export type TestUser = {
  id: bigint;
  email: string;
  password: string;
  role: "trader" | "operator";
  status: "active" | "frozen";
  /** The TOTP secret when two-factor sign-in is on (every operator's, unless asked otherwise). */
  totpSecret: string | null;
};

/** What a procedure call over HTTP answered, with the cookies it set. */
export type HttpAnswer = {
  status: number;
  body: unknown;
  setCookies: string[];
  headers: Headers;
};

export type ApiFixture = Awaited<ReturnType<typeof startApiFixture>>;

/** A browser's cookie jar, enough for these tests: name → value, updated from Set-Cookie. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  take(setCookies: string[]) {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const [name = "", ...rest] = pair.split("=");
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith("max-age="));
      if (maxAge === "Max-Age=0") this.cookies.delete(name);
      else this.cookies.set(name, rest.join("="));
    }
  }

  get session() {
    return this.cookies.get(SESSION_COOKIE);
  }

  get refresh() {
    return this.cookies.get(REFRESH_COOKIE);
  }
}

export async function startApiFixture(
  options: {
    settings?: (s: ApiSettings) => void;
    /** Rate limits for HTTP calls (none when absent). */
    rateLimits?: RateLimitSettingsInput;
  } = {},
) {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const names: Topology = topology(namespace);
  const test: TestDatabase = await createTestDatabase();
  const db: Database = test.db;
  await db.insert(schema.assets).values([...DEMO_ASSETS]);
  await db.insert(schema.markets).values([...DEMO_MARKETS]);

  const env = platformEnv();
  const redis: Redis = createRedis(env.REDIS_URL);
  const etcd: Etcd3 = createEtcd(env.ETCD_ENDPOINTS);
  const halts = new MarketConfigWatcher(etcd, logger("test-config"), names);
  await halts.start();
  const settings = apiSettings();
  options.settings?.(settings);
  const trading = new TradingService({ db, names, halts });
  const secretKey = randomBytes(32);
  const rateLimits = options.rateLimits
    ? new RateLimits({
        redis,
        names,
        log: logger("test-rate-limits"),
        settings: options.rateLimits,
      })
    : undefined;
  await rateLimits?.start();
  const services = new ApiServices({
    names,
    redis,
    etcd,
    secretKey,
    settings,
    halts,
    trading,
    ...(rateLimits ? { rateLimits } : {}),
  });
  /** The last TOTP step each user's code was made for by `freshCode`. */
  const lastSteps = new Map<bigint, number>();
  // One password hash for every fixture user: scrypt is slow on purpose.
  const passwordHashes = new Map<string, Promise<string>>();
  let users = 0;

  async function createUser(
    role: TestUser["role"] = "trader",
    status: TestUser["status"] = "active",
    password = "correct horse battery",
    options: { twoFactor?: boolean } = {},
  ): Promise<TestUser> {
    users += 1;
    const email = `u${users}-${randomUUID().slice(0, 8)}@test.spotx.dev`;
    let hash = passwordHashes.get(password);
    if (!hash) {
      hash = hashPassword(password);
      passwordHashes.set(password, hash);
    }
    const [row] = await db
      .insert(schema.users)
      .values({ email, passwordHash: await hash, role, status })
      .returning({ id: schema.users.id });
    if (!row) throw new Error("user not created");
    const user: TestUser = { id: row.id, email, password, role, status, totpSecret: null };
    // Operators must have two-factor sign-in for the console: theirs is on unless a test says not.
    if (options.twoFactor ?? role === "operator") await enableTwoFactor(user);
    return user;
  }

  /** Turns two-factor sign-in on for `user` (as a confirmed enrolment would); sets its secret. */
  async function enableTwoFactor(user: TestUser): Promise<string> {
    const secret = newTotpSecret();
    await db
      .update(schema.users)
      .set({
        totpSecretSealed: sealSecret(secret, services.twoFactorSealingKey),
        totpEnabledAt: new Date(),
        totpLastStep: null,
        totpRecoveryHashes: [],
      })
      .where(eq(schema.users.id, user.id));
    user.totpSecret = secret;
    lastSteps.delete(user.id);
    return secret;
  }

  /**
   * A code of `user`'s the server has not seen from this fixture yet: the current step's, or —
   * when a test already used it — the next one's (accepted as clock drift), waiting for the step
   * to turn when both were used.
   */
  async function freshCode(user: TestUser): Promise<string> {
    const secret = user.totpSecret;
    if (secret === null) throw new Error(`${user.email} has no two-factor secret`);
    for (;;) {
      const now = Math.floor(Date.now() / 1000);
      const current = Math.floor(now / TOTP_PERIOD_SECONDS);
      const step = Math.max(current, (lastSteps.get(user.id) ?? 0) + 1);
      if (step <= current + 1) {
        lastSteps.set(user.id, step);
        return totpCode(secret, step * TOTP_PERIOD_SECONDS);
      }
      await new Promise((resolve) =>
        setTimeout(resolve, ((current + 1) * TOTP_PERIOD_SECONDS - now) * 1000 + 50),
      );
    }
  }

  async function fund(userId: bigint, asset: string, amount: bigint) {
    await deposit(db, { userId, asset, amount, ref: `test:${randomUUID()}` });
  }

  /** A live session of the user, as logging in would have made it. */
  async function sessionOf(user: TestUser): Promise<Session> {
    const { sessionId } = await services.sessions.create(user.id, { ip: null, userAgent: null });
    return {
      userId: user.id,
      role: user.role,
      status: user.status,
      twoFactor: user.totpSecret !== null,
      sessionId,
    };
  }

  /** An HTTP exchange that records the cookies a procedure sets. */
  function exchange(cookies: Map<string, string> = new Map()): HttpExchange & { set: string[] } {
    const set: string[] = [];
    return {
      cookies,
      setCookie: (h) => set.push(h),
      secure: false,
      csrfHeader: true,
      refreshed: false,
      set,
    };
  }

  function context(session: Session | null, http: HttpExchange | null = exchange()): Context {
    return {
      db,
      session,
      request: { ip: "192.0.2.10", userAgent: "vitest", requestId: randomUUID() },
      services,
      http,
    };
  }

  /** An in-process caller as `user` (a fresh session each time), or anonymous. */
  async function callerAs(user: TestUser | null) {
    return createCaller(context(user ? await sessionOf(user) : null));
  }

  /**
   * Calls a procedure over HTTP as a browser would (tRPC's wire format with superjson), through
   * the route handler's context builder. `input` is sent as given (already serialised).
   */
  async function http(
    path: string,
    init: {
      method?: "GET" | "POST";
      input?: unknown;
      jar?: CookieJar;
      csrf?: boolean;
      ip?: string;
      url?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<HttpAnswer> {
    const method = init.method ?? "POST";
    const base = init.url ?? "http://localhost:3000";
    const headers = new Headers(init.headers);
    headers.set("content-type", "application/json");
    if (init.csrf ?? method === "POST") headers.set(CSRF_HEADER, "1");
    headers.set(CLIENT_IP_HEADER, init.ip ?? "192.0.2.10");
    if (init.jar && init.jar.cookies.size > 0) headers.set("cookie", init.jar.header());
    const body = init.input === undefined ? undefined : JSON.stringify({ json: init.input });
    const url =
      method === "GET"
        ? `${base}/api/trpc/${path}${body === undefined ? "" : `?input=${encodeURIComponent(body)}`}`
        : `${base}/api/trpc/${path}`;
    const request = new Request(url, {
      method,
      headers,
      body: method === "POST" ? body : undefined,
    });
    const response = await handleTrpcRequest(request, { services, db });
    const setCookies = response.headers.getSetCookie();
    init.jar?.take(setCookies);
    return {
      status: response.status,
      body: await response.json(),
      setCookies,
      headers: response.headers,
    };
  }

  /**
   * Signs `user` in over HTTP as the login page does: the password, then — when two-factor
   * sign-in is on — a fresh code. The jar holds the session cookies after.
   */
  async function signIn(user: TestUser, jar = new CookieJar(), ip?: string): Promise<CookieJar> {
    const first = await http("auth.logIn", {
      input: { email: user.email, password: user.password },
      jar,
      ip,
    });
    const step = resultOf<{ outcome: string; challenge?: string }>(first);
    if (step.outcome === "code_required") {
      const second = await http("auth.logInWithCode", {
        input: { challenge: step.challenge, code: await freshCode(user) },
        jar,
        ip,
      });
      resultOf(second);
    }
    return jar;
  }

  return {
    namespace,
    names,
    test,
    db,
    redis,
    etcd,
    halts,
    settings,
    trading,
    secretKey,
    services,
    createUser,
    enableTwoFactor,
    freshCode,
    fund,
    sessionOf,
    exchange,
    context,
    callerAs,
    http,
    signIn,
    async stop() {
      await halts.stop();
      await etcd.delete().prefix(`/${namespace}/`);
      etcd.close();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      redis.disconnect();
      await test.drop();
    },
  };
}

/** The error body of a tRPC HTTP answer: its label, message and status. */
export function errorOf(answer: HttpAnswer): {
  label: string;
  message: string;
  httpStatus: number;
} {
  const body = answer.body as {
    error?: { json?: { message?: string; data?: { label?: string; httpStatus?: number } } };
  };
  const json = body.error?.json;
  if (!json) throw new Error(`not an error: ${JSON.stringify(answer.body)}`);
  return {
    label: json.data?.label ?? "",
    message: json.message ?? "",
    httpStatus: json.data?.httpStatus ?? 0,
  };
}

/** The result of a successful tRPC HTTP answer (superjson's `json` part). */
export function resultOf<T>(answer: HttpAnswer): T {
  const body = answer.body as { result?: { data?: { json?: T } } };
  if (answer.status !== 200 || !body.result?.data) {
    throw new Error(`not a result (${answer.status}): ${JSON.stringify(answer.body)}`);
  }
  return body.result.data.json as T;
}
