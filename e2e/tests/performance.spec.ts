// The trade page's weight and speed on localhost, in Chromium against the production build:
// the JavaScript it loads must stay under 300 KB gzipped (checked; the size is deterministic),
// and the time until it is interactive — the trade view hydrated, marked
// `spotx:trade-interactive` — is printed and attached (a figure, not a gate: the machine is
// shared, so timings vary).
import { gzipSync } from "node:zlib";
import { expect, test } from "@playwright/test";
import { baseURL } from "./trader";

test("the trade page loads under 300 KB of gzipped JavaScript; time to interactive is reported", async ({
  page,
}) => {
  const scripts = new Map<string, number>();
  page.on("response", async (response) => {
    const url = response.url();
    if (response.request().resourceType() !== "script") return;
    const body = await response.body().catch(() => null);
    if (body) scripts.set(url, gzipSync(body, { level: 9 }).length);
  });
  // Warm the server's render once, then measure a fresh load.
  await page.goto(`${baseURL()}/trade/BTC_USDT`);
  await page.goto("about:blank");
  scripts.clear();
  await page.goto(`${baseURL()}/trade/BTC_USDT`);
  await page.waitForFunction(
    () => performance.getEntriesByName("spotx:trade-interactive").length > 0,
  );
  await expect(page.getByTestId("candle-chart").locator("canvas").first()).toBeVisible();
  await page.waitForLoadState("networkidle");
  const timing = await page.evaluate(() => {
    const mark = performance.getEntriesByName("spotx:trade-interactive")[0];
    const nav = performance.getEntriesByType("navigation")[0] as
      | PerformanceNavigationTiming
      | undefined;
    return {
      interactiveMs: Math.round(mark?.startTime ?? -1),
      domContentLoadedMs: Math.round(nav?.domContentLoadedEventEnd ?? -1),
    };
  });
  const totalBytes = [...scripts.values()].reduce((a, b) => a + b, 0);
  const report = {
    scripts: scripts.size,
    gzippedKB: Math.round(totalBytes / 102.4) / 10,
    ...timing,
  };
  console.log(`trade page: ${JSON.stringify(report)}`);
  await test.info().attach("trade-page-figures", {
    body: JSON.stringify(report, null, 2),
    contentType: "application/json",
  });
  expect(scripts.size).toBeGreaterThan(0);
  expect(totalBytes).toBeLessThan(300 * 1024);
});
