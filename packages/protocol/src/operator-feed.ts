// The operator console's live feed over socket.io: what a web instance pushes to the operators
// room it serves (the cluster's processes, the pipeline's figures, locks, breakers and rate
// limits), and how a console asks to join it. Only a browser signed in as an active operator is
// let in. Figures here are counts, ages and latencies, never money: plain numbers are fine.

/** The room of the console's sockets, per web instance (the feed is sent to local sockets only). */
export const OPERATOR_ROOM = "operators";

/** A probe of one endpoint of a process (/health or /ready). */
export type EndpointCheck = {
  ok: boolean;
  /** The HTTP status; null when there was no answer. */
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
};

export type DependencyProbe = {
  ok: boolean;
  latencyMs: number;
  detail?: string;
  error?: string;
};

export type OwnedMarket = {
  symbol: string;
  partition: number;
  since: string;
  /** The ownership key's etcd revision (the epoch on the owner's events), as a decimal string. */
  epoch: string;
};

/** One registered process, as the console's Services page shows it. */
export type OperatorService = {
  kind: "web" | "worker";
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: string;
  httpPort: number;
  /** Null until the first probe of this instance has answered or failed. */
  health: EndpointCheck | null;
  ready:
    | (EndpointCheck & {
        dependencies: Record<string, DependencyProbe>;
        stages: Array<{ name: string; ok: boolean; detail?: string }>;
      })
    | null;
  markets: OwnedMarket[];
};

export type OperatorServicesMessage = {
  time: number;
  instances: OperatorService[];
  /** Ownership keys naming an instance no longer registered (its lease has not expired yet). */
  orphanedMarkets: Array<OwnedMarket & { instance: string }>;
  /** Why the registry could not be read (etcd unavailable), else null. */
  error: string | null;
};

export type PartitionLagPoint = { group: string; topic: string; partition: number; lag: number };

/** One sample of the pipeline, taken every couple of seconds. */
export type PipelineSample = {
  time: number;
  /** Consumer-group lag per partition, measured from Kafka; null when Kafka did not answer. */
  lag: PartitionLagPoint[] | null;
  /** Unpublished outbox rows and the age of the oldest (from the workers); null without a worker. */
  outbox: { backlog: number; oldestAgeSeconds: number } | null;
  /** Per market: how far settlement is behind the engine, and whether it stopped on a gap. */
  settlement: Array<{ market: string; lagMs: number; stopped: boolean; lastSeq: number }>;
  /** Orders placed per second at the web instances (every front door); null until two samples. */
  ordersPerSecond: number | null;
  /** Commands the engines applied per second. */
  engineCommandsPerSecond: number | null;
  /** Order acknowledgement p99 on gate.io's POST /spot/orders, in ms, over the last interval. */
  ackP99Ms: number | null;
  /** Placement batches' commit p99 (every placement is in one), in ms. */
  placementCommitP99Ms: number | null;
  /** Time the engine took per command, p50 and p99, in µs. */
  engineP50Us: number | null;
  engineP99Us: number | null;
  /** Processes whose /metrics could not be read this time. */
  scrapeErrors: Array<{ id: string; error: string }>;
  /** Why the lag could not be measured, else null. */
  lagError: string | null;
};

export type OperatorPipelineMessage = {
  /** The last hour on joining (merged over every web instance), then one per tick. */
  samples: PipelineSample[];
  /** These samples are the history: they replace what the console kept (else they follow it). */
  history?: boolean;
};

export type BreakerStateName = "closed" | "open" | "half_open";

export type OperatorGuardsMessage = {
  time: number;
  /** Every held lock; null when Redis did not answer (lockError says why). */
  locks: Array<{ resource: string; owner: string; token: string; ttlMs: number }> | null;
  lockError: string | null;
  instances: Array<{
    id: string;
    kind: "web" | "worker";
    /** Why its /metrics could not be read, else null. */
    error: string | null;
    /** Every breaker the process has (a web's request breakers, a worker's pipeline ones). */
    breakers: Array<{
      dependency: string;
      state: BreakerStateName | null;
      transitions: number;
      rejections: number;
      /** When it last changed state (ms since the epoch); null: never since the process began. */
      lastTransitionAt: number | null;
    }>;
    /** Requests refused by the rate limits, since the instance started, by class and scope. */
    rateLimitRejections: Array<{ endpointClass: string; scope: string; refused: number }>;
  }>;
};

/** How a console joins or leaves the operators room; the answer is a SocketReply. */
export const OPERATOR_REQUESTS = {
  join: "operator.join",
  leave: "operator.leave",
} as const;
