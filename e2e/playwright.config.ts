// End-to-end tests drive the real app (production build, real stack) in Debian's Chromium.
// The browser is never downloaded: Playwright launches /usr/bin/chromium.
import { defineConfig } from "@playwright/test";

const resultsDir = process.env.SPOTX_TEST_RESULTS;

export default defineConfig({
  testDir: "tests",
  globalSetup: "./global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: resultsDir
    ? [["list"], ["json", { outputFile: `${resultsDir}/e2e.json` }]]
    : [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
