// Every page runs under a Content-Security-Policy without 'unsafe-inline' for scripts: each
// answer carries a nonce of its own, every <script> Next.js rendered into the HTML carries that
// same nonce, and the page still hydrates (its socket.io WebSocket goes live under
// connect-src 'self', a button works) with not one violation — for visitors, traders and the
// operator console alike.
import { expect, type Page, type Response, test } from "@playwright/test";
import { operatorPage, userIdOf } from "./console";
import { baseURL, signUp } from "./trader";

/** What the page's CSP refused, from the browser's own reports and its console. */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  // Init scripts run outside the page's CSP; the event also names what the console may not.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(
        `Content Security Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`,
      );
    });
  });
  return violations;
}

/** The script nonce of an answer's CSP; fails unless scripts run by nonce alone. */
function scriptNonce(response: Pick<Response, "headers"> | null): string {
  const policy = response?.headers()["content-security-policy"] ?? "";
  const scriptSrc = policy.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  expect(policy).toContain("connect-src 'self';");
  const nonce = /'nonce-([A-Za-z0-9+/]{22}==)'/.exec(scriptSrc)?.[1];
  expect(nonce, policy).toBeDefined();
  return nonce ?? "";
}

/** Every <script> tag of the page's HTML carries the answer's nonce. */
async function expectNoncedScripts(response: Response | null) {
  const nonce = scriptNonce(response);
  const html = (await response?.text()) ?? "";
  const tags = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
}

/**
 * Opens `path` and checks the page: nonced scripts, hydrated (the header's live-feed badge went
 * live over socket.io's WebSocket, `ready` holds), the theme switch works, no CSP violation.
 */
async function checkPage(
  page: Page,
  violations: string[],
  path: string,
  ready: (page: Page) => Promise<void> = async () => {},
) {
  const response = await page.goto(`${baseURL()}${path}`);
  await expectNoncedScripts(response);
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
  await ready(page);
  const root = page.locator("html");
  const theme = (await root.getAttribute("data-theme")) === "light" ? "light" : "dark";
  await page.getByTestId("theme-switch").click();
  await expect(root).toHaveAttribute("data-theme", theme === "dark" ? "light" : "dark");
  expect(violations, path).toEqual([]);
}

test("a visitor's and a trader's pages run by nonce, hydrate, and break no CSP rule", async ({
  page,
}) => {
  const violations = await watchViolations(page);
  await checkPage(page, violations, "/", async (p) => {
    await expect(p.getByTestId("markets")).toHaveAttribute("data-state", "live");
  });
  await checkPage(page, violations, "/trade/BTC_USDT", async (p) => {
    await expect(p.getByTestId("trade-page")).toHaveAttribute("data-market", "BTC_USDT");
    await expect(p.getByTestId("candle-chart").locator("canvas").first()).toBeVisible();
  });
  await checkPage(page, violations, "/login");
  await checkPage(page, violations, "/signup", async (p) => {
    // The form is React's: too short a password is refused before anything is sent.
    await p.getByLabel("Password").fill("short");
    await expect(p.locator("#auth-password-error")).toHaveText("At least 8 characters.");
  });
  await checkPage(page, violations, "/no-such-page");
  // Signing up runs the form's script and the client-side navigation to the account page.
  await signUp(page, "csp");
  await checkPage(page, violations, "/account", async (p) => {
    await expect(p.getByTestId("balances")).toBeVisible();
  });
  expect(violations).toEqual([]);
});

test("every console page runs by nonce, hydrates, and breaks no CSP rule", async ({ browser }) => {
  test.setTimeout(120_000); // ten pages, each until its feeds are live
  const page = await operatorPage(browser);
  const violations = await watchViolations(page);
  const operatorId = await userIdOf("operator@spotx.dev");
  const consolePages = [
    "/admin",
    "/admin/audit",
    "/admin/guards",
    "/admin/markets",
    "/admin/orders",
    "/admin/pipeline",
    "/admin/reconciliation",
    "/admin/users",
    `/admin/users/${operatorId}`,
    "/admin/withdrawals",
  ];
  for (const path of consolePages) {
    await checkPage(page, violations, path, async (p) => {
      // The console's own feed (the operators room) joined: its scripts ran.
      await expect(p.getByTestId("console-feed")).toHaveAttribute("data-state", "live");
    });
  }
  await page.context().close();
});

test("each answer has a fresh nonce", async ({ request }) => {
  const nonces = new Set<string>();
  for (let i = 0; i < 3; i++) {
    nonces.add(scriptNonce(await request.get(`${baseURL()}/trade/BTC_USDT`)));
  }
  expect(nonces.size).toBe(3);
});
