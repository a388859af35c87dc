// The stack's Redis stops while an operator uses the console over HTTP (tRPC's route handler,
// cookies and all): requests are answered 503 SERVICE_UNAVAILABLE with a Retry-After — never a
// hang — and once the Redis breaker has opened they are answered at once without touching Redis;
// when Redis is back, the breaker's half-open probe closes it and requests succeed again. This
// stops the stack's own Redis, so it needs the stack's Redis (not one named by REDIS_URL).
import { randomBytes, randomUUID } from "node:crypto";
import { ApiServices, CLIENT_IP_HEADER, CSRF_HEADER, handleTrpcRequest } from "@spotx/api";
import { hashPassword, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { breakers } from "@spotx/platform/breakers";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { topology } from "@spotx/platform/topology";
import { ourPid, stopProcess } from "@spotx/stack/process";
import { up } from "@spotx/stack/stack";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./pipeline/exchange";

let test: TestDatabase;
let redis: Redis;
let etcd: Etcd3;
let services: ApiServices;
let cookie = "";

beforeAll(async () => {
  test = await createTestDatabase();
  const env = platformEnv();
  redis = createRedis(env.REDIS_URL);
  etcd = createEtcd(env.ETCD_ENDPOINTS);
  services = new ApiServices({
    names: topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`),
    redis,
    etcd,
    secretKey: randomBytes(32),
  });
  const password = "operator outage drill";
  const email = `op-${randomUUID()}@test.spotx.dev`;
  await test.db
    .insert(schema.users)
    .values({ email, passwordHash: await hashPassword(password), role: "operator" });
  const login = await call("POST", "auth.logIn", { email, password });
  expect(login.status).toBe(200);
  // The console is an operator's with two-factor sign-in: enrolled from this session (the
  // session reads it per request). Its secret is never used here.
  await test.db
    .update(schema.users)
    .set({ totpSecretSealed: "enrolled-by-the-test", totpEnabledAt: new Date() })
    .where(eq(schema.users.email, email));
  cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
});
afterAll(async () => {
  // Whatever happened, leave Redis running for the suites after this one.
  await up(() => undefined);
  redis?.disconnect();
  etcd?.close();
  await test?.drop();
});

/** One tRPC call over HTTP as the console's browser makes it. */
async function call(method: "GET" | "POST", path: string, input?: unknown) {
  const headers = new Headers({
    "content-type": "application/json",
    [CLIENT_IP_HEADER]: "203.0.113.9",
  });
  if (method === "POST") headers.set(CSRF_HEADER, "1");
  if (cookie) headers.set("cookie", cookie);
  const body = input === undefined ? undefined : JSON.stringify({ json: input });
  const url = `http://localhost:3000/api/trpc/${path}${
    method === "GET" && body !== undefined ? `?input=${encodeURIComponent(body)}` : ""
  }`;
  const started = performance.now();
  const response = await handleTrpcRequest(
    new Request(url, { method, headers, body: method === "POST" ? body : undefined }),
    { services, db: test.db },
  );
  const json = (await response.json()) as {
    error?: { json?: { data?: { label?: string } } };
  };
  return {
    status: response.status,
    label: json.error?.json?.data?.label ?? null,
    retryAfter: response.headers.get("retry-after"),
    headers: response.headers,
    ms: performance.now() - started,
  };
}

describe("Redis stops under the console", () => {
  it("answers 503 fast while it is down, fails fast once the breaker opens, and recovers", {
    timeout: 120_000,
  }, async () => {
    const pid = ourPid("redis");
    if (pid === undefined) {
      throw new Error("this test stops the stack's Redis; run it with the stack's own Redis");
    }
    expect((await call("GET", "admin.locks")).status).toBe(200);
    expect(breakers.redis.currentState).toBe("closed");

    await stopProcess(pid, "SIGTERM", 5_000);
    const answers: Awaited<ReturnType<typeof call>>[] = [];
    for (let i = 0; i < 12; i++) answers.push(await call("GET", "admin.locks"));
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, label: "SERVICE_UNAVAILABLE" });
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.ms).toBeLessThan(1_500); // the breaker's 1 s timeout bounds every call
    }
    expect(breakers.redis.currentState).toBe("open");
    // Once open, the last calls never reached Redis: answered in milliseconds.
    const fast = answers.slice(-4).map((a) => a.ms);
    expect(Math.max(...fast)).toBeLessThan(50);
    const opened = breakers.redis.snapshot();
    expect(opened.totals.rejections).toBeGreaterThanOrEqual(4);
    console.info(`redis down: answers in ms ${answers.map((a) => Math.round(a.ms)).join(", ")}`);

    const restarted = performance.now();
    await up(() => undefined);
    await waitFor(async () => breakers.redis.currentState === "closed", {
      what: "the Redis breaker to close after its probe",
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const recovered = await waitFor(
      async () => {
        const answer = await call("GET", "admin.locks");
        return answer.status === 200 ? answer : null;
      },
      { what: "admin.locks to answer again", timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(recovered.status).toBe(200);
    console.info(
      `redis back: breaker closed and answering after ${Math.round(performance.now() - restarted)} ms`,
    );
    expect(breakers.redis.snapshot().lastTransition).toMatchObject({
      from: "half_open",
      to: "closed",
    });
  });
});
