// The account page end to end: a withdrawal request held at once and listed as pending; an API
// key created with permissions, its secret shown once with a copy button — and good for a
// signed gate.io request until it is revoked; the ledger showing each movement; logging out and
// back in.
import { createHash, createHmac } from "node:crypto";
import { expect, test } from "@playwright/test";
import { balanceOf, baseURL, demoDeposit, signUp } from "./trader";

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

test("withdrawal, API key shown once and revoked, ledger, log out and in", async ({ browser }) => {
  test.setTimeout(60_000);
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL() });
  const page = await context.newPage();
  const email = await signUp(page, "account");
  await demoDeposit(page, "USDT", "500");

  // A withdrawal: held at once, pending until an operator decides.
  const withdrawal = page.getByTestId("withdrawal-form");
  await withdrawal.getByLabel("Asset").selectOption("USDT");
  await withdrawal.getByLabel(/^Amount/).fill("100");
  await withdrawal.getByLabel("Destination address").fill("e2e-destination-1");
  await withdrawal.getByRole("button", { name: "Request" }).click();
  const listed = page.getByTestId("withdrawals").getByTestId("withdrawal");
  await expect(listed).toHaveCount(1);
  await expect(listed.first()).toContainText("pending");
  await expect(listed.first()).toContainText("100.000000 USDT");
  await expect(balanceOf(page, "USDT").available).toHaveAttribute("data-value", "400");
  await expect(balanceOf(page, "USDT").locked).toHaveAttribute("data-value", "100");

  // An API key with read and trade: the secret once, copyable.
  const keyForm = page.getByTestId("api-key-form");
  await keyForm.getByLabel("Label").fill("e2e bot");
  await keyForm.getByLabel("Trade").check();
  await keyForm.getByRole("button", { name: "Create key" }).click();
  const dialog = page.getByTestId("api-key-secret");
  await expect(dialog).toBeVisible();
  const key = (await dialog.getByTestId("created-key").textContent()) ?? "";
  const secret = (await dialog.getByTestId("created-secret").textContent()) ?? "";
  expect(key).toMatch(/^[0-9a-f]{32}$/);
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  await dialog.getByRole("button", { name: "Copy" }).nth(1).click();
  await expect(dialog.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await dialog.getByRole("button", { name: "I have stored the secret" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(secret)).toHaveCount(0);
  const row = page.getByTestId("api-keys").getByTestId("api-key");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("e2e bot");
  await expect(row).toContainText("read, trade");

  // The key works for a trading program…
  const answer = await signedAccounts(key, secret);
  expect(answer.status).toBe(200);
  const accounts = (await answer.json()) as {
    currency: string;
    available: string;
    locked: string;
  }[];
  expect(accounts.find((a) => a.currency === "USDT")).toMatchObject({
    available: "400",
    locked: "100",
  });
  // …until it is revoked.
  await row.getByRole("button", { name: `Revoke key ${key}` }).click();
  await expect(row).toContainText("revoked");
  const refused = await signedAccounts(key, secret);
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ label: "INVALID_KEY" });

  // The ledger shows the deposit and the withdrawal's hold.
  const ledger = page.getByTestId("ledger");
  await expect(ledger).toContainText("Withdrawal hold");
  await expect(ledger).toContainText("Deposit");

  // Log out, find the account page closed, log in again.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await page.goto(`${baseURL()}/account`);
  await expect(page).toHaveURL(/\/login\?next=\/account$/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("auth-error")).toContainText("INVALID_CREDENTIALS");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(balanceOf(page, "USDT").available).toHaveAttribute("data-value", "400");
  await context.close();
});
