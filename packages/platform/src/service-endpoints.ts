// The operational endpoints every process serves, as Kubernetes probes and Prometheus expect:
// /health (the process is alive), /ready (its dependencies answer), /metrics.
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkReadiness } from "./health";
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
): Promise<boolean> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  switch (path) {
    case "/health":
      sendJson(res, 200, { status: "ok", ...service, uptimeSeconds: Math.round(process.uptime()) });
      return true;
    case "/ready": {
      const readiness = await checkReadiness();
      const checks = stages();
      const ready = readiness.ready && checks.every((c) => c.ok);
      sendJson(res, ready ? 200 : 503, {
        status: ready ? "ready" : "not ready",
        ...service,
        dependencies: readiness.dependencies,
        stages: checks,
      });
      return true;
    }
    case "/metrics":
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return true;
    default:
      return false;
  }
}
