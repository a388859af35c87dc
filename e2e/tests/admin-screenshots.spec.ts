// The console as operators see it: every page at 1440×900 (dark; Services also light and at
// phone width), with figures moving — a trader's resting orders and a crossing trade feed the
// charts — saved as test artifacts (README's copies are in docs/screenshots/). Every page runs
// under its Content-Security-Policy without a violation. The pipeline's charts arrive with the
// history the web instances kept before the page was opened; the guards page lists the worker's
// breakers beside the web's.
import { expect, type Page, test } from "@playwright/test";
import { operatorPage } from "./console";
import { baseURL, demoDeposit, openMarket, placeLimitOrder, signUp } from "./trader";

async function shoot(page: Page, name: string) {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: "image/png" });
}

const PAGES = [
  { path: "/admin", name: "admin-services", ready: "services" },
  { path: "/admin/pipeline", name: "admin-pipeline", ready: "kafka-groups" },
  { path: "/admin/guards", name: "admin-guards", ready: "breakers" },
  { path: "/admin/markets", name: "admin-markets", ready: "admin-markets" },
  { path: "/admin/users", name: "admin-users", ready: "users" },
  { path: "/admin/orders", name: "admin-orders", ready: "admin-orders" },
  { path: "/admin/withdrawals", name: "admin-withdrawals", ready: "withdrawals" },
  { path: "/admin/reconciliation", name: "admin-reconciliation", ready: "reconciliation-runs" },
  { path: "/admin/audit", name: "admin-audit", ready: "audit" },
] as const;

test("screenshots of every console page", async ({ browser }) => {
  test.setTimeout(120_000);
  const trader = await (await browser.newContext()).newPage();
  await signUp(trader, "screens-console");
  await demoDeposit(trader, "USDT", "5000");
  await demoDeposit(trader, "BTC", "1");
  await openMarket(trader, "BTC_USDT");
  await placeLimitOrder(trader, {
    side: "Sell",
    base: "BTC",
    quote: "USDT",
    price: "31000",
    amount: "0.01",
  });
  await placeLimitOrder(trader, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "29000",
    amount: "0.02",
  });
  await placeLimitOrder(trader, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "31000",
    amount: "0.005",
  });

  const page = await operatorPage(browser);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  // The charts are drawn on arrival from the server's history: points older than the page.
  const loadedAt = Date.now();
  await page.goto(`${baseURL()}/admin/pipeline`);
  const history = page.getByTestId("pipeline-history");
  await expect
    .poll(async () => Number(await history.getAttribute("data-from")), { timeout: 15_000 })
    .toBeGreaterThan(0);
  expect(Number(await history.getAttribute("data-from"))).toBeLessThan(loadedAt);
  await expect(page.getByTestId("chart-lag")).toContainText("settlement p0");
  // Three samples at least: lines, not dots, in the picture.
  await expect
    .poll(async () => Number(await page.getByTestId("chart-lag").getAttribute("data-points")), {
      timeout: 15_000,
    })
    .toBeGreaterThanOrEqual(3);

  for (const shown of PAGES) {
    await page.goto(`${baseURL()}${shown.path}`);
    await expect(page.getByTestId(shown.ready).locator("tbody tr").first()).toBeVisible();
    await expect(page.getByTestId(shown.ready).locator("[aria-busy='true']")).toHaveCount(0);
    if (shown.name === "admin-guards") {
      // The worker's pipeline breakers: settlement's PostgreSQL (the trades above settled).
      await expect(
        page.locator("[data-testid='breaker-row'][data-kind='worker'][data-dependency='postgres']"),
      ).toBeVisible({ timeout: 15_000 });
    }
    await shoot(page, shown.name);
  }
  const user = page.getByTestId("users").getByRole("link").first();
  await page.goto(`${baseURL()}/admin/users`);
  await user.click();
  await expect(page.getByTestId("user-balances")).toBeVisible();
  await shoot(page, "admin-user");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${baseURL()}/admin`);
  await expect(page.getByTestId("services").locator("tbody tr").first()).toBeVisible();
  await shoot(page, "admin-services-phone");
  await page.context().addCookies([{ name: "spotx_theme", value: "light", url: baseURL() }]);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${baseURL()}/admin/pipeline`);
  await expect(page.getByTestId("kafka-groups").locator("tbody tr").first()).toBeVisible();
  await shoot(page, "admin-pipeline-light");
  expect(violations).toEqual([]);
  await trader.context().close();
  await page.context().close();
});
