// The Content-Security-Policy of the web's pages (service-process.ts pagePolicyFor): scripts
// run only by this answer's nonce (no 'unsafe-inline'), connections go to this origin only,
// and each answer has a nonce of its own — the same one the request hands to Next.js, which
// reads it from the request's CSP header and puts it on the page's scripts.
import http from "node:http";
import { logger } from "@spotx/platform/logger";
import {
  guardRequest,
  pageContentSecurityPolicy,
  pagePolicyFor,
  scriptNonce,
} from "@spotx/platform/service-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The policy's directives by name: "script-src 'self' x" → ["'self'", "x"]. */
function directives(policy: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const directive of policy.split(";")) {
    const [name, ...sources] = directive.trim().split(/\s+/);
    if (name) byName.set(name, sources);
  }
  return byName;
}

function nonceOf(policy: string): string | undefined {
  const source = directives(policy)
    .get("script-src")
    ?.find((s) => s.startsWith("'nonce-"));
  return source?.slice("'nonce-".length, -1);
}

let server: http.Server;
let base: string;

beforeAll(async () => {
  // Answers with the CSP header the request carried when it reached the handler (Next.js's
  // place), beside the policy the answer itself carries.
  server = http.createServer((req, res) => {
    const limits = { maxBodyBytes: 1_024, requestTimeoutMs: 30_000, trustedProxies: 0 };
    const policy = pagePolicyFor(req, { dev: false });
    if (!guardRequest(req, res, limits, policy, logger("test-page-csp"))) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        csp: req.headers["content-security-policy"] ?? null,
        reportOnly: req.headers["content-security-policy-report-only"] ?? null,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("a page's Content-Security-Policy", () => {
  const nonce = "q83vEjRWeJCrze8SNFZ4kA==";

  it("runs scripts by nonce and 'strict-dynamic' only: no 'unsafe-inline', no 'unsafe-eval'", () => {
    const policy = directives(pageContentSecurityPolicy({ dev: false, nonce }));
    expect(policy.get("script-src")).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("lets pages connect to this origin only (no ws: or wss: to any host)", () => {
    const policy = directives(pageContentSecurityPolicy({ dev: false, nonce }));
    expect(policy.get("connect-src")).toEqual(["'self'"]);
    expect(policy.get("default-src")).toEqual(["'self'"]);
  });

  it("adds 'unsafe-eval' in development only, still without 'unsafe-inline'", () => {
    const dev = directives(pageContentSecurityPolicy({ dev: true, nonce }));
    expect(dev.get("script-src")).toEqual([
      "'self'",
      `'nonce-${nonce}'`,
      "'strict-dynamic'",
      "'unsafe-eval'",
    ]);
  });

  it("refuses a nonce that is not 16 bytes of base64 (it would break out of the policy)", () => {
    expect(() => pageContentSecurityPolicy({ dev: false, nonce: "abc' 'unsafe-inline" })).toThrow(
      "a script nonce is 16 bytes in base64",
    );
    expect(() => pageContentSecurityPolicy({ dev: false, nonce: "" })).toThrow();
  });

  it("draws a nonce of 128 random bits each time", () => {
    const nonces = new Set(Array.from({ length: 1_000 }, () => scriptNonce()));
    expect(nonces.size).toBe(1_000);
    for (const n of nonces) expect(Buffer.from(n, "base64")).toHaveLength(16);
  });
});

describe("each page answer", () => {
  it("gets a fresh nonce, and hands Next.js the very policy the answer carries", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/trade/BTC_USDT`);
      const answered = response.headers.get("content-security-policy") ?? "";
      const handed = (await response.json()) as { csp: string };
      expect(handed.csp).toBe(answered);
      const nonce = nonceOf(answered);
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      seen.push(nonce ?? "");
    }
    expect(new Set(seen).size).toBe(3);
  });

  it("replaces a CSP the client put in its request: a nonce of its choosing never reaches Next.js", async () => {
    const chosen = "script-src 'nonce-AAAAAAAAAAAAAAAAAAAAAA=='";
    const response = await fetch(`${base}/`, {
      headers: {
        "content-security-policy": chosen,
        "content-security-policy-report-only": chosen,
      },
    });
    const handed = (await response.json()) as { csp: string; reportOnly: string | null };
    expect(handed.csp).toBe(response.headers.get("content-security-policy"));
    expect(handed.csp).not.toContain("AAAAAAAAAAAAAAAAAAAAAA==");
    expect(handed.reportOnly).toBeNull();
  });
});
