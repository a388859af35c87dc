// The shell every spotx process runs in: an HTTP server answering /health, /ready and
// /metrics (anything else goes to the process's own handler), registration in etcd under a
// lease, and a clean stop on SIGTERM or SIGINT that runs the process's stop hooks first.
// Every request it serves is guarded the same way, whatever handles it: security headers on
// every answer, a body-size limit, and a time limit (see `guardRequest`); and forwarding
// headers only from trusted proxies (see `believeForwardingOnlyFromProxies`).
import { randomBytes } from "node:crypto";
import http from "node:http";
import { isIP } from "node:net";
import os from "node:os";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import { platformEnv } from "./env";
import { etcdClient } from "./etcd";
import { mayReadOperationalDetail, type OperationalAccess } from "./operational-access";
import { type StageCheck, serveServiceEndpoint } from "./service-endpoints";
import { type ServiceKind, ServiceRegistration } from "./service-registry";

export type RequestHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => void | Promise<void>;

export type ServiceOptions = {
  kind: ServiceKind;
  id: string;
  host: string;
  port: number;
  version: string;
  log: Logger;
  leaseTtlSeconds?: number;
  /** Requests other than the operational endpoints; the default answers 404 NOT_FOUND. */
  handle?: RequestHandler;
  /**
   * The Content-Security-Policy of a request's answer, when it is not the default for data
   * (`DATA_CONTENT_SECURITY_POLICY`): the web server gives its pages `pagePolicyFor`'s.
   */
  contentSecurityPolicy?: (req: http.IncomingMessage) => string;
  /** Overrides of the HTTP_MAX_BODY_BYTES, HTTP_REQUEST_TIMEOUT_MS and SPOTX_TRUSTED_PROXIES settings. */
  limits?: Partial<HttpLimits>;
  /** Overrides of SPOTX_INTERNAL_NETWORKS and SPOTX_METRICS_TOKEN (tests). */
  operationalAccess?: Partial<Pick<OperationalAccess, "internalNetworks" | "metricsToken">>;
};

export type HttpLimits = {
  maxBodyBytes: number;
  requestTimeoutMs: number;
  trustedProxies: number;
};

function httpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  const env = platformEnv();
  return {
    maxBodyBytes: overrides.maxBodyBytes ?? env.HTTP_MAX_BODY_BYTES,
    requestTimeoutMs: overrides.requestTimeoutMs ?? env.HTTP_REQUEST_TIMEOUT_MS,
    trustedProxies: overrides.trustedProxies ?? env.SPOTX_TRUSTED_PROXIES,
  };
}

/** For JSON, metrics and anything else that is not a page: nothing may load, nobody may frame it. */
export const DATA_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** A CSP nonce: 128 random bits in base64, the alphabet CSP's nonce-source (and Next.js) accept. */
const SCRIPT_NONCE = /^[A-Za-z0-9+/]{22}==$/;

/** A fresh script nonce, for one answer only: unguessable, so an injected script cannot carry it. */
export function scriptNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * What a Next.js (App Router) page needs and no more. Scripts: only those carrying this
 * answer's nonce — Next.js puts it on its inline bootstrap and its script tags — and, by
 * 'strict-dynamic', the chunks those scripts load; an injected inline script or <script src>
 * has no nonce and does not run ('self' is there only for browsers older than CSP Level 3,
 * which ignore 'strict-dynamic'). Connections go back to this origin only (tRPC, socket.io, the
 * WebSocket API): CSP Level 3 matches same-origin ws:/wss: with 'self', so a script cannot send
 * data to another host. Development adds 'unsafe-eval' (React's dev build).
 */
export function pageContentSecurityPolicy(options: { dev: boolean; nonce: string }): string {
  if (!SCRIPT_NONCE.test(options.nonce)) throw new Error("a script nonce is 16 bytes in base64");
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${options.nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * The policy of one page's answer, with a nonce of its own, also written into the request's
 * Content-Security-Policy header — replacing anything the client sent there — because that is
 * where Next.js reads the nonce it puts on the page's scripts. Every page is rendered per
 * request (the root layout reads cookies), so the HTML always carries this answer's nonce.
 */
export function pagePolicyFor(req: http.IncomingMessage, options: { dev: boolean }): string {
  const policy = pageContentSecurityPolicy({ dev: options.dev, nonce: scriptNonce() });
  req.headers["content-security-policy"] = policy;
  delete req.headers["content-security-policy-report-only"];
  return policy;
}

/** The last `trusted` entries of a comma-separated forwarding header, as proxies appended them. */
function forwarded(value: string | string[] | undefined, trusted: number): string | undefined {
  if (trusted === 0 || value === undefined) return undefined;
  const entries = (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  // With N trusted proxies, the N-th entry from the end is what the outermost one saw;
  // anything before it is whatever the client chose to send.
  return entries.length >= trusted ? entries[entries.length - trusted] : undefined;
}

/**
 * The client's address: the socket's, or — behind `trustedProxies` reverse proxies — the one
 * the outermost trusted proxy recorded in X-Forwarded-For. null when unknown.
 */
export function clientAddress(
  req: http.IncomingMessage,
  trustedProxies = platformEnv().SPOTX_TRUSTED_PROXIES,
): string | null {
  const fromProxy = forwarded(req.headers["x-forwarded-for"], trustedProxies);
  if (fromProxy !== undefined && isIP(fromProxy) !== 0) return fromProxy;
  return req.socket.remoteAddress ?? null;
}

/** Whether the client reached us over HTTPS (its own TLS, or a trusted proxy's X-Forwarded-Proto). */
export function isHttps(
  req: http.IncomingMessage,
  trustedProxies = platformEnv().SPOTX_TRUSTED_PROXIES,
): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  return forwarded(req.headers["x-forwarded-proto"], trustedProxies)?.toLowerCase() === "https";
}

/** Forwarded and X-Forwarded-*: what a reverse proxy saw (the client's host, scheme, address). */
const FORWARDING_HEADER = /^(forwarded|x-forwarded-[a-z0-9-]+)$/i;

/**
 * Marks a request whose forwarding headers were dropped: it came through a proxy spotx was not
 * told to trust (or from a client pretending to be one), so it is never an internal caller's.
 */
const RELAYED = Symbol.for("spotx.relayedByUntrustedProxy");

/** Whether forwarding headers were removed from this request (`dropForwardingHeaders`). */
export function relayedByUntrustedProxy(req: http.IncomingMessage): boolean {
  return (req as unknown as Record<symbol, unknown>)[RELAYED] === true;
}

/** Removes the forwarding headers from a request: its `headers` and its `rawHeaders` alike. */
export function dropForwardingHeaders(req: http.IncomingMessage): void {
  for (const name of Object.keys(req.headers)) {
    if (FORWARDING_HEADER.test(name)) {
      delete req.headers[name];
      (req as unknown as Record<symbol, unknown>)[RELAYED] = true;
    }
  }
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? ""];
    if (!FORWARDING_HEADER.test(name)) raw.push(name, value);
  }
  req.rawHeaders = raw;
}

/**
 * Without a trusted proxy (SPOTX_TRUSTED_PROXIES=0) the forwarding headers are whatever the
 * client wrote, yet libraries believe them: Next.js takes a request's scheme from
 * X-Forwarded-Proto (the tRPC handler's URL, hence Secure cookies) and checks a server action's
 * Origin against X-Forwarded-Host; the socket.io handshake compares Origin with it too. So they
 * are removed from every request — pages, the API, socket.io's polling, every WebSocket
 * upgrade — before any listener sees it. This sits in front of the server's events rather than
 * in one listener so that it holds for whatever listens, in any order: the request handler,
 * each upgrade listener (socket.io, the gate.io WebSocket, Next.js dev's own), or a library that
 * takes the 'request' listeners over. Behind trusted proxies the headers are theirs and stay.
 */
export function believeForwardingOnlyFromProxies(server: http.Server, trustedProxies: number) {
  if (trustedProxies > 0) return;
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]) => {
    // 'request', 'upgrade', 'checkContinue', 'checkExpectation', 'connect': the request first.
    if (args[0] instanceof http.IncomingMessage) dropForwardingHeaders(args[0]);
    return emit(event, ...args);
  }) as typeof server.emit;
}

/** The headers every answer carries. */
export function securityHeaders(
  req: http.IncomingMessage,
  options: { contentSecurityPolicy: string; trustedProxies: number },
): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Security-Policy": options.contentSecurityPolicy,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
  };
  // Only over HTTPS: HSTS on plain HTTP is ignored by browsers, and would be wrong anyway.
  if (isHttps(req, options.trustedProxies)) {
    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
  }
  return headers;
}

function refuse(res: http.ServerResponse, status: number, label: string, message: string) {
  res.writeHead(status, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ label, message }));
}

/**
 * The guards of every request, before anything handles it: security headers on the answer; a
 * body larger than the limit refused (413) from its Content-Length — a body without one
 * (chunked) is refused too (411), because a handler such as Next.js reads it where the limit
 * could not be enforced; and an answer not finished within the time limit is cut short (503).
 * Returns false when the request was answered here.
 */
export function guardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limits: HttpLimits,
  contentSecurityPolicy: string,
  log: Logger,
): boolean {
  for (const [name, value] of Object.entries(
    securityHeaders(req, { contentSecurityPolicy, trustedProxies: limits.trustedProxies }),
  )) {
    res.setHeader(name, value);
  }
  const length = req.headers["content-length"];
  if (length === undefined && req.headers["transfer-encoding"] !== undefined) {
    refuse(res, 411, "MISSING_REQUIRED_HEADER", "send the request body with a Content-Length");
    req.resume();
    return false;
  }
  if (length !== undefined && Number(length) > limits.maxBodyBytes) {
    refuse(
      res,
      413,
      "INVALID_PARAM_VALUE",
      `the request body is larger than ${limits.maxBodyBytes} bytes`,
    );
    req.resume();
    return false;
  }
  const timer = setTimeout(() => {
    log.warn({ method: req.method, url: req.url?.split("?")[0] }, "request timed out");
    if (!res.headersSent) {
      refuse(res, 503, "SERVICE_UNAVAILABLE", "the request took too long; retry shortly");
    } else {
      res.destroy();
    }
  }, limits.requestTimeoutMs);
  timer.unref();
  res.once("close", () => clearTimeout(timer));
  return true;
}

export type RunningService = {
  httpPort: number;
  server: http.Server;
  /** Runs `hook` on stop, before deregistering; hooks run in reverse order of adding. */
  onStop(hook: () => Promise<void>): void;
  /** Adds checks of the process's own stages to /ready. */
  addReadiness(check: StageCheck): void;
};

const notFound: RequestHandler = (_req, res) => {
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ label: "NOT_FOUND", message: "no such endpoint" }));
};

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { log } = options;
  const handle = options.handle ?? notFound;
  const startedAt = new Date().toISOString();
  const identity = { kind: options.kind, id: options.id, startedAt };

  const stageChecks: StageCheck[] = [];
  const stages: StageCheck = () => stageChecks.flatMap((check) => check());
  const limits = httpLimits(options.limits);
  const env = platformEnv();
  const access: OperationalAccess = {
    internalNetworks: options.operationalAccess?.internalNetworks ?? env.SPOTX_INTERNAL_NETWORKS,
    metricsToken:
      options.operationalAccess && "metricsToken" in options.operationalAccess
        ? options.operationalAccess.metricsToken
        : env.SPOTX_METRICS_TOKEN,
    trustedProxies: limits.trustedProxies,
  };
  const policy = options.contentSecurityPolicy ?? (() => DATA_CONTENT_SECURITY_POLICY);
  const server = http.createServer((req, res) => {
    if (!guardRequest(req, res, limits, policy(req), log)) return;
    serveServiceEndpoint(req, res, identity, stages, (request) =>
      mayReadOperationalDetail(request, clientAddress(request, limits.trustedProxies), {
        ...access,
        relayed: relayedByUntrustedProxy(request),
      }),
    )
      .then((handled) => (handled ? undefined : handle(req, res)))
      .catch((error: unknown) => {
        log.error({ err: error, url: req.url }, "request failed");
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ label: "SERVER_ERROR", message: "internal error" }));
        } else {
          res.end();
        }
      });
  });
  // A client must deliver its request (headers and body) within the limit too: slow senders
  // cannot hold connections open.
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.requestTimeoutMs, 20_000);
  believeForwardingOnlyFromProxies(server, limits.trustedProxies);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const httpPort = typeof address === "object" && address ? address.port : options.port;

  const etcd = etcdClient();
  const registration = new ServiceRegistration(
    etcd,
    {
      kind: options.kind,
      id: options.id,
      host: platformEnv().SPOTX_ADVERTISE_HOST ?? os.hostname(),
      pid: process.pid,
      version: options.version,
      startedAt,
      httpPort,
    },
    log,
    options.leaseTtlSeconds,
  );
  await registration.start();

  const hooks: Array<() => Promise<void>> = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${options.kind} stopping`);
    for (const hook of [...hooks].reverse()) {
      await hook().catch((error: unknown) => log.error({ err: error }, "stop hook failed"));
    }
    await registration.stop();
    etcd.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    log.info(`${options.kind} stopped`);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  return {
    httpPort,
    server,
    onStop: (hook) => hooks.push(hook),
    addReadiness: (check) => stageChecks.push(check),
  };
}
