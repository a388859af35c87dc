// admin.breakers: the circuit breakers of this process in full (state, since when, counts in the
// window and in total, the last transition, the settings) and the state of each breaker in every
// registered web instance, read from their /metrics — each web process has its own breakers.
import {
  BREAKER_DEPENDENCIES,
  BREAKER_SERVERS,
  BREAKER_STATE_VALUE,
  type BreakerState,
  breakerStates,
  isServiceUnavailable,
} from "@spotx/platform/breakers";
import { z } from "zod";
import { scrapeInstances } from "../../admin/metrics-scrape";
import { operatorProcedure } from "../../trpc";

const breakerState = z.enum(["closed", "open", "half_open"]);
const dependency = z.enum(BREAKER_SERVERS);

const breakerSnapshot = z.object({
  dependency,
  state: breakerState,
  since: z.string().nullable(),
  lastTransition: z.object({ from: breakerState, to: breakerState, at: z.string() }).nullable(),
  transitions: z.number().int(),
  window: z.object({
    calls: z.number().int(),
    successes: z.number().int(),
    failures: z.number().int(),
    timeouts: z.number().int(),
    rejections: z.number().int(),
  }),
  totals: z.object({
    calls: z.number().int(),
    failures: z.number().int(),
    timeouts: z.number().int(),
    rejections: z.number().int(),
  }),
  settings: z.object({
    timeoutMs: z.number().int(),
    resetMs: z.number().int(),
    errorThresholdPercent: z.number(),
    volumeThreshold: z.number().int(),
    windowMs: z.number().int(),
  }),
});

export const breakersOutput = z.object({
  /** The breakers of the process that answered. */
  local: z.array(breakerSnapshot),
  instances: z.array(
    z.object({
      id: z.string(),
      error: z.string().nullable(),
      breakers: z.array(
        z.object({
          dependency,
          state: breakerState.nullable(),
          transitions: z.number().int(),
          rejections: z.number().int(),
        }),
      ),
    }),
  ),
  /** Why the other instances could not be listed (etcd unavailable), else null. */
  instancesError: z.string().nullable(),
});

const WANTED = new Set([
  "spotx_breaker_state",
  "spotx_breaker_transitions_total",
  "spotx_breaker_rejections_total",
]);

const stateOf = (value: number | undefined): BreakerState | null =>
  (Object.entries(BREAKER_STATE_VALUE).find(([, v]) => v === value)?.[0] as
    | BreakerState
    | undefined) ?? null;

export const breakersProcedure = operatorProcedure.output(breakersOutput).query(async ({ ctx }) => {
  const local = breakerStates();
  try {
    const scraped = await scrapeInstances(ctx.services.etcd, ctx.services.names, "web", WANTED);
    const instances = scraped.map((instance) => ({
      id: instance.id,
      error: instance.error,
      breakers: BREAKER_DEPENDENCIES.map((dep) => {
        const of = (name: string) =>
          (instance.samples.get(name) ?? []).filter((s) => s.labels.dependency === dep);
        return {
          dependency: dep,
          state: stateOf(of("spotx_breaker_state")[0]?.value),
          transitions: of("spotx_breaker_transitions_total").reduce((n, s) => n + s.value, 0),
          rejections: of("spotx_breaker_rejections_total").reduce((n, s) => n + s.value, 0),
        };
      }),
    }));
    return { local, instances, instancesError: null };
  } catch (error) {
    // With etcd away the other instances cannot be found, and this is when the breakers matter.
    if (!isServiceUnavailable(error)) throw error;
    return { local, instances: [], instancesError: error.message };
  }
});
