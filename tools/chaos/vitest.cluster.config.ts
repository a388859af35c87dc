// `npm run test:cluster`: the scenarios that need the clustered stack (cluster/), one file at a
// time, each killing members under load. Not part of `npm test`.
import { defineConfig } from "vitest/config";

const resultsDir = process.env.SPOTX_TEST_RESULTS;
export default defineConfig({
  test: {
    include: ["cluster/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: resultsDir
      ? ["default", ["json", { outputFile: `${resultsDir}/cluster.json` }]]
      : ["default"],
  },
});
