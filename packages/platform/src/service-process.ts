// The shell every spotx process runs in: an HTTP server answering /health, /ready and
// /metrics (anything else goes to the process's own handler), registration in etcd under a
// lease, and a clean stop on SIGTERM or SIGINT that runs the process's stop hooks first.
import http from "node:http";
import os from "node:os";
import type { Logger } from "pino";
import { etcdClient } from "./etcd";
import { serveServiceEndpoint } from "./service-endpoints";
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
};

export type RunningService = {
  httpPort: number;
  server: http.Server;
  /** Runs `hook` on stop, before deregistering; hooks run in reverse order of adding. */
  onStop(hook: () => Promise<void>): void;
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

  const server = http.createServer((req, res) => {
    serveServiceEndpoint(req, res, identity)
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
      host: os.hostname(),
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

  return { httpPort, server, onStop: (hook) => hooks.push(hook) };
}
