// Services: every process registered in etcd, live. The first list is read here (with each
// instance's /health and /ready); the operator feed keeps it current from then on.
import type { OperatorServicesMessage } from "@spotx/protocol";
import { ServicesView } from "../../../components/admin/services-view";
import { serverCaller } from "../../../trpc/server";

export default async function ServicesPage() {
  const loaded = await serverCaller()
    .admin.services()
    .catch(() => null);
  const initial: OperatorServicesMessage | null = loaded && {
    time: Date.now(),
    instances: loaded.instances.map((i) => ({
      ...i,
      markets: i.markets.map((m) => ({ ...m, epoch: m.epoch.toString() })),
    })),
    orphanedMarkets: loaded.orphanedMarkets.map((m) => ({ ...m, epoch: m.epoch.toString() })),
    error: null,
  };
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Services</h1>
          <p className="muted">
            Every web and worker process registered in etcd. A process that dies leaves within its
            lease's time to live.
          </p>
        </div>
      </div>
      <ServicesView initial={initial} />
    </>
  );
}
