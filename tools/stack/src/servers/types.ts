// What the stack knows about each server it can run.
import type { ProbeResult } from "@spotx/platform";

export type ServerName = "postgres" | "redis" | "etcd" | "kafka";

export interface StackServer {
  readonly name: ServerName;
  /** The variable that, when set, points spotx at an existing server instead. */
  readonly envVar: "DATABASE_URL" | "REDIS_URL" | "ETCD_ENDPOINTS" | "KAFKA_BROKERS";
  /** The ports this server listens on; the first is the one clients use. */
  readonly ports: readonly number[];
  /** How long a fresh start may take before we call it a failure. */
  readonly readyTimeoutMs: number;
  /** Debian packages to install when a binary is missing (empty when nothing is missing). */
  missingPackages(): string[];
  /** Checks versions, fetches artifacts and initialises the data directory once. */
  prepare(): Promise<void>;
  /** Starts the process detached and returns its pid. */
  start(): number;
  /** A real request against our own instance. */
  probe(): Promise<ProbeResult>;
  /** A real request against the server named by the environment variable. */
  probeExternal(value: string): Promise<ProbeResult>;
  /** Runs whenever our instance answers, fresh or already running (idempotent: e.g. database roles). */
  afterReady?(): Promise<void>;
  /** The signal that shuts the server down cleanly, and how long to wait before SIGKILL. */
  readonly stopSignal: NodeJS.Signals;
  readonly stopGraceMs: number;
}
