// Forwarding headers (X-Forwarded-Host, X-Forwarded-Proto, Forwarded) are a reverse proxy's
// word, believed only when SPOTX_TRUSTED_PROXIES says a proxy is there. The suite's web server
// trusts none: a client that forges them gets no Secure cookies or HSTS over plain HTTP, no
// foreign host in a redirect, and no pass through socket.io's Origin check for its session
// cookie. A second web instance of the same exchange, trusting one proxy, believes them.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import {
  type APIRequestContext,
  type APIResponse,
  type Browser,
  expect,
  test,
} from "@playwright/test";
import WebSocket from "ws";
import { exchangeSettings } from "../exchange";
import { logIn } from "./console";
import { baseURL, newEmail } from "./trader";

const FORGED = {
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "https",
  forwarded: "host=evil.example;proto=https",
};

/** Signs a new trader up through tRPC with `headers`; the answer carries the session cookies. */
function signUpWith(
  request: APIRequestContext,
  url: string,
  headers: Record<string, string>,
): Promise<APIResponse> {
  return request.post(`${url}/api/trpc/auth.signUp`, {
    headers: { "x-spotx-csrf": "1", ...headers },
    data: { json: { email: newEmail("fwd"), password: "correct horse battery" } },
  });
}

function sessionCookieHeaders(answer: APIResponse): string[] {
  return answer
    .headersArray()
    .filter((h) => h.name.toLowerCase() === "set-cookie")
    .map((h) => h.value);
}

/** The seeded operator's session cookie, signed in through the API. */
async function operatorCookie(browser: Browser): Promise<string> {
  const context = await browser.newContext();
  await logIn(context, "operator@spotx.dev", "operator-demo");
  const cookies = await context.cookies(baseURL());
  await context.close();
  return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

/**
 * socket.io's answer to joining the operators room over a WebSocket sent with `headers` (a
 * program can send any; the Origin check decides whether the session cookie counts).
 */
function joinOperatorRoom(url: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`,
      { headers },
    );
    const timer = setTimeout(() => reject(new Error("no answer from socket.io")), 10_000);
    socket.on("message", (data: WebSocket.RawData) => {
      const packet = data.toString();
      if (packet.startsWith("0")) socket.send("40");
      else if (packet === "2") socket.send("3");
      else if (packet.startsWith("40")) socket.send('420["operator.join",{}]');
      else if (packet.startsWith("430")) {
        clearTimeout(timer);
        socket.close();
        resolve((JSON.parse(packet.slice(3)) as unknown[])[0]);
      }
    });
    socket.on("error", reject);
  });
}

/** Another web instance of the suite's exchange, with extra settings; stop() ends it. */
async function startWebInstance(
  env: Record<string, string>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const settings = exchangeSettings();
  const webDir = path.resolve(import.meta.dirname, "../../apps/web");
  const child: ChildProcess = spawn(process.execPath, ["dist/server.js"], {
    cwd: webDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      SPOTX_SECRET_KEY: settings.secretKey,
      DATABASE_URL: settings.databaseUrl,
      SPOTX_NAMESPACE: settings.namespace,
      WEB_PORT: "0",
      WEB_HOST: "127.0.0.1",
      WEB_INSTANCE_ID: `e2e-web-proxied-${process.pid}`,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1].replace("localhost", "127.0.0.1"));
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`web exited (${code}):\n${output}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

test("without a trusted proxy, forged forwarding headers change nothing", async ({
  request,
  browser,
}) => {
  // A redirect (a visitor sent to log in) names no host the client chose.
  const redirect = await request.get(`${baseURL()}/account`, { headers: FORGED, maxRedirects: 0 });
  expect(redirect.status()).toBe(307);
  expect(redirect.headers().location).toBe("/login?next=/account");

  // Over plain HTTP the cookies are not Secure and there is no HSTS, whatever the client says.
  const signedUp = await signUpWith(request, baseURL(), FORGED);
  expect(signedUp.status(), await signedUp.text()).toBe(200);
  const cookies = sessionCookieHeaders(signedUp);
  expect(cookies.length).toBeGreaterThan(0);
  for (const cookie of cookies) expect(cookie).not.toMatch(/;\s*Secure/i);
  expect(signedUp.headers()["strict-transport-security"]).toBeUndefined();

  // socket.io's Origin check: a page on evil.example claiming to be this site through
  // X-Forwarded-Host does not get the operator's session; from this site's Origin it does.
  const cookie = await operatorCookie(browser);
  const forged = await joinOperatorRoom(baseURL(), {
    cookie,
    origin: "http://evil.example",
    ...FORGED,
  });
  expect(forged).toMatchObject({ ok: false, error: { label: "FORBIDDEN" } });
  const genuine = await joinOperatorRoom(baseURL(), { cookie, origin: baseURL() });
  expect(genuine).toMatchObject({ ok: true });
});

test("behind a trusted proxy, its forwarding headers are believed", async ({
  request,
  browser,
}) => {
  const web = await startWebInstance({ SPOTX_TRUSTED_PROXIES: "1" });
  try {
    const proxied = { "x-forwarded-proto": "https", "x-forwarded-host": "exchange.example" };
    const signedUp = await signUpWith(request, web.url, proxied);
    expect(signedUp.status(), await signedUp.text()).toBe(200);
    const cookies = sessionCookieHeaders(signedUp);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatch(/;\s*Secure/i);
    expect(signedUp.headers()["strict-transport-security"]).toContain("max-age=");

    // The browser was on exchange.example; the proxy said so. (Plain HTTP here: the cookie
    // was issued over HTTP.)
    const joined = await joinOperatorRoom(web.url, {
      cookie: await operatorCookie(browser),
      origin: "http://exchange.example",
      "x-forwarded-host": "exchange.example",
    });
    expect(joined).toMatchObject({ ok: true });
  } finally {
    await web.stop();
  }
});
