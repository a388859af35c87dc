// The chaos harness's own settings. The servers' addresses are not here: they come from the
// stack (or DATABASE_URL, DATABASE_OWNER_URL, REDIS_URL, ETCD_ENDPOINTS, KAFKA_BROKERS when set),
// so the same harness runs against the single-node stack or a cluster.
import path from "node:path";
import { parseEnv } from "@spotx/platform";
import { z } from "zod";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");

export const chaosEnv = parseEnv(
  z.object({
    /** Where `npm test` collects every suite's results; the recovery times go there too. */
    SPOTX_TEST_RESULTS: z.string().min(1).optional(),
    /** The level the exchange's processes log at (their logs go to files, see `logDir`). */
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("warn"),
  }),
);

/** The directory the recovery times are written to: SPOTX_TEST_RESULTS, else bench-results/. */
export const resultsDir = chaosEnv.SPOTX_TEST_RESULTS ?? path.join(repoRoot, "bench-results");
/** The exchange's process logs, one file per process start. */
export const logDir = path.join(resultsDir, "chaos");
