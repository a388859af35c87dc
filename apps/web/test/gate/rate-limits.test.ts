// The REST API's rate limits as configured in etcd: the configured number of requests pass, the
// next is 429 TOO_MANY_REQUESTS with Retry-After and gate.io's X-Gate-RateLimit-* headers, the
// refusal is counted by class, and a new setting applies at once. A WebSocket connection spends
// from the same per-IP budget.
import { putRateLimitSettings, rateLimitMetrics } from "@spotx/api/guards/rate-limits";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type GateExchange, type GateKey, SignedClient, startGateExchange } from "./gate-exchange";

let gx: GateExchange;
let trader: GateKey;

beforeAll(async () => {
  gx = await startGateExchange({ worker: false, cancelWaitMs: 100 });
  trader = await gx.trader({ funds: { USDT: 1_000_000_000n } });
});
afterAll(async () => {
  await gx?.stop();
});

async function limitsApplied(limit: string) {
  const anon = new SignedClient(gx.baseUrl, null);
  const deadline = Date.now() + 5_000;
  // Each probe spends one request: callers size their budgets with that in mind.
  while ((await anon.get("/spot/currency_pairs")).headers.get("x-gate-ratelimit-limit") !== limit) {
    if (Date.now() > deadline) throw new Error(`rate limit ${limit} never applied`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function rejections(endpointClass: string) {
  const metric = await rateLimitMetrics.rejections.get();
  return metric.values
    .filter((v) => v.labels.class === endpointClass)
    .reduce((sum, v) => sum + v.value, 0);
}

describe("rate limits on the REST API", () => {
  it("answers 429 with gate.io's headers once a user's order budget is spent", async () => {
    await putRateLimitSettings(gx.exchange.etcd, gx.exchange.names, {
      orders: { user: { points: 5, duration: 30 } },
      reads: { ip: { points: 1_000, duration: 30 } },
    });
    await limitsApplied("1000");
    const client = new SignedClient(gx.baseUrl, trader);
    const before = await rejections("orders");
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<SignedClient["post"]>> | null = null;
    for (let i = 0; i < 7; i++) {
      const answer = await client.post("/spot/orders", {
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.001",
        price: `${20_000 + i}`,
      });
      statuses.push(answer.status);
      if (answer.status === 429) refused ??= answer;
      else expect(answer.headers.get("x-gate-ratelimit-limit")).toBe("5");
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
    if (!refused) throw new Error("no refusal");
    expect(refused.body).toEqual({
      label: "TOO_MANY_REQUESTS",
      message: expect.stringContaining("too many orders requests"),
    });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(25);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(refused.headers.get("x-gate-ratelimit-limit")).toBe("5");
    expect(refused.headers.get("x-gate-ratelimit-requests-remain")).toBe("0");
    const reset = Number(refused.headers.get("x-gate-ratelimit-reset-timestamp"));
    expect(reset).toBeGreaterThan(Date.now() + 25_000);
    expect(reset).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(await rejections("orders")).toBe(before + 2);
    // Reads are another class: still allowed.
    expect((await client.get("/spot/accounts")).status).toBe(200);
  });

  it("limits public reads per IP, and a raised limit applies without a restart", async () => {
    await putRateLimitSettings(gx.exchange.etcd, gx.exchange.names, {
      reads: { ip: { points: 12, duration: 30 } },
    });
    await limitsApplied("12");
    // A fresh window for this address: earlier requests (and the probes) counted against it.
    const counters = await gx.redis.keys(`${gx.exchange.names.namespace}:rl:*`);
    if (counters.length > 0) await gx.redis.del(...counters);
    const anon = new SignedClient(gx.baseUrl, null);
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await anon.get("/spot/time")).status);
    expect(statuses).toEqual([...Array(12).fill(200), 429, 429]);
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${gx.url.replace("http", "ws")}/ws/v4/`);
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => {
        ws.close();
        resolve(101);
      });
    });
    expect(upgrade).toBe(429);

    await putRateLimitSettings(gx.exchange.etcd, gx.exchange.names, {
      reads: { ip: { points: 500, duration: 30 } },
    });
    await limitsApplied("500");
    expect((await anon.get("/spot/time")).status).toBe(200);
  });
});
