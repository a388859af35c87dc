// Locks, breakers and rate limits: lock holders and every instance's breakers and refusals come
// live from the operator feed; this instance's breakers in full and the rate-limit settings are
// read here first and refreshed by the page.
import { GuardsView } from "../../../../components/admin/guards-view";
import { serverCaller } from "../../../../trpc/server";

export default async function GuardsPage() {
  const caller = serverCaller();
  const [breakers, rateLimits] = await Promise.all([
    caller.admin.breakers().catch(() => null),
    caller.admin.rateLimits().catch(() => null),
  ]);
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Locks, breakers and rate limits</h1>
          <p className="muted">
            Who holds each distributed lock, which servers' circuit breakers are open, and how many
            requests the rate limits refused.
          </p>
        </div>
      </div>
      <GuardsView initialBreakers={breakers} initialRateLimits={rateLimits} />
    </>
  );
}
