// The one module that talks to etcd: it owns the etcd3 client and its health check. Service
// registration, market ownership elections and live configuration watches use this client.
import { Etcd3 } from "etcd3";
import { platformEnv } from "./env";
import { type ProbeResult, probe, processSingleton } from "./probe";

export type { Etcd3, Lease, Watcher } from "etcd3";

export function createEtcd(endpoints: readonly string[]): Etcd3 {
  return new Etcd3({
    hosts: [...endpoints],
    dialTimeout: 3_000,
    // Unary calls get a deadline so a dead cluster surfaces as an error, not a hang.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + 5_000 }),
  });
}

/** The process-wide client for ETCD_ENDPOINTS. */
export function etcdClient(): Etcd3 {
  return processSingleton("etcd.client", () => createEtcd(platformEnv().ETCD_ENDPOINTS));
}

/** Asks the first reachable endpoint for its status (a real gRPC round trip). */
export function pingEtcd(endpoints: readonly string[], timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => {
    const client = new Etcd3({ hosts: [...endpoints], dialTimeout: timeoutMs });
    try {
      const status = await client.maintenance.status();
      return `etcd ${status.version}`;
    } finally {
      client.close();
    }
  }, timeoutMs);
}

/** The status of the member the process's own client reaches (no client per probe). */
export function checkEtcd(client: Etcd3, timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => `etcd ${(await client.maintenance.status()).version}`, timeoutMs);
}
