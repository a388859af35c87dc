// What the operator-console specs share: a browser signed in as the seeded operator, the
// exchange's database and etcd for setting up and checking what the pages show, and a probe
// of the operators room that speaks socket.io's own protocol from inside a page (so the
// browser's cookies and Origin go with it, exactly as the console's socket sends them).
import { type Browser, type BrowserContext, expect, type Page } from "@playwright/test";
import { createDatabase, type Database } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createPostgresPool } from "@spotx/platform/postgres";
import { type Topology, topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";
import { exchangeSettings } from "../exchange";
import { baseURL } from "./trader";

/** Signs a browser context in through the API (the login page is the trader specs' concern). */
export async function logIn(context: BrowserContext, email: string, password: string) {
  const answer = await context.request.post(`${baseURL()}/api/trpc/auth.logIn`, {
    headers: { "x-spotx-csrf": "1" },
    data: { json: { email, password } },
  });
  expect(answer.status(), await answer.text()).toBe(200);
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
