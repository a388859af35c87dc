// What the operator-console specs share: a browser signed in as the seeded operator (with
// two-factor sign-in, enrolled by the suite on its first sign-in), the exchange's database and
// etcd for setting up and checking what the pages show, and a probe of the operators room that
// speaks socket.io's own protocol from inside a page (so the browser's cookies and Origin go
// with it, exactly as the console's socket sends them).
import {
  type Browser,
  type BrowserContext,
  type Cookie,
  expect,
  type Page,
} from "@playwright/test";
import { createDatabase, type Database } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createPostgresPool } from "@spotx/platform/postgres";
import { type Topology, topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";
import { exchangeSettings } from "../exchange";
import { baseURL } from "./trader";
import { freshCode, keepSecret, keptSecret } from "./two-factor";

type TrpcAnswer = { result?: { data?: { json?: Record<string, unknown> } } };

async function trpcPost(context: BrowserContext, procedure: string, input: unknown) {
  const answer = await context.request.post(`${baseURL()}/api/trpc/${procedure}`, {
    headers: { "x-spotx-csrf": "1" },
    data: { json: input },
  });
  expect(answer.status(), `${procedure}: ${await answer.text()}`).toBe(200);
  return ((await answer.json()) as TrpcAnswer).result?.data?.json ?? {};
}

/** The operator's signed-in cookies, shared by the specs of this worker for a while. */
let operatorSession: { email: string; cookies: Cookie[]; at: number } | undefined;
/** Well inside the 15-minute access token: a shared session is never refreshed (rotated). */
const SHARE_SESSION_MS = 8 * 60_000;

/**
 * Signs a browser context in through the API (the login page is the trader specs' concern), as
 * the page does: the password, then — for a user with two-factor sign-in — a code computed from
 * the secret this suite keeps for them. An operator without two-factor sign-in (the seeded one,
 * on its first sign-in) enrols through the same API the security page uses, as the console
 * requires. An operator's session is shared by the contexts of the next few minutes: each code
 * is good once, so signing in for every spec would wait for new codes.
 */
export async function logIn(context: BrowserContext, email: string, password: string) {
  if (operatorSession?.email === email && Date.now() - operatorSession.at < SHARE_SESSION_MS) {
    await context.addCookies(operatorSession.cookies);
    return;
  }
  const first = await trpcPost(context, "auth.logIn", { email, password });
  if (first.outcome === "code_required") {
    const secret = keptSecret(email);
    if (!secret)
      throw new Error(`${email} has two-factor sign-in on, with a secret the suite lacks`);
    await trpcPost(context, "auth.logInWithCode", {
      challenge: first.challenge,
      code: await freshCode(secret, email),
    });
  }
  const account = (first.account ?? {}) as { role?: string; twoFactor?: boolean };
  if (first.outcome === "signed_in" && account.role === "operator" && !account.twoFactor) {
    const enrolment = await trpcPost(context, "auth.twoFactor.begin", { password });
    const secret = String(enrolment.secret);
    keepSecret(email, secret);
    await trpcPost(context, "auth.twoFactor.confirm", { code: await freshCode(secret, email) });
  }
  if (first.outcome === "code_required" || account.role === "operator") {
    operatorSession = { email, cookies: await context.cookies(baseURL()), at: Date.now() };
  }
}

/** A page signed in as the seeded operator, the console's live feed joined. */
export async function operatorPage(browser: Browser, path = "/admin"): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await logIn(context, "operator@spotx.dev", "operator-demo");
  const page = await context.newPage();
  await page.goto(`${baseURL()}${path}`);
  await expect(page.getByTestId("console-feed")).toHaveAttribute("data-state", "live");
  return page;
}

/** Confirms the console's action dialog with a reason. */
export async function confirmWithReason(page: Page, reason: string) {
  await page.getByTestId("action-reason").fill(reason);
  await page.getByTestId("confirm-action").click();
}

let pool: ReturnType<typeof createPostgresPool> | undefined;
/** The exchange's own database (the same rows the pages show). */
export function exchangeDb(): Database {
  pool ??= createPostgresPool(exchangeSettings().databaseUrl, { max: 2 });
  return createDatabase(pool);
}

export async function userIdOf(email: string): Promise<bigint> {
  const found = await exchangeDb().execute<{ id: bigint }>(
    sql`SELECT id FROM users WHERE email = ${email}`,
  );
  const id = found.rows[0]?.id;
  if (id === undefined) throw new Error(`no user ${email}`);
  return BigInt(id);
}

export async function balanceRow(userId: bigint, asset: string) {
  const found = await exchangeDb().execute<{ available: string; locked: string }>(
    sql`SELECT available::text, locked::text FROM balances WHERE user_id = ${userId} AND asset = ${asset}`,
  );
  return found.rows[0] ?? { available: "0", locked: "0" };
}

export function exchangeEtcd(): { etcd: Etcd3; names: Topology } {
  return {
    etcd: createEtcd(platformEnv().ETCD_ENDPOINTS),
    names: topology(exchangeSettings().namespace),
  };
}

/**
 * Opens a socket.io connection from inside `page` (Engine.IO 4 over a WebSocket: the browser
 * adds the session cookie and this site's Origin itself), asks to join the operators room, and
 * answers the server's acknowledgement.
 */
export function joinOperatorRoom(page: Page): Promise<unknown> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const url = `${location.origin.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
        const socket = new WebSocket(url);
        const timer = setTimeout(() => reject(new Error("no answer from socket.io")), 10_000);
        socket.onmessage = (event) => {
          const packet = String(event.data);
          if (packet.startsWith("0"))
            socket.send("40"); // open → connect to the main namespace
          else if (packet === "2")
            socket.send("3"); // ping → pong
          else if (packet.startsWith("40")) socket.send('420["operator.join",{}]');
          else if (packet.startsWith("430")) {
            clearTimeout(timer);
            socket.close();
            resolve((JSON.parse(packet.slice(3)) as unknown[])[0]);
          }
        };
        socket.onerror = () => reject(new Error("socket.io connection failed"));
      }),
  );
}
