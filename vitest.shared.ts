// One vitest configuration for every workspace, so that each suite writes its results as
// JSON where `npm test` can add them up into the single "N passed, N failed" line.
import { defineConfig, mergeConfig, type ViteUserConfig } from "vitest/config";

export function spotxVitestConfig(suite: string, overrides: ViteUserConfig = {}) {
  const resultsDir = process.env.SPOTX_TEST_RESULTS;
  const base = defineConfig({
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      reporters: resultsDir
        ? ["default", ["json", { outputFile: `${resultsDir}/${suite}.json` }]]
        : ["default"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  });
  return mergeConfig(base, overrides);
}
