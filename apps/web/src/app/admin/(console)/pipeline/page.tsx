// Pipeline: the order pipeline's figures, live, and Kafka's topics and consumer groups. The
// topology is read here first (admin.kafka) and refreshed by the page; the charts come from the
// operator feed.
import { PipelineView } from "../../../../components/admin/pipeline-view";
import { serverCaller } from "../../../../trpc/server";

export default async function PipelinePage() {
  const kafka = await serverCaller()
    .admin.kafka()
    .catch(() => null);
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Pipeline</h1>
          <p className="muted">
            Outbox → Kafka → engine → settlement. Lag is measured from Kafka every two seconds;
            rates and latencies from every process's /metrics, as Prometheus would.
          </p>
        </div>
      </div>
      <PipelineView initialKafka={kafka} />
    </>
  );
}
