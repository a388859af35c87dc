// A trader's settings, as a person would try them: the chart's candle interval (all 11 the
// backend serves) kept in the URL across a reload; a self-trade-prevention choice under the order
// form's "Advanced", remembered by the browser and carried by the order (which then cancels
// rather than trade with the trader's own resting order); and changing the password, after which
// the other browser is signed out, the old password is refused and the new one signs in.
import { expect, type Page, type Request, test } from "@playwright/test";
import { sql } from "drizzle-orm";
import { exchangeSettings, startMarketMaker } from "../exchange";
import { exchangeDb, userIdOf } from "./console";
import { baseURL, demoDeposit, openMarket, placeLimitOrder, showTab, signUp } from "./trader";

const ALL_INTERVALS = ["10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d", "30d"];

/** The chart's history request (markets.candles over tRPC) for one interval. */
function candlesRequested(page: Page, interval: string): Promise<Request> {
  return page.waitForRequest((request) => {
    const url = decodeURIComponent(request.url());
    return (
      url.includes("/api/trpc/") &&
      url.includes("markets.candles") &&
      url.includes(`"interval":"${interval}"`)
    );
  });
}

const picker = (page: Page) => page.getByRole("group", { name: "Candle interval" });
const intervalRadio = (page: Page, interval: string) =>
  picker(page).getByRole("radio", { name: interval, exact: true });
const pickInterval = (page: Page, interval: string) =>
  picker(page)
    .locator("label", { has: page.locator(`input[value="${interval}"]`) })
    .click();

async function shoot(page: Page, name: string) {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path });
  await test.info().attach(name, { path, contentType: "image/png" });
}

test("the chart offers all 11 intervals; the chosen one is in the URL and survives a reload", async ({
  page,
}) => {
  const firstLoad = candlesRequested(page, "1m");
  await openMarket(page, "BTC_USDT");
  await firstLoad;
  await expect(picker(page).getByRole("radio")).toHaveCount(11);
  for (const interval of ALL_INTERVALS) await expect(intervalRadio(page, interval)).toBeAttached();
  await expect(intervalRadio(page, "1m")).toBeChecked();
  await expect(page).not.toHaveURL(/interval=/);

  // 4h: the address bar says so and the chart asks for 4-hour candles.
  const fourHours = candlesRequested(page, "4h");
  await pickInterval(page, "4h");
  await fourHours;
  await expect(page).toHaveURL(/\/trade\/BTC_USDT\?interval=4h$/);
  await expect(intervalRadio(page, "4h")).toBeChecked();
  await expect(page.getByTestId("candle-chart")).toHaveAttribute("data-interval", "4h");

  // A reload keeps it, and asks for 4h candles again.
  const afterReload = candlesRequested(page, "4h");
  await page.reload();
  await afterReload;
  await expect(intervalRadio(page, "4h")).toBeChecked();
  await expect(page.getByTestId("candle-chart")).toHaveAttribute("data-interval", "4h");

  // Back to the default: the parameter goes.
  await pickInterval(page, "1m");
  await expect(page).toHaveURL(/\/trade\/BTC_USDT$/);

  // An interval the backend does not serve: the default, and no error on the page.
  const fallback = candlesRequested(page, "1m");
  const response = await page.goto(`${baseURL()}/trade/BTC_USDT?interval=2h`);
  expect(response?.status()).toBe(200);
  await fallback;
  await expect(intervalRadio(page, "1m")).toBeChecked();
  await expect(page.getByText("Could not load the candles")).toHaveCount(0);

  // At phone width every interval is on screen and can be tapped.
  await page.setViewportSize({ width: 390, height: 844 });
  await openMarket(page, "BTC_USDT");
  for (const interval of ALL_INTERVALS) {
    const box = await picker(page)
      .locator("label", { has: page.locator(`input[value="${interval}"]`) })
      .boundingBox();
    expect(box, interval).not.toBeNull();
    expect(box?.x ?? -1, interval).toBeGreaterThanOrEqual(0);
    expect((box?.x ?? 0) + (box?.width ?? 0), interval).toBeLessThanOrEqual(390);
    expect(box?.height ?? 0, interval).toBeGreaterThanOrEqual(32);
  }
  const month = candlesRequested(page, "30d");
  await pickInterval(page, "30d");
  await month;
  await expect(page).toHaveURL(/\?interval=30d$/);
});

test("self-trade prevention: chosen under Advanced, remembered, and carried by the order", async ({
  page,
}) => {
  const email = await signUp(page, "stp");
  await demoDeposit(page, "BTC", "1");
  await demoDeposit(page, "USDT", "10000");
  await openMarket(page, "BTC_USDT");
  const form = page.getByTestId("order-form");
  const advanced = form.getByTestId("order-advanced");
  await expect(advanced).toContainText("self-trade prevention off");
  await advanced.getByText("Advanced").click();
  const stp = form.getByLabel("Self-trade prevention");
  await expect(stp).toHaveValue("none");
  await stp.selectOption({ label: "Cancel newest" });
  await expect(advanced).toContainText("this order is cancelled");

  // Remembered by this browser: after a reload the choice is still there.
  await page.reload();
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
  await expect(advanced).toContainText("self-trade: cancel newest");
  await advanced.getByText("Advanced").click();
  await expect(stp).toHaveValue("cn");

  // A resting sell, then a buy at its price: the buy (the newest) is cancelled, not traded.
  await placeLimitOrder(page, {
    side: "Sell",
    base: "BTC",
    quote: "USDT",
    price: "31000",
    amount: "0.01",
  });
  const open = page.getByTestId("open-orders").getByTestId("open-order");
  await expect(open).toHaveCount(1);
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "31000",
    amount: "0.01",
  });
  await showTab(page, "Order history");
  await expect(page.getByTestId("history-order").first()).toContainText("cancelled: self-trade");
  // The resting sell is still the only open order — without a reload: the cancelled buy is not
  // left "pending" by a list fetched before the cancel's push.
  await showTab(page, "Open orders");
  await expect(open).toHaveCount(1);
  await expect(open.first()).toContainText("sell");
  await expect(open.first()).toContainText("31,000.00");

  // Both orders carry stp_act "cn" in the exchange's records.
  const userId = await userIdOf(email);
  const rows = await exchangeDb().execute<{ side: string; stp_act: string; finish_as: string }>(
    sql`SELECT side::text, stp_act::text, finish_as::text FROM orders WHERE user_id = ${userId} ORDER BY id`,
  );
  expect(rows.rows).toEqual([
    { side: "sell", stp_act: "cn", finish_as: "open" },
    { side: "buy", stp_act: "cn", finish_as: "stp" },
  ]);
});

test("change password: other sessions end, the old password is refused, the new one works", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const here = await browser.newContext();
  const elsewhere = await browser.newContext();
  const page = await here.newPage();
  const other = await elsewhere.newPage();
  const email = await signUp(page, "passwd");
  // The same trader signed in in another browser.
  await other.goto(`${baseURL()}/login`);
  await other.getByLabel("Email").fill(email);
  await other.getByLabel("Password").fill("correct horse battery");
  await other.getByRole("button", { name: "Log in" }).click();
  await expect(other).toHaveURL(/\/account$/);

  await page.goto(`${baseURL()}/account/security`);
  const form = page.getByTestId("change-password");
  const submit = form.getByRole("button", { name: "Change password" });
  // The two new passwords must match before anything is sent.
  await form.getByLabel("Current password").fill("correct horse battery");
  await form.getByLabel("New password", { exact: true }).fill("new horse battery staple");
  await form.getByLabel("Repeat the new password").fill("new horse battery stable");
  await submit.click();
  await expect(form).toContainText("The two new passwords do not match.");
  await expect(form.getByTestId("change-password-done")).toHaveCount(0);

  // A wrong current password: the server's refusal, shown with its label.
  await form.getByLabel("Repeat the new password").fill("new horse battery staple");
  await form.getByLabel("Current password").fill("not my password");
  await submit.click();
  await expect(form.getByTestId("change-password-error")).toContainText("INVALID_CREDENTIALS");

  await form.getByLabel("Current password").fill("correct horse battery");
  await submit.click();
  const done = form.getByTestId("change-password-done");
  await expect(done).toContainText("Password changed");
  await expect(done).toContainText("You stay signed in here.");
  await expect(done).toContainText("Signed out everywhere else (1 other session).");

  // This browser is still signed in; the other one is not.
  await page.goto(`${baseURL()}/account`);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  await other.goto(`${baseURL()}/account`);
  await expect(other).toHaveURL(/\/login\?next=\/account$/);

  // Log out; the old password is refused, the new one signs in.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await page.goto(`${baseURL()}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("auth-error")).toContainText("INVALID_CREDENTIALS");
  await page.getByLabel("Password").fill("new horse battery staple");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  await here.close();
  await elsewhere.close();
});

test("screenshots: interval picker, Advanced order options and the password form", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const maker = await startMarketMaker(exchangeSettings(), {
    MARKET_MAKER_MARKETS: "ETH_USDT",
    MARKET_MAKER_INTERVAL_MS: "400",
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    await signUp(page, "settings-screens");
    await demoDeposit(page, "USDT", "25000");
    for (const size of [
      { name: "desktop", width: 1280, height: 800 },
      { name: "phone", width: 390, height: 844 },
    ]) {
      await page.setViewportSize(size);
      await page.goto(`${baseURL()}/trade/ETH_USDT?interval=10s`);
      await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
      await expect(page.getByTestId("tape-trade")).not.toHaveCount(0, { timeout: 15_000 });
      await expect(page.getByTestId("candle-chart").locator("canvas").first()).toBeVisible();
      await expect(intervalRadio(page, "10s")).toBeChecked();
      await picker(page).scrollIntoViewIfNeeded();
      await shoot(page, `trade-intervals-${size.name}`);
      const advanced = page.getByTestId("order-advanced");
      await advanced.getByText("Advanced").click();
      await page.getByTestId("order-form").getByLabel("Self-trade prevention").selectOption("co");
      await page.getByTestId("place-order").scrollIntoViewIfNeeded();
      await shoot(page, `trade-advanced-${size.name}`);
      await page.goto(`${baseURL()}/account/security`);
      const form = page.getByTestId("change-password");
      await form.getByLabel("Current password").fill("correct horse battery");
      await form.getByLabel("New password", { exact: true }).fill("another horse battery");
      await form.getByLabel("Repeat the new password").fill("another horse battery?");
      await form.getByRole("button", { name: "Change password" }).click();
      await expect(form).toContainText("do not match");
      await form.scrollIntoViewIfNeeded();
      await shoot(page, `security-password-${size.name}`);
    }
    expect(violations).toEqual([]);
    await context.close();
  } finally {
    await maker.stop();
  }
});
