// Reading another spotx process's counters: its /metrics in Prometheus' text format, as the
// console needs it for figures that live per process (breaker states, rate-limit rejections) and
// must be shown for the whole cluster. Only the samples of the metrics asked for are kept.
import { breakers } from "@spotx/platform/breakers";
import { platformEnv } from "@spotx/platform/env";
import type { Etcd3 } from "@spotx/platform/etcd";
import { operationalRequestHeaders } from "@spotx/platform/operational-access";
import { listServices, type ServiceKind } from "@spotx/platform/service-registry";
import type { Topology } from "@spotx/platform/topology";

export type Sample = { labels: Record<string, string>; value: number };

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of the named metrics in a /metrics text. */
export function parseMetrics(text: string, wanted: ReadonlySet<string>): Map<string, Sample[]> {
  const found = new Map<string, Sample[]>();
  for (const line of text.split("\n")) {
    if (line.length === 0 || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    const name = match?.[1];
    if (!match || name === undefined || !wanted.has(name)) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(LABEL)) {
      const [, key, raw] = label;
      if (key !== undefined && raw !== undefined) {
        labels[key] = raw.replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
      }
    }
    const samples = found.get(name) ?? [];
    samples.push({ labels, value });
    found.set(name, samples);
  }
  return found;
}

/** Fetches a process's /metrics with a deadline; the error says why it could not. */
export async function scrapeMetrics(
  url: string,
  wanted: ReadonlySet<string>,
  timeoutMs: number,
): Promise<{ ok: true; samples: Map<string, Sample[]> } | { ok: false; error: string }> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: operationalRequestHeaders(platformEnv().SPOTX_METRICS_TOKEN),
    });
    if (response.status !== 200) return { ok: false, error: `HTTP ${response.status}` };
    return { ok: true, samples: parseMetrics(await response.text(), wanted) };
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError") {
      return { ok: false, error: `no answer within ${timeoutMs} ms` };
    }
    return { ok: false, error: "unreachable" };
  }
}

export type InstanceSamples = {
  id: string;
  kind: ServiceKind;
  /** Null when the instance answered; else why its figures are missing. */
  error: string | null;
  samples: Map<string, Sample[]>;
};

/** The wanted metrics of every registered instance of `kind`, scraped at once. */
export async function scrapeInstances(
  etcd: Etcd3,
  names: Topology,
  kind: ServiceKind,
  wanted: ReadonlySet<string>,
  timeoutMs = 1_500,
): Promise<InstanceSamples[]> {
  const records = (await breakers.etcd.run(() => listServices(etcd, names))).filter(
    (r) => r.kind === kind,
  );
  return Promise.all(
    records
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(async (r) => {
        const scraped = await scrapeMetrics(
          `http://${r.host}:${r.httpPort}/metrics`,
          wanted,
          timeoutMs,
        );
        return scraped.ok
          ? { id: r.id, kind: r.kind, error: null, samples: scraped.samples }
          : { id: r.id, kind: r.kind, error: scraped.error, samples: new Map() };
      }),
  );
}
