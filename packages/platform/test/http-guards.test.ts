// The guards every HTTP request of a spotx process passes (service-process.ts guardRequest):
// security headers on every answer, HSTS only over HTTPS (a trusted proxy's word for it),
// bodies over the limit or without a length refused, slow answers cut short, and the client's
// address taken from X-Forwarded-For only when a proxy is trusted.
import http from "node:http";
import { connect } from "node:net";
import { logger } from "@spotx/platform/logger";
import {
  clientAddress,
  DATA_CONTENT_SECURITY_POLICY,
  guardRequest,
  type HttpLimits,
  pagePolicyFor,
} from "@spotx/platform/service-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: http.Server;
let base: string;
let limits: HttpLimits = { maxBodyBytes: 1_024, requestTimeoutMs: 30_000, trustedProxies: 0 };
const seen: Array<string | null> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const csp = req.url?.startsWith("/page")
      ? pagePolicyFor(req, { dev: false })
      : DATA_CONTENT_SECURITY_POLICY;
    if (!guardRequest(req, res, limits, csp, logger("test-http"))) return;
    seen.push(clientAddress(req, limits.trustedProxies));
    if (req.url === "/slow") return; // never answers: the time limit must
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A raw HTTP/1.1 exchange, for requests fetch will not send (chunked bodies, forged headers). */
function raw(request: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.write(request);
  });
}

describe("every answer", () => {
  it("carries the security headers, a data CSP for JSON and a page CSP for pages", async () => {
    const data = await fetch(`${base}/data`);
    expect(data.status).toBe(200);
    expect(data.headers.get("content-security-policy")).toBe(DATA_CONTENT_SECURITY_POLICY);
    expect(data.headers.get("x-content-type-options")).toBe("nosniff");
    expect(data.headers.get("x-frame-options")).toBe("DENY");
    expect(data.headers.get("referrer-policy")).toBe("no-referrer");
    expect(data.headers.get("strict-transport-security")).toBeNull();
    const page = await fetch(`${base}/page`);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/]{22}==' 'strict-dynamic'; /);
    expect(csp).not.toContain("unsafe-eval");
  });

  it("adds HSTS only when a trusted proxy says the client came over HTTPS", async () => {
    const forged = await fetch(`${base}/data`, { headers: { "x-forwarded-proto": "https" } });
    expect(forged.headers.get("strict-transport-security")).toBeNull();
    limits = { ...limits, trustedProxies: 1 };
    try {
      const proxied = await fetch(`${base}/data`, { headers: { "x-forwarded-proto": "https" } });
      expect(proxied.headers.get("strict-transport-security")).toBe(
        "max-age=31536000; includeSubDomains",
      );
    } finally {
      limits = { ...limits, trustedProxies: 0 };
    }
  });
});

describe("the client's address", () => {
  it("is the socket's unless a proxy is trusted, then the one the proxy appended", async () => {
    seen.length = 0;
    await fetch(`${base}/data`, { headers: { "x-forwarded-for": "203.0.113.9" } });
    limits = { ...limits, trustedProxies: 1 };
    try {
      // The client sent 198.51.100.1 itself; the proxy appended what it saw: 203.0.113.7.
      await fetch(`${base}/data`, { headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.7" } });
    } finally {
      limits = { ...limits, trustedProxies: 0 };
    }
    expect(seen).toEqual(["127.0.0.1", "203.0.113.7"]);
  });
});

describe("request limits", () => {
  it("refuses a body over the limit with 413 and a label, before any handler reads it", async () => {
    const response = await fetch(`${base}/data`, { method: "POST", body: "x".repeat(1_025) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      label: "INVALID_PARAM_VALUE",
      message: "the request body is larger than 1024 bytes",
    });
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const fits = await fetch(`${base}/data`, { method: "POST", body: "x".repeat(1_024) });
    expect(fits.status).toBe(200);
  });

  it("refuses a chunked body (no Content-Length) with 411", async () => {
    const answer = await raw(
      "POST /data HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 411/);
    expect(answer).toContain('"label":"MISSING_REQUIRED_HEADER"');
  });

  it("cuts short an answer that takes longer than the time limit with 503", async () => {
    limits = { ...limits, requestTimeoutMs: 300 };
    try {
      const started = Date.now();
      const response = await fetch(`${base}/slow`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ label: "SERVICE_UNAVAILABLE" });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      limits = { ...limits, requestTimeoutMs: 30_000 };
    }
  });
});
