// admin.rateLimits: the rate-limit settings in force (etcd's, over the defaults) and how many
// requests were refused, by endpoint class and by the scope whose budget ran out — summed over
// every registered web instance (each counts its own), with each instance's figures beside.
import { breakers, isServiceUnavailable } from "@spotx/platform/breakers";
import { z } from "zod";
import { scrapeInstances } from "../../admin/metrics-scrape";
import {
  RATE_LIMIT_CLASSES,
  RATE_LIMIT_SCOPES,
  type RateLimitSettings,
  resolveRateLimits,
} from "../../guards/rate-limits";
import { operatorProcedure } from "../../trpc";

const endpointClass = z.enum(RATE_LIMIT_CLASSES);
const scope = z.enum(RATE_LIMIT_SCOPES);
const rule = z.object({ points: z.number().int(), duration: z.number().int() });

const rejections = z.array(z.object({ endpointClass, scope, refused: z.number().int() }));

export const rateLimitsOutput = z.object({
  settings: z.array(z.object({ endpointClass, scope, rule })).nullable(),
  /** Where the settings come from: etcd's key, the defaults (no key), or null when unknown. */
  settingsSource: z.enum(["etcd", "defaults", "malformed"]).nullable(),
  /** Summed over the instances that answered. */
  rejections,
  /** Requests answered 503 because Redis could not count them, by class. */
  unavailable: z.array(z.object({ endpointClass, refused: z.number().int() })),
  instances: z.array(z.object({ id: z.string(), error: z.string().nullable(), rejections })),
  /** Why the settings or the instances could not be read (etcd unavailable), else null. */
  error: z.string().nullable(),
});

const WANTED = new Set(["spotx_rate_limit_rejections_total", "spotx_rate_limit_unavailable_total"]);

function flatten(settings: RateLimitSettings) {
  return RATE_LIMIT_CLASSES.flatMap((c) =>
    RATE_LIMIT_SCOPES.map((s) => ({ endpointClass: c, scope: s, rule: settings[c][s] })),
  );
}

export const rateLimitsProcedure = operatorProcedure
  .output(rateLimitsOutput)
  .query(async ({ ctx }) => {
    const { etcd, names } = ctx.services;
    try {
      const stored = await breakers.etcd.run(() => etcd.get(names.etcd.rateLimits).string());
      let settings: RateLimitSettings | null = null;
      let settingsSource: "etcd" | "defaults" | "malformed" = "defaults";
      try {
        settings = resolveRateLimits(stored === null ? {} : JSON.parse(stored));
        settingsSource = stored === null ? "defaults" : "etcd";
      } catch {
        // The web instances ignore a malformed value and keep what they had; say so.
        settingsSource = "malformed";
      }
      const scraped = await scrapeInstances(etcd, names, "web", WANTED);
      const instances = scraped.map((instance) => ({
        id: instance.id,
        error: instance.error,
        rejections: (instance.samples.get("spotx_rate_limit_rejections_total") ?? []).flatMap(
          (s) => {
            const c = endpointClass.safeParse(s.labels.class);
            const sc = scope.safeParse(s.labels.scope);
            return c.success && sc.success
              ? [{ endpointClass: c.data, scope: sc.data, refused: s.value }]
              : [];
          },
        ),
      }));
      const total = RATE_LIMIT_CLASSES.flatMap((c) =>
        RATE_LIMIT_SCOPES.map((s) => ({
          endpointClass: c,
          scope: s,
          refused: instances
            .flatMap((i) => i.rejections)
            .filter((r) => r.endpointClass === c && r.scope === s)
            .reduce((n, r) => n + r.refused, 0),
        })),
      );
      const unavailable = RATE_LIMIT_CLASSES.map((c) => ({
        endpointClass: c,
        refused: scraped
          .flatMap((i) => i.samples.get("spotx_rate_limit_unavailable_total") ?? [])
          .filter((s) => s.labels.class === c)
          .reduce((n, s) => n + s.value, 0),
      }));
      return {
        settings: settings ? flatten(settings) : null,
        settingsSource,
        rejections: total,
        unavailable,
        instances,
        error: null,
      };
    } catch (error) {
      if (!isServiceUnavailable(error)) throw error;
      return {
        settings: null,
        settingsSource: null,
        rejections: [],
        unavailable: [],
        instances: [],
        error: error.message,
      };
    }
  });
