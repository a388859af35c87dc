// The gate.io API v4 REST front door (/api/v4/…) as a node:http handler, in front of Next.js on
// the web's server (see docs/decisions/003 for why plain node:http). Per request: find the
// route, spend the caller's IP budget, read the raw body (bounded), authenticate a signed route
// over the raw bytes, check the key's permission and the user's standing, spend the user's and
// the key's budgets, run the endpoint, answer JSON. Every answer carries gate.io's
// X-Gate-RateLimit-* headers; every failure is `{label, message}` (errors.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import { processSingleton } from "@spotx/platform";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import {
  type RateLimitClass,
  type RateLimitSubjects,
  type RateLimits,
  type RateLimitVerdict,
  rateLimitHeaders,
} from "../guards/rate-limits";
import type { ApiCaller, ApiKeyAuthenticator } from "./authenticate";
import type { GateServices } from "./call";
import { GateError, toGateError } from "./errors";
import { checkRequestExpiry } from "./request-expiry";
import { queryObject } from "./request-params";
import { type GateRoute, GateRouter } from "./routes";

export const GATE_PREFIX = "/api/v4";
/** Create-order bodies are a few hundred bytes; nothing the API takes comes near this. */
export const GATE_MAX_BODY_BYTES = 64 * 1024;

export const gateMetrics = processSingleton("gate-rest.metrics", () => ({
  requests: new prometheus.Counter({
    name: "spotx_gate_requests_total",
    help: "gate.io API requests answered, by route and status",
    labelNames: ["route", "status"] as const,
    registers: [metrics.registry],
  }),
  seconds: new prometheus.Histogram({
    name: "spotx_gate_request_seconds",
    help: "Time to answer a gate.io API request, by route",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  }),
}));

export type GateRestApiOptions = {
  services: GateServices;
  authenticator: ApiKeyAuthenticator;
  rateLimits: RateLimits;
  log: Logger;
  /** The client's address as the server trusts it (see @spotx/platform/service-process). */
  clientAddress: (req: IncomingMessage) => string | null;
  maxBodyBytes?: number;
};

/** What the raw URL says: the path and query exactly as sent. */
function splitUrl(url: string): { path: string; rawQuery: string } {
  const mark = url.indexOf("?");
  return mark === -1
    ? { path: url, rawQuery: "" }
    : { path: url.slice(0, mark), rawQuery: url.slice(mark + 1) };
}

/** Reads the body's bytes, refusing past `limit` without buffering the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const tooLarge = (limit: number) =>
  new GateError("INVALID_PARAM_VALUE", `the request body is larger than ${limit} bytes`);

/** The tighter of two verdicts (the one with fewer requests left), for the headers. */
function tighter(a: RateLimitVerdict, b: RateLimitVerdict | null): RateLimitVerdict {
  if (!b) return a;
  if (!b.allowed) return b;
  if (!a.allowed) return a;
  return b.remaining < a.remaining ? b : a;
}

export class GateRestApi {
  private readonly router = new GateRouter();
  private readonly maxBodyBytes: number;

  constructor(private readonly options: GateRestApiOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? GATE_MAX_BODY_BYTES;
  }

  /** Whether the request is the API's (its path is under /api/v4). */
  handles(req: IncomingMessage): boolean {
    const url = req.url ?? "";
    return (
      url === GATE_PREFIX || url.startsWith(`${GATE_PREFIX}/`) || url.startsWith(`${GATE_PREFIX}?`)
    );
  }

  /** Answers one API request; never throws (failures are answered with their label). */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const inTime = microseconds();
    const started = performance.now();
    const { path, rawQuery } = splitUrl(req.url ?? "/");
    const method = (req.method ?? "GET").toUpperCase();
    const match = this.router.match(method, path.slice(GATE_PREFIX.length));
    const routeName = match.found ? `${match.route.method} ${match.route.path}` : "unknown";
    let verdict: RateLimitVerdict | null = null;
    let status = 500;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      if (!match.found) {
        req.resume();
        throw new GateError(
          "NOT_FOUND",
          match.pathExists ? `${method} is not served on ${path}` : `no endpoint ${path}`,
        );
      }
      const { route, params } = match;
      const ip = this.options.clientAddress(req);
      verdict = await this.spend(route.rateClass, { ip }, verdict);
      const raw = await readBody(req, this.maxBodyBytes);
      const caller =
        route.access === "public"
          ? null
          : await this.options.authenticator.authenticate({
              method,
              path,
              rawQuery,
              body: raw,
              headers: req.headers,
              ip,
            });
      if (caller) {
        this.permit(route, caller);
        verdict = await this.spend(
          route.rateClass,
          { user: caller.userId, key: caller.key },
          verdict,
        );
      }
      // The client's own deadline (gate.io's x-gate-exptime): past it, nothing is done.
      checkRequestExpiry(req.headers["x-gate-exptime"], Date.now());
      const answer = await route.handle({
        services: this.options.services,
        params,
        query: queryObject(new URLSearchParams(rawQuery)),
        body: method === "POST" || method === "PATCH" ? parseJson(raw) : undefined,
        caller,
      });
      status = answer.status;
      body = answer.body;
    } catch (error) {
      const failure = toGateError(error, this.options.log, { method, route: routeName });
      status = failure.status;
      body = { label: failure.label, message: failure.message };
      headers = failure.headers;
    }
    const text = JSON.stringify(body);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        "Cache-Control": "no-store",
        ...(verdict ? rateLimitHeaders(verdict) : {}),
        ...headers,
        "X-In-Time": String(inTime),
        "X-Out-Time": String(microseconds()),
      });
      res.end(text);
    }
    gateMetrics.requests.inc({ route: routeName, status: String(status) });
    gateMetrics.seconds.observe({ route: routeName }, (performance.now() - started) / 1000);
  }

  private spend(
    endpointClass: RateLimitClass,
    subjects: RateLimitSubjects,
    previous: RateLimitVerdict | null,
  ): Promise<RateLimitVerdict> {
    return spendRateLimit(this.options.rateLimits, endpointClass, subjects, previous);
  }

  private permit(route: GateRoute, caller: ApiCaller) {
    permitRoute(route, caller);
  }
}

/**
 * Spends from the class's budgets (the WebSocket trading API spends the same ones); a refusal
 * is 429 TOO_MANY_REQUESTS with gate.io's headers.
 */
export async function spendRateLimit(
  rateLimits: RateLimits,
  endpointClass: RateLimitClass,
  subjects: RateLimitSubjects,
  previous: RateLimitVerdict | null,
): Promise<RateLimitVerdict> {
  const verdict = tighter(await rateLimits.consume(endpointClass, subjects), previous);
  if (!verdict.allowed) {
    throw new GateError(
      "TOO_MANY_REQUESTS",
      `too many ${endpointClass} requests; retry in ${verdict.retryAfterSeconds} s`,
      rateLimitHeaders(verdict),
    );
  }
  return verdict;
}

/** Whether `caller` may use `route`: trading needs the trade permission and an active user. */
export function permitRoute(route: GateRoute, caller: ApiCaller): void {
  if (route.access !== "trade") return;
  if (!caller.permissions.includes("trade")) {
    throw new GateError(
      "FORBIDDEN",
      "this API key may only read; trading needs the trade permission",
    );
  }
  if (caller.userStatus !== "active") {
    throw new GateError("FORBIDDEN", "the account is frozen: it may read, not trade");
  }
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) throw new GateError("INVALID_PARAM_VALUE", "a JSON body is required");
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new GateError("INVALID_PARAM_VALUE", "the body is not valid JSON");
  }
}

/** gate.io's X-In-Time / X-Out-Time unit: microseconds since the epoch. */
export function microseconds(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
