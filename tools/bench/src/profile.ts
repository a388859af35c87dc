// CPU profiles (BENCH_PROFILE=1): the worker and the web server run with --cpu-prof, this
// process profiles itself through the inspector; each profile is then summed up by where its
// self time went — by package (node_modules/<name>, our own bundle, node's internals, GC) and
// by function — so the note on where the time goes quotes measurements, not guesses.
import fs from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { round } from "./stats";

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
};
type CpuProfile = {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};

export type ProfileSummary = {
  process: string;
  seconds: number;
  /** Share of the profile's wall time spent on the CPU (not idle). */
  busy_share: number;
  by_package: Array<{ package: string; share: number }>;
  top_functions: Array<{ function: string; where: string; share: number }>;
};

function packageOf(url: string, functionName: string): string {
  if (url === "") {
    if (functionName === "(garbage collector)") return "(gc)";
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(program)") return "(program)";
    return "(native)";
  }
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return "node (internals)";
  const inRepo = /(apps|packages|tools)\/[^/]+/.exec(url);
  return inRepo ? inRepo[0] : path.basename(url);
}

export function summarizeProfile(name: string, profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let totalUs = 0;
  let idleUs = 0;
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, { where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url, functionName);
    if (pkg === "(idle)") {
      idleUs += us;
      continue;
    }
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const fn = functionName || "(anonymous)";
    const key = `${fn}@${url}:${lineNumber}`;
    const entry = byFunction.get(key) ?? { where: `${pkg}:${lineNumber + 1}`, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  return {
    process: name,
    seconds: round((profile.endTime - profile.startTime) / 1e6, 1),
    busy_share: round(busyUs / Math.max(1, totalUs), 3),
    by_package: [...byPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([pkg, us]) => ({ package: pkg, share: round(us / busyUs, 3) })),
    top_functions: [...byFunction]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([key, v]) => ({
        function: key.slice(0, key.indexOf("@")),
        where: v.where,
        share: round(v.us / busyUs, 3),
      })),
  };
}

/** The newest .cpuprofile written by a process with this pid in `dir`, summed up. */
export function summarizeProfileFile(
  dir: string,
  name: string,
  pid: number,
): ProfileSummary | null {
  try {
    const file = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.`))
      .sort()
      .pop();
    if (!file) return null;
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    return summarizeProfile(name, profile);
  } catch {
    return null;
  }
}

/** Profiles this process between start() and stop(). */
export class SelfProfiler {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post("Profiler.enable");
    await this.session.post("Profiler.setSamplingInterval", { interval: 1_000 });
    await this.session.post("Profiler.start");
  }

  async stop(dir: string): Promise<ProfileSummary> {
    const { profile } = await this.session.post("Profiler.stop");
    this.session.disconnect();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `bench.${process.pid}.cpuprofile`), JSON.stringify(profile));
    return summarizeProfile("bench (placement service + load)", profile as unknown as CpuProfile);
  }
}
