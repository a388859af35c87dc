// The production web server as a trading program and a browser meet it: gate.io's API answers
// under /api/v4 and /ws/v4/ beside the pages, every answer carries the security headers, and
// the page still hydrates and goes live under its Content-Security-Policy (no violations).
import { expect, test } from "@playwright/test";

const baseURL = () => {
  const url = process.env.E2E_BASE_URL;
  if (!url) throw new Error("E2E_BASE_URL is not set; global-setup did not run");
  return url;
};

test("gate.io's REST API answers beside the pages, with its headers", async ({ request }) => {
  const pairs = await request.get(`${baseURL()}/api/v4/spot/currency_pairs`);
  expect(pairs.status()).toBe(200);
  // The seeded pairs (the listing spec may have listed and delisted one more before this).
  expect((await pairs.json()).map((p: { id: string }) => p.id)).toEqual(
    expect.arrayContaining(["BTC_USDT", "ETH_USDT"]),
  );
  const headers = pairs.headers();
  expect(headers["content-security-policy"]).toContain("default-src 'none'");
  expect(Number(headers["x-gate-ratelimit-limit"])).toBeGreaterThan(0);
  const unsigned = await request.get(`${baseURL()}/api/v4/spot/accounts`);
  expect(unsigned.status()).toBe(401);
  expect(await unsigned.json()).toMatchObject({ label: "MISSING_REQUIRED_HEADER" });
});

test("the WebSocket API answers spot.ping in a browser", async ({ page }) => {
  await page.goto(baseURL());
  const ws = baseURL().replace(/^http/, "ws");
  const pong = await page.evaluate(
    (url) =>
      new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(`${url}/ws/v4/`);
        socket.onerror = () => reject(new Error("WebSocket failed"));
        socket.onopen = () =>
          socket.send(
            JSON.stringify({ time: Math.floor(Date.now() / 1000), channel: "spot.ping" }),
          );
        socket.onmessage = (event) => {
          resolve(JSON.parse(String(event.data)).channel);
          socket.close();
        };
      }),
    ws,
  );
  expect(pong).toBe("spot.pong");
});

test("pages carry the security headers and run under their CSP without violations", async ({
  page,
}) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto(baseURL());
  const headers = response?.headers() ?? {};
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["content-security-policy"]).not.toContain("unsafe-eval");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");
  // Hydrated and refetched through tRPC in the browser: scripts and connections were allowed.
  await expect(page.getByTestId("markets")).toHaveAttribute("data-state", "live");
  expect(violations).toEqual([]);
  const health = await page.request.get(`${baseURL()}/health`);
  expect(health.headers()["x-frame-options"]).toBe("DENY");
});
