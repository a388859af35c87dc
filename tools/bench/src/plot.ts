// `npm run plot -w @spotx/bench [-- --publish]`: redraws the charts of the last
// `npm run bench:e2e` from bench-results/e2e.json (its `charts` rows) into bench-results/, and
// with --publish copies them to docs/bench/, where the README shows them from.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { chartData, publishCharts, writeCharts } from "./charts";
import { docsDir, outDir, repoRoot } from "./paths";

async function main() {
  const publish = process.argv.includes("--publish");
  const file = path.join(outDir, "e2e.json");
  if (!fs.existsSync(file))
    throw new Error(`no ${path.relative(repoRoot, file)}: run npm run bench:e2e first`);
  const parsed = z
    .object({ charts: chartData })
    .safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${path.relative(repoRoot, file)} has no chart rows (written by an older bench?): ${parsed.error.issues[0]?.message ?? ""}`,
    );
  }
  const files = await writeCharts(parsed.data.charts, outDir);
  for (const f of files) console.log(`wrote ${path.relative(repoRoot, f)}`);
  if (publish) {
    for (const f of publishCharts(files, docsDir))
      console.log(`copied to ${path.relative(repoRoot, f)}`);
  }
}

await main().catch((error: unknown) => {
  console.error(`✗ plot: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
