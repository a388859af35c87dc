// Measures what the gate.io REST front door costs before any endpoint runs: the same three
// routes served by the plain node:http router spotx ships (GateRouter + raw body + JSON answer)
// and by Hono on its Node adapter. Each answers without I/O, so the difference is the handler's
// own overhead. Same process, same keep-alive client, 32 requests in flight, after a warm-up.
// `npm run bench -w @spotx/api`; prints a table and one JSON line.
import { createHash } from "node:crypto";
import http from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { GateRouter } from "../src/gate/routes";

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 20_000);
const WARMUP = 2_000;
const IN_FLIGHT = 32;
const ORDER = JSON.stringify({
  currency_pair: "BTC_USDT",
  type: "limit",
  account: "spot",
  side: "buy",
  amount: "0.01",
  price: "30000",
  text: "t-bench",
  time_in_force: "gtc",
});

type Scenario = { name: string; method: string; path: string; body?: string };
const scenarios: Scenario[] = [
  { name: "GET /spot/time", method: "GET", path: "/api/v4/spot/time" },
  {
    name: "GET /spot/orders/{id}",
    method: "GET",
    path: "/api/v4/spot/orders/12345?currency_pair=BTC_USDT",
  },
  {
    name: "POST /spot/orders (body hashed)",
    method: "POST",
    path: "/api/v4/spot/orders",
    body: ORDER,
  },
];

/** spotx's way: node:http, the route table, the raw bytes. */
function plainHandler(): http.RequestListener {
  const router = new GateRouter();
  return (req, res) => {
    const url = req.url ?? "/";
    const mark = url.indexOf("?");
    const path = mark === -1 ? url : url.slice(0, mark);
    const match = router.match(req.method ?? "GET", path.slice("/api/v4".length));
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const hash = createHash("sha512").update(raw).digest("hex");
      const body = match.found
        ? JSON.stringify({
            route: match.route.path,
            params: match.params,
            hash: hash.slice(0, 8),
            server_time: Date.now(),
          })
        : JSON.stringify({ label: "NOT_FOUND", message: "no endpoint" });
      res.writeHead(match.found ? (req.method === "POST" ? 201 : 200) : 404, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
      });
      res.end(body);
    });
  };
}

/** The contender: Hono's router and Web Request/Response on its Node adapter. */
function honoHandler(): http.RequestListener {
  const app = new Hono().basePath("/api/v4");
  const answer = async (c: import("hono").Context, route: string, status: 200 | 201) => {
    // A GET has no body to read (the signature hashes the empty string): spare Hono the stream.
    const raw =
      c.req.method === "GET" ? new Uint8Array() : new Uint8Array(await c.req.arrayBuffer());
    const hash = createHash("sha512").update(raw).digest("hex");
    return c.json(
      { route, params: c.req.param(), hash: hash.slice(0, 8), server_time: Date.now() },
      status,
    );
  };
  app.get("/spot/time", (c) => answer(c, "/spot/time", 200));
  app.get("/spot/orders/:order_id", (c) => answer(c, "/spot/orders/{order_id}", 200));
  app.post("/spot/orders", (c) => answer(c, "/spot/orders", 201));
  app.notFound((c) => c.json({ label: "NOT_FOUND", message: "no endpoint" }, 404));
  return getRequestListener(app.fetch);
}

async function load(port: number, scenario: Scenario, count: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const latencies: number[] = [];
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: scenario.method,
          path: scenario.path,
          agent,
          headers: scenario.body
            ? {
                "content-type": "application/json",
                "content-length": Buffer.byteLength(scenario.body),
              }
            : {},
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.on("error", reject);
      req.end(scenario.body);
    });
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        next += 1;
        await one();
      }
    }),
  );
  agent.destroy();
  return latencies;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function measure(name: string, listener: http.RequestListener) {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const results = [];
  for (const scenario of scenarios) {
    await load(port, scenario, WARMUP);
    const started = performance.now();
    const latencies = (await load(port, scenario, TOTAL)).sort((a, b) => a - b);
    const seconds = (performance.now() - started) / 1000;
    results.push({
      handler: name,
      scenario: scenario.name,
      requestsPerSecond: Math.round(TOTAL / seconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(3)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(3)),
    });
  }
  await new Promise((resolve) => server.close(resolve));
  return results;
}

// Both orders are measured (plain first, then Hono first) so neither gains from running second
// on a warmer process.
const results = [];
for (const order of [
  ["plain", "hono"],
  ["hono", "plain"],
] as const) {
  for (const which of order) {
    results.push(
      ...(which === "plain"
        ? await measure("node:http + GateRouter", plainHandler())
        : await measure("hono + @hono/node-server", honoHandler())),
    );
  }
}
console.table(results);
console.log(JSON.stringify({ requests: TOTAL, inFlight: IN_FLIGHT, results }));
