// The operational endpoints every process serves, as Kubernetes probes and Prometheus expect:
// /health (the process is alive), /ready (its dependencies answer), /metrics. Anyone may learn
// whether a process is alive and ready (the status code and `status`); the detail — identity,
// dependency versions and errors, stages — and /metrics only the internal networks or the
// metrics token (operational-access.ts). /ready is served from a probe shared by every caller
// for a second (health.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import { currentReadiness } from "./health";
import { metrics } from "./metrics";

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * A stage of the process's own work that can be stuck (settlement stopped by a gap, a consumer
 * that cannot keep up): /ready is not ready while any check fails, like a dependency.
 */
export type StageCheck = () => { name: string; ok: boolean; detail?: string }[];

/** Answers /health, /ready and /metrics; returns false for any other path. */
export async function serveServiceEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  service: { kind: string; id: string; startedAt: string },
  stages: StageCheck = () => [],
  /** Whether this request may see the detail and /metrics (internal, or the bearer token). */
  mayReadDetail: (req: IncomingMessage) => boolean = () => true,
): Promise<boolean> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  switch (path) {
    case "/health":
      sendJson(
        res,
        200,
        mayReadDetail(req)
          ? { status: "ok", ...service, uptimeSeconds: Math.round(process.uptime()) }
          : { status: "ok" },
      );
      return true;
    case "/ready": {
      const readiness = await currentReadiness();
      const checks = stages();
      const ready = readiness.ready && checks.every((c) => c.ok);
      const status = ready ? "ready" : "not ready";
      sendJson(
        res,
        ready ? 200 : 503,
        mayReadDetail(req)
          ? { status, ...service, dependencies: readiness.dependencies, stages: checks }
          : { status },
      );
      return true;
    }
    case "/metrics":
      if (!mayReadDetail(req)) {
        sendJson(res, 403, {
          label: "FORBIDDEN",
          message:
            "metrics are served to the internal networks (SPOTX_INTERNAL_NETWORKS) or with the bearer token SPOTX_METRICS_TOKEN",
        });
        return true;
      }
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return true;
    default:
      return false;
  }
}
