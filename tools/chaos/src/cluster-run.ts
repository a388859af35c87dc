// `npm run test:cluster`: brings the clustered stack up (tools/stack/src/cluster), builds the
// apps, and runs the cluster scenarios (cluster/*.test.ts) against it; prints each fault's
// recovery time and writes them to bench-results/cluster-recovery.json.
import fs from "node:fs";
import path from "node:path";
import { clusterEnv, clusterUp } from "@spotx/stack/cluster";
import { repoRoot } from "@spotx/stack/paths";
import { failureTail, quietToolsEnv, runCommand } from "@spotx/stack/run";

export async function testCluster(): Promise<number> {
  const started = Date.now();
  console.log("• starting the clustered stack");
  await clusterUp((line) => console.log(line));

  console.log("• building web and worker (turbo, cached between runs)");
  const build = await runCommand("build", "npx", [
    "turbo",
    "run",
    "build",
    "--filter=@spotx/web",
    "--filter=@spotx/worker",
    "--output-logs=errors-only",
  ]);
  if (build.code !== 0) {
    console.log(`✗ build failed:\n${failureTail(build)}`);
    return 1;
  }

  const results = path.join(repoRoot, "bench-results", "cluster-recovery.json");
  fs.rmSync(results, { force: true });
  console.log("• running the cluster scenarios");
  const run = await runCommand(
    "test-cluster",
    "npx",
    ["vitest", "run", "--config", "vitest.cluster.config.ts"],
    {
      showOutput: true,
      cwd: path.join(repoRoot, "tools/chaos"),
      env: {
        ...quietToolsEnv,
        ...clusterEnv(),
        LOG_LEVEL: process.env.LOG_LEVEL ?? "error",
        CLUSTER_RESULTS: results,
      },
    },
  );
  if (fs.existsSync(results)) {
    console.log("\nrecovery times (kill -9 → replaced → exchange working again):");
    for (const r of JSON.parse(fs.readFileSync(results, "utf8")) as Array<{
      fault: string;
      promotedMs?: number;
      recoveredMs: number;
    }>) {
      console.log(
        `  ${r.fault.padEnd(58)} ${r.promotedMs === undefined ? "" : `replaced ${(r.promotedMs / 1000).toFixed(1)} s  `}recovered ${(r.recoveredMs / 1000).toFixed(1)} s`,
      );
    }
    console.log(`  (${path.relative(process.cwd(), results)})`);
  }
  console.log(
    `took ${((Date.now() - started) / 1000).toFixed(0)}s; ${run.code === 0 ? "passed" : "FAILED"}`,
  );
  return run.code === 0 ? 0 : 1;
}
