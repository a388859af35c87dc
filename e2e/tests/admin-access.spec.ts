// Only operators reach the console: a visitor is sent to log in (and back to /admin after), a
// signed-in trader is answered 403 and cannot join the operators room on socket.io, while the
// operator's own browser can. The room is probed from inside each browser, with its own cookie
// and Origin, speaking socket.io's protocol.
import { expect, test } from "@playwright/test";
import { joinOperatorRoom, logIn } from "./console";
import { baseURL, signUp } from "./trader";

test("a visitor who is not signed in is sent to log in, and back to the console after", async ({
  page,
}) => {
  await page.goto(`${baseURL()}/admin/pipeline`);
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin$/);
});

test("a trader gets 403 at /admin and is refused the operators room", async ({ page }) => {
  await signUp(page, "not-an-operator");
  const answer = await page.goto(`${baseURL()}/admin`);
  expect(answer?.status()).toBe(403);
  await expect(page.getByTestId("console-forbidden")).toContainText("Operators only");
  await expect(page.getByTestId("services")).toHaveCount(0);
  expect(await joinOperatorRoom(page)).toEqual({
    ok: false,
    error: { label: "FORBIDDEN", message: expect.stringContaining("operators only") },
  });
  // The admin API refuses the trader too.
  const api = await page.request.get(`${baseURL()}/api/trpc/admin.services`);
  expect(api.status()).toBe(403);
});

test("the operator opens the console and joins the operators room", async ({ browser }) => {
  const context = await browser.newContext();
  await logIn(context, "operator@spotx.dev", "operator-demo");
  const page = await context.newPage();
  const answer = await page.goto(`${baseURL()}/admin`);
  expect(answer?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Services" })).toBeVisible();
  expect(await joinOperatorRoom(page)).toEqual({ ok: true });
  await context.close();
});
