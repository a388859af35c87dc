// /health, /ready and /metrics as every process serves them (service-endpoints.ts): up or down
// for anyone, the detail and the metrics for the internal networks and the metrics token, and
// /ready from one probe shared by a burst of callers — over the process's own clients, never a
// connection per call.
import http from "node:http";
import { metrics } from "@spotx/platform/metrics";
import {
  isInternalAddress,
  mayReadOperationalDetail,
  type OperationalAccess,
} from "@spotx/platform/operational-access";
import { serveServiceEndpoint } from "@spotx/platform/service-endpoints";
import { clientAddress } from "@spotx/platform/service-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresPool } from "../src/postgres";

const PRIVATE = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
let access: OperationalAccess = {
  internalNetworks: PRIVATE,
  metricsToken: "a-token-of-sixteen-or-more",
  trustedProxies: 0,
};
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    void serveServiceEndpoint(
      req,
      res,
      { kind: "test", id: "t1", startedAt: "2026-01-01T00:00:00Z" },
      () => [],
      (request) =>
        mayReadOperationalDetail(request, clientAddress(request, access.trustedProxies), access),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await postgresPool().end();
});

async function probesRun(): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString("spotx_readiness_probes_total");
  return Number(/^spotx_readiness_probes_total (\d+)/m.exec(text)?.[1] ?? "0");
}

describe("/ready", () => {
  it("answers a burst of 300 concurrent calls from one probe of the four servers", async () => {
    // Past the cache of any earlier call.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = await probesRun();
    const answers = await Promise.all(
      Array.from({ length: 300 }, () => fetch(`${base}/ready`).then((r) => r.status)),
    );
    expect(answers.every((status) => status === 200)).toBe(true);
    expect((await probesRun()) - before).toBe(1);
  });

  it("shows the dependencies to an internal client, and only up or down beyond a proxy", async () => {
    const inside = (await (await fetch(`${base}/ready`)).json()) as Record<string, unknown>;
    expect(Object.keys(inside)).toEqual(
      expect.arrayContaining(["status", "kind", "id", "dependencies", "stages"]),
    );
    expect(JSON.stringify(inside.dependencies)).toMatch(/PostgreSQL \d+/);
    const outside = await fetch(`${base}/ready`, {
      headers: { "x-forwarded-for": "198.51.100.4" },
    });
    expect(await outside.json()).toEqual({ status: "ready" });
    const health = await fetch(`${base}/health`, {
      headers: { "x-forwarded-for": "198.51.100.4" },
    });
    expect(await health.json()).toEqual({ status: "ok" });
  });
});

describe("/metrics", () => {
  it("refuses an outside client without the token, and serves it with the token", async () => {
    access = { ...access, trustedProxies: 1 };
    try {
      const outside = { "x-forwarded-for": "198.51.100.4" };
      const refused = await fetch(`${base}/metrics`, { headers: outside });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { label: string }).label).toBe("FORBIDDEN");
      const token = await fetch(`${base}/metrics`, {
        headers: { ...outside, authorization: "Bearer a-token-of-sixteen-or-more" },
      });
      expect(token.status).toBe(200);
      // Behind a trusted proxy, a client on the private network is internal.
      const inside = await fetch(`${base}/metrics`, { headers: { "x-forwarded-for": "10.1.2.3" } });
      expect(inside.status).toBe(200);
    } finally {
      access = { ...access, trustedProxies: 0 };
    }
  });

  it("refuses everyone but the token holder when no network is internal", async () => {
    access = { ...access, internalNetworks: [] };
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(403);
      const token = await fetch(`${base}/metrics`, {
        headers: { authorization: "bearer a-token-of-sixteen-or-more" },
      });
      expect(token.status).toBe(200);
    } finally {
      access = { ...access, internalNetworks: PRIVATE };
    }
  });
});

describe("isInternalAddress", () => {
  it("matches loopback, the private ranges and IPv4-mapped addresses, not public ones", () => {
    expect(isInternalAddress("127.0.0.1", PRIVATE)).toBe(true);
    expect(isInternalAddress("::ffff:192.168.1.9", PRIVATE)).toBe(true);
    expect(isInternalAddress("::1", PRIVATE)).toBe(true);
    expect(isInternalAddress("172.32.0.1", PRIVATE)).toBe(false);
    expect(isInternalAddress("8.8.8.8", PRIVATE)).toBe(false);
    expect(isInternalAddress("2001:db8::1", PRIVATE)).toBe(false);
    expect(isInternalAddress(null, PRIVATE)).toBe(false);
    expect(isInternalAddress("not an address", PRIVATE)).toBe(false);
  });
});
