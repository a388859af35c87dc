// A trader's ways in, from the console's user detail: the operator sees the trader's session
// (with the browser that signed in) and API key; ends the session — the trader's browser is
// signed out at its next action — and revokes the key — a signed gate.io request with it is then
// refused 401 INVALID_KEY; both are in the audit log with the reason given. Screenshots of the
// user detail with its Sessions and API keys sections at 1280×800 and 390×844.
import { createHash, createHmac } from "node:crypto";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { confirmWithReason, operatorPage, userIdOf } from "./console";
import { baseURL, signUp } from "./trader";

/** Opens the user's detail page from a search, as an operator would. */
async function openUser(console: Page, email: string) {
  await console.goto(`${baseURL()}/admin/users`);
  await console.getByTestId("user-query").fill(email);
  await console.getByRole("button", { name: "Search" }).click();
  await console.getByTestId(`user-${email}`).getByRole("link", { name: email }).click();
  await expect(console.getByTestId("user-email")).toHaveText(email);
}

/** A key the trader makes through the account API (as the account page does). */
async function createKey(trader: BrowserContext) {
  const answer = await trader.request.post(`${baseURL()}/api/trpc/account.apiKeys.create`, {
    headers: { "x-spotx-csrf": "1" },
    data: { json: { permissions: ["read"], label: "e2e grid bot" } },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  const body = (await answer.json()) as {
    result: { data: { json: { key: string; secret: string } } };
  };
  return body.result.data.json;
}

/** GET /api/v4/spot/accounts signed as gate.io's clients sign. */
async function signedAccounts(key: string, secret: string) {
  const path = "/api/v4/spot/accounts";
  const timestamp = (Date.now() / 1000).toFixed(3);
  const payload = ["GET", path, "", createHash("sha512").update("").digest("hex"), timestamp].join(
    "\n",
  );
  const sign = createHmac("sha512", secret).update(payload).digest("hex");
  return fetch(`${baseURL()}${path}`, { headers: { KEY: key, Timestamp: timestamp, SIGN: sign } });
}

async function shoot(page: Page, name: string) {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path });
  await test.info().attach(name, { path, contentType: "image/png" });
}

test("an operator ends a trader's session and revokes their key; both audited with the reason", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const traderContext = await browser.newContext();
  const trader = await traderContext.newPage();
  const email = await signUp(trader, "access");
  const { key, secret } = await createKey(traderContext);
  expect((await signedAccounts(key, secret)).status).toBe(200);

  const console = await operatorPage(browser);
  await openUser(console, email);
  const sessions = console.getByTestId("user-sessions").getByTestId("user-session");
  const keys = console.getByTestId("user-api-keys").getByTestId("user-api-key");
  await expect(sessions).toHaveCount(1);
  await expect(sessions.first()).toContainText("Chrome");
  await expect(keys).toHaveCount(1);
  await expect(keys.first()).toHaveAttribute("data-key", key);
  await expect(keys.first()).toContainText("e2e grid bot");

  await console.setViewportSize({ width: 1280, height: 800 });
  await console.getByTestId("user-sessions").scrollIntoViewIfNeeded();
  await shoot(console, "admin-user-access-desktop");
  await console.setViewportSize({ width: 390, height: 844 });
  await console.getByTestId("user-sessions").scrollIntoViewIfNeeded();
  await shoot(console, "admin-user-access-phone");
  await console.setViewportSize({ width: 1280, height: 800 });

  // End the session: the trader's next action finds them signed out.
  await sessions.first().getByRole("button", { name: "End" }).click();
  await confirmWithReason(console, "e2e: session ended from the console");
  await expect(console.getByTestId("user-sessions")).toContainText("No live session.");
  const next = await traderContext.request.get(`${baseURL()}/api/trpc/account.balances`);
  expect(next.status()).toBe(401);
  await trader.goto(`${baseURL()}/account`);
  await expect(trader).toHaveURL(/\/login/);

  // Revoke the key: the next signed request with it is refused.
  await keys.first().getByRole("button", { name: "Revoke" }).click();
  await confirmWithReason(console, "e2e: key leaked in a public repository");
  await expect(keys.first()).toContainText("revoked");
  const refused = await signedAccounts(key, secret);
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ label: "INVALID_KEY" });

  // Both in the audit log, with the reasons.
  const id = await userIdOf(email);
  await console.goto(`${baseURL()}/admin/audit?subject=user:${id}`);
  const rows = console.getByTestId("audit").getByTestId("audit-row");
  await expect(rows.first()).toHaveAttribute("data-action", "apikey.revoke");
  await expect(rows.first()).toContainText("e2e: key leaked in a public repository");
  await expect(rows.first()).toContainText("operator@spotx.dev");
  await expect(rows.nth(1)).toHaveAttribute("data-action", "session.end");
  await expect(rows.nth(1)).toContainText("e2e: session ended from the console");
  await traderContext.close();
  await console.context().close();
});
