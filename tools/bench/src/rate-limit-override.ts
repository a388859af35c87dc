// Before the phases through the front door: the default budgets (200 order requests/s per
// client address, 50 per user and per key) would refuse the generators, which all come from
// this machine's one address. The bench raises them for its own namespace through the live
// configuration every web instance watches (etcd `/<ns>/config/rate-limits`), so the limiter
// still runs — three Redis counters per order request — but never refuses, and waits until the
// web server answers with the new limit before any load is sent.
import { putRateLimitSettings, type RateLimitSettingsInput } from "@spotx/api/guards/rate-limits";
import type { Etcd3 } from "@spotx/platform/etcd";
import type { Topology } from "@spotx/platform/topology";

/** Far beyond any rate this machine reaches, inside what the settings accept. */
const POINTS_PER_SECOND = 10_000_000;

export type RateLimitOverride = {
  etcd_key: string;
  settings: RateLimitSettingsInput;
  /** X-Gate-RateLimit-Limit on an order request once the web server applied the settings. */
  confirmed_limit: number;
};

export async function raiseRateLimits(
  etcd: Etcd3,
  names: Topology,
  webPort: number,
): Promise<RateLimitOverride> {
  const budget = { points: POINTS_PER_SECOND, duration: 1 };
  const settings: RateLimitSettingsInput = {
    orders: { ip: budget, user: budget, key: budget },
    reads: { ip: budget, user: budget, key: budget },
  };
  await putRateLimitSettings(etcd, names, settings);
  // An unsigned order request spends the address budget, is refused (MISSING_REQUIRED_HEADER)
  // and carries the budget's limit in X-Gate-RateLimit-Limit.
  const deadline = Date.now() + 15_000;
  let seen = "";
  while (Date.now() < deadline) {
    const response = await fetch(`http://127.0.0.1:${webPort}/api/v4/spot/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(5_000),
    }).catch(() => null);
    seen = response?.headers.get("x-gate-ratelimit-limit") ?? "";
    await response?.body?.cancel();
    if (Number(seen) === POINTS_PER_SECOND) {
      return { etcd_key: names.etcd.rateLimits, settings, confirmed_limit: POINTS_PER_SECOND };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the web server did not apply the raised rate limits within 15 s (X-Gate-RateLimit-Limit: ${seen || "none"})`,
  );
}
