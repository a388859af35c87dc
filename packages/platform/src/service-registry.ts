// Service registration in etcd: each web and worker instance writes
// /<namespace>/services/<kind>/<id> under a lease it keeps alive, so a process that dies vanishes
// from the registry within the lease's TTL, and one that stops cleanly removes itself at once.
import os from "node:os";
import type { Etcd3, Lease } from "etcd3";
import type { Logger } from "pino";
import { type Topology, topology } from "./topology";

export type ServiceKind = "web" | "worker";

export type ServiceRecord = {
  kind: ServiceKind;
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: string;
  /** Where its /health, /ready and /metrics answer. */
  httpPort: number;
};

export const serviceKey = (kind: ServiceKind, id: string) => topology().etcd.service(kind, id);

export function defaultInstanceId(kind: ServiceKind): string {
  return `${kind}-${os.hostname()}-${process.pid}`;
}

export class ServiceRegistration {
  private lease: Lease | undefined;
  private stopped = false;

  constructor(
    private readonly etcd: Etcd3,
    readonly record: ServiceRecord,
    private readonly log: Logger,
    private readonly ttlSeconds = 5,
  ) {}

  get key(): string {
    return serviceKey(this.record.kind, this.record.id);
  }

  /** Grants a lease, writes the record under it and keeps the lease alive. */
  async start(): Promise<void> {
    const lease = this.etcd.lease(this.ttlSeconds, { autoKeepAlive: true });
    this.lease = lease;
    // A lease lost to a partition longer than its TTL is re-granted, so the instance reappears.
    lease.on("lost", (error) => {
      if (this.stopped) return;
      this.log.warn({ err: error, key: this.key }, "etcd lease lost; registering again");
      void this.start().catch((retryError: unknown) =>
        this.log.error({ err: retryError }, "could not register in etcd again"),
      );
    });
    await lease.put(this.key).value(JSON.stringify(this.record));
    this.log.info({ key: this.key, ttlSeconds: this.ttlSeconds }, "registered in etcd");
  }

  /** Revokes the lease, which deletes the record at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.lease?.revoke().catch((error: unknown) => {
      this.log.warn({ err: error }, "could not revoke the etcd lease; it will expire on its own");
    });
  }
}

/** Every registered instance, as the operator console lists them. */
export async function listServices(
  etcd: Etcd3,
  names: Topology = topology(),
): Promise<ServiceRecord[]> {
  const entries = await etcd.getAll().prefix(names.etcd.servicesPrefix).strings();
  return Object.values(entries).map((value) => JSON.parse(value) as ServiceRecord);
}
