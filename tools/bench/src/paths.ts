// Where the benchmark writes: bench-results/ at the repository's root (e2e.json, the charts,
// and e2e/ with the processes' logs and profiles), and docs/bench/ for the published charts.
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");
export const outDir = path.join(repoRoot, "bench-results");
export const runDir = path.join(outDir, "e2e");
export const docsDir = path.join(repoRoot, "docs", "bench");
