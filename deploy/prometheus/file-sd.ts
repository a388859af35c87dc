// spotx-targets: keeps Prometheus' file-based discovery file in step with spotx's etcd
// registry, because Prometheus has no etcd discovery of its own. It watches the services
// prefix, and on every change (and every 30 s) rewrites the file atomically (write, then
// rename) with one target group per process: its registered host and port, labelled with its
// kind and id. A process that left the registry stays listed for --keep-departed (default 15
// minutes) with registered="false": a crashed process then shows as up == 0 — the console's
// red row — instead of silently going stale. Settings come from the usual ETCD_ENDPOINTS and
// SPOTX_NAMESPACE.
//
//   node --import tsx deploy/prometheus/file-sd.ts --out /etc/prometheus/targets/spotx.json
//   node --import tsx deploy/prometheus/file-sd.ts --out targets/spotx.json --once
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { platformEnv } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { listServices, type ServiceRecord } from "@spotx/platform/service-registry";
import { topology } from "@spotx/platform/topology";

export type TargetGroup = { targets: string[]; labels: Record<string, string> };

/** A process seen in the registry, and when it was last seen there. */
export type KnownTarget = { record: ServiceRecord; lastSeen: number; registered: boolean };

/**
 * What the file says after a registry read at `now`: every registered process, and those that
 * left less than `keepDepartedMs` ago (registered="false"), sorted by kind and id.
 */
export function nextTargets(
  known: ReadonlyMap<string, KnownTarget>,
  registered: readonly ServiceRecord[],
  now: number,
  keepDepartedMs: number,
): Map<string, KnownTarget> {
  const next = new Map<string, KnownTarget>();
  for (const [id, target] of known) {
    if (now - target.lastSeen < keepDepartedMs) next.set(id, { ...target, registered: false });
  }
  for (const record of registered) next.set(record.id, { record, lastSeen: now, registered: true });
  return next;
}

export function targetGroups(
  known: ReadonlyMap<string, KnownTarget>,
  namespace: string,
): TargetGroup[] {
  return [...known.values()]
    .sort(
      (a, b) =>
        a.record.kind.localeCompare(b.record.kind) || a.record.id.localeCompare(b.record.id),
    )
    .map(({ record, registered }) => ({
      targets: [`${record.host}:${record.httpPort}`],
      labels: {
        kind: record.kind,
        spotx_id: record.id,
        namespace,
        registered: String(registered),
      },
    }));
}

/** Writes the file so that Prometheus never reads half of it. */
export function writeTargets(file: string, groups: TargetGroup[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, `${JSON.stringify(groups, null, 2)}\n`);
  fs.renameSync(partial, file);
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      "keep-departed": { type: "string", default: "900" },
      once: { type: "boolean", default: false },
    },
  });
  const out = values.out;
  const keepSeconds = Number(values["keep-departed"]);
  if (!out || !Number.isInteger(keepSeconds) || keepSeconds < 0) {
    console.error(
      "usage: file-sd.ts --out <targets.json> [--keep-departed <seconds, default 900>] [--once]",
    );
    process.exit(2);
  }
  const env = platformEnv();
  const names = topology();
  const etcd = createEtcd(env.ETCD_ENDPOINTS);
  let known = new Map<string, KnownTarget>();
  const refresh = async () => {
    known = nextTargets(known, await listServices(etcd, names), Date.now(), keepSeconds * 1000);
    writeTargets(out, targetGroups(known, names.namespace));
  };
  await refresh();
  if (values.once) {
    etcd.close();
    return;
  }
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      refresh().catch((error: unknown) => console.error(`could not refresh the targets: ${error}`));
    }, 100);
  };
  const watcher = await etcd.watch().prefix(names.etcd.servicesPrefix).create();
  watcher.on("put", soon);
  watcher.on("delete", soon);
  watcher.on("connected", soon);
  setInterval(soon, 30_000);
  console.log(`writing ${out} from ${names.etcd.servicesPrefix} in etcd`);
  const stop = () => {
    void watcher.cancel().finally(() => {
      etcd.close();
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((error: unknown) => {
    console.error(`✗ spotx-targets: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
