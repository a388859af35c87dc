// The measured recovery times, written where `npm test` collects results (SPOTX_TEST_RESULTS,
// else bench-results/) as chaos-recovery.json, so they can be quoted and compared between runs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resultsDir } from "./env";
import type { FaultResult } from "./scenarios";

export const RECOVERY_FILE = "chaos-recovery.json";

export function writeRecoveryResults(
  target: string,
  settings: Record<string, unknown>,
  results: readonly FaultResult[],
): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, RECOVERY_FILE);
  const report = {
    target,
    writtenAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    settings,
    faults: results,
  };
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
