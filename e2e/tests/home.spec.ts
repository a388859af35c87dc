// A visitor opening spotx sees the exchange's markets, and the page stays connected.
import { expect, test } from "@playwright/test";

const baseURL = () => {
  const url = process.env.E2E_BASE_URL;
  if (!url) throw new Error("E2E_BASE_URL is not set; global-setup did not run");
  return url;
};

test("the home page lists the seeded markets from PostgreSQL", async ({ page }) => {
  await page.goto(baseURL());
  await expect(page).toHaveTitle("spotx");

  const btc = page.getByTestId("market-BTC_USDT");
  await expect(btc.getByRole("rowheader")).toHaveText("BTC/USDT");
  await expect(btc).toContainText("trading");
  await expect(page.getByTestId("market-ETH_USDT").getByRole("rowheader")).toHaveText("ETH/USDT");

  // The client component refetched the list through tRPC and the socket is connected.
  await expect(page.getByTestId("markets")).toHaveAttribute("data-state", "live");
  await expect(page.getByText("Live.", { exact: true })).toBeVisible();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");

  // Search narrows the list; a row opens its market's trade page.
  await page.getByLabel("Search markets").fill("eth");
  await expect(btc).toBeHidden();
  await page.getByRole("link", { name: "ETH/USDT" }).click();
  await expect(page).toHaveURL(/\/trade\/ETH_USDT$/);
  await expect(page.getByTestId("trade-page")).toHaveAttribute("data-market", "ETH_USDT");
});

test("the web server reports itself alive and its four servers ready", async ({ request }) => {
  const health = await request.get(`${baseURL()}/health`);
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: "ok", kind: "web" });

  const ready = await request.get(`${baseURL()}/ready`);
  expect(ready.status()).toBe(200);
  const body = await ready.json();
  for (const dependency of ["postgres", "redis", "etcd", "kafka"]) {
    expect(body.dependencies[dependency]).toMatchObject({ ok: true });
  }
});
