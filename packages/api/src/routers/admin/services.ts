// admin.services: every process registered in etcd, what each one says of its own health
// (/health and /ready on its httpPort, each asked with a deadline, all at once), and the markets
// whose engine each worker owns (the etcd ownership keys, with their epoch).
import { breakers } from "@spotx/platform/breakers";
import { platformEnv } from "@spotx/platform/env";
import type { Etcd3 } from "@spotx/platform/etcd";
import { operationalRequestHeaders } from "@spotx/platform/operational-access";
import { listServices, type ServiceRecord } from "@spotx/platform/service-registry";
import type { Topology } from "@spotx/platform/topology";
import { z } from "zod";
import { operatorProcedure } from "../../trpc";

/** /health answers at once; /ready probes the four servers itself (3 s each at most). */
const HEALTH_TIMEOUT_MS = 1_500;
const READY_TIMEOUT_MS = 4_000;

const probeResult = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  detail: z.string().optional(),
  error: z.string().optional(),
});

const healthAnswer = z.object({ status: z.string(), uptimeSeconds: z.number().optional() });
const readyAnswer = z.object({
  status: z.string(),
  dependencies: z.record(z.string(), probeResult).default({}),
  stages: z
    .array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() }))
    .default([]),
});

const endpointCheck = z.object({
  /** True when it answered 200 in time. */
  ok: z.boolean(),
  /** The HTTP status, null when there was no answer. */
  httpStatus: z.number().int().nullable(),
  latencyMs: z.number().int(),
  /** Why there was no usable answer. */
  error: z.string().nullable(),
});

const ownedMarket = z.object({
  symbol: z.string(),
  partition: z.number().int(),
  since: z.string(),
  /** The ownership key's etcd revision: the epoch stamped on the owner's events. */
  epoch: z.bigint(),
});

export const serviceInstance = z.object({
  kind: z.enum(["web", "worker"]),
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  startedAt: z.string(),
  httpPort: z.number().int(),
  uptimeSeconds: z.number().int().nullable(),
  health: endpointCheck,
  ready: endpointCheck.extend({
    dependencies: z.record(z.string(), probeResult),
    stages: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })),
  }),
  markets: z.array(ownedMarket),
});
export type ServiceInstance = z.infer<typeof serviceInstance>;

export const servicesOutput = z.object({
  instances: z.array(serviceInstance),
  /** Ownership keys naming an instance that is not registered (it died; its lease will expire). */
  orphanedMarkets: z.array(ownedMarket.extend({ instance: z.string() })),
});

const ownerRecord = z.object({
  instance: z.string(),
  partition: z.number().int(),
  since: z.string(),
});

export type OwnedMarket = z.infer<typeof ownedMarket>;

/**
 * Every market's engine owner: /<ns>/markets/<symbol>/owner → the owning instance. (Also read by
 * the web's operator feed, which pushes the same view to the console.)
 */
export async function marketOwners(etcd: Etcd3, names: Topology) {
  const range = await etcd.getAll().prefix(names.etcd.marketsPrefix).exec();
  const owners: Array<z.infer<typeof ownedMarket> & { instance: string }> = [];
  for (const kv of range.kvs) {
    const key = kv.key.toString();
    const symbol = key.slice(names.etcd.marketsPrefix.length).split("/")[0] ?? "";
    if (key !== names.etcd.marketOwner(symbol)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(kv.value.toString());
    } catch {
      continue;
    }
    const record = ownerRecord.safeParse(parsed);
    if (!record.success) continue;
    owners.push({ symbol, ...record.data, epoch: BigInt(kv.mod_revision) });
  }
  return owners.sort((a, b) => a.symbol.localeCompare(b.symbol));
}

async function ask<T>(
  url: string,
  timeoutMs: number,
  schema: z.ZodType<T>,
): Promise<{ check: z.infer<typeof endpointCheck>; body: T | null }> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: operationalRequestHeaders(platformEnv().SPOTX_METRICS_TOKEN),
    });
    const parsed = schema.safeParse(await response.json());
    return {
      check: {
        ok: response.status === 200 && parsed.success,
        httpStatus: response.status,
        latencyMs: latency(),
        error: parsed.success ? null : "the answer is not a spotx status",
      },
      body: parsed.success ? parsed.data : null,
    };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    return {
      check: {
        ok: false,
        httpStatus: null,
        latencyMs: latency(),
        error: timedOut
          ? `no answer within ${timeoutMs} ms`
          : error instanceof Error
            ? `unreachable: ${error.cause instanceof Error ? error.cause.message : error.message}`
            : "unreachable",
      },
      body: null,
    };
  }
}

/** Asks one registered process for its /health and /ready, at once, each with a deadline. */
export async function inspectInstance(
  record: ServiceRecord,
  markets: z.infer<typeof ownedMarket>[],
): Promise<ServiceInstance> {
  const base = `http://${record.host}:${record.httpPort}`;
  const [health, ready] = await Promise.all([
    ask(`${base}/health`, HEALTH_TIMEOUT_MS, healthAnswer),
    ask(`${base}/ready`, READY_TIMEOUT_MS, readyAnswer),
  ]);
  const started = Date.parse(record.startedAt);
  return {
    ...record,
    uptimeSeconds: Number.isFinite(started) ? Math.round((Date.now() - started) / 1000) : null,
    health: health.check,
    ready: {
      ...ready.check,
      // /ready answers 503 with its report when something is down: show the report either way.
      ok: ready.check.httpStatus === 200,
      dependencies: ready.body?.dependencies ?? {},
      stages: ready.body?.stages ?? [],
    },
    markets,
  };
}

export const listServicesProcedure = operatorProcedure
  .output(servicesOutput)
  .query(async ({ ctx }) => {
    const { etcd, names } = ctx.services;
    const [records, owners] = await breakers.etcd.run(() =>
      Promise.all([listServices(etcd, names), marketOwners(etcd, names)]),
    );
    const registered = new Set(records.map((r) => r.id));
    const instances = await Promise.all(
      records
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id))
        .map((record) =>
          inspectInstance(
            record,
            owners
              .filter((o) => o.instance === record.id)
              .map(({ instance: _instance, ...market }) => market),
          ),
        ),
    );
    return { instances, orphanedMarkets: owners.filter((o) => !registered.has(o.instance)) };
  });
