// Two-factor sign-in in the browser: a trader turns it on from the account page's Security panel
// (password, QR code, the secret as text, ten recovery codes, then the app's first code — here
// computed from the secret the page shows, as an authenticator app would), after which a new API
// key asks for a code and logging in takes a second step; and an operator without it is sent by
// the console to enrol first, and lands in the console once enrolled.
import { randomBytes } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import { hashPassword, schema } from "@spotx/db";
import { exchangeDb } from "./console";
import { baseURL, newEmail, signUp } from "./trader";
import { freshCode } from "./two-factor";

const PASSWORD = "correct horse battery";

/** Enrols from the Security panel on this page; answers the secret the page showed. */
async function enrol(page: Page, email: string, password: string): Promise<string> {
  const panel = page.getByTestId("security-panel");
  await panel.getByLabel("Your password").fill(password);
  await panel.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
  const qr = panel.getByTestId("two-factor-qr");
  await expect(qr).toBeVisible();
  // The QR code is an image the browser could decode (an SVG data URL made by the server).
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(
    true,
  );
  const secret = (await panel.getByTestId("two-factor-secret").textContent()) ?? "";
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expect(panel.getByTestId("recovery-codes").locator("li")).toHaveCount(10);
  // A wrong code is refused and says so; the app's current one turns it on.
  await panel.getByLabel("Code from your authenticator app").fill("000000");
  await panel.getByRole("button", { name: "Confirm and turn on" }).click();
  await expect(panel.getByTestId("security-error")).toContainText("INVALID_TWO_FACTOR_CODE");
  await panel.getByLabel("Code from your authenticator app").fill(await freshCode(secret, email));
  await panel.getByRole("button", { name: "Confirm and turn on" }).click();
  return secret;
}

test("a trader turns on two-factor sign-in and signs in again with a code", async ({ page }) => {
  test.setTimeout(60_000);
  const email = await signUp(page, "two-factor");
  const secret = await enrol(page, email, PASSWORD);
  const panel = page.getByTestId("security-panel");
  await expect(panel).toContainText("two-factor on");
  await expect(panel).toContainText("10 of 10 recovery codes left");
  // A new API key now asks for a code.
  await expect(page.getByTestId("api-key-form").getByLabel("Code")).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await page.goto(`${baseURL()}/login?next=/account`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  // The password alone signs nobody in: the second step asks for the app's code.
  const codeForm = page.getByTestId("login-code-form");
  await expect(codeForm).toBeVisible();
  const cookies = (await page.context().cookies(baseURL())).map((cookie) => cookie.name);
  expect(cookies).not.toContain("spotx_session");
  await codeForm.getByLabel("Code from your authenticator app").fill("123456");
  await codeForm.getByRole("button", { name: "Verify and log in" }).click();
  await expect(page.getByTestId("auth-error")).toContainText("INVALID_TWO_FACTOR_CODE");
  await codeForm
    .getByLabel("Code from your authenticator app")
    .fill(await freshCode(secret, email));
  await codeForm.getByRole("button", { name: "Verify and log in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
});

test("an operator without two-factor sign-in is sent from the console to enrol, then let in", async ({
  page,
}) => {
  test.setTimeout(60_000);
  const email = newEmail("operator");
  const password = `op-${randomBytes(6).toString("hex")}`;
  await exchangeDb()
    .insert(schema.users)
    .values({ email, passwordHash: await hashPassword(password), role: "operator" });
  await page.goto(`${baseURL()}/admin`);
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin$/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  // Signed in by the password alone: the console sends the operator to turn it on first.
  await expect(page).toHaveURL(/\/account\/security\?next=%2Fadmin$/);
  await expect(page.getByTestId("security-panel")).toContainText(
    "Operators need two-factor sign-in",
  );
  const api = await page.request.get(`${baseURL()}/api/trpc/admin.services`);
  expect(api.status()).toBe(403);
  expect(await api.text()).toContain("TWO_FACTOR_REQUIRED");
  await enrol(page, email, password);
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Services" })).toBeVisible();
});
