// The benchmark's knobs; the defaults are the issue's benchmark. The servers' addresses come
// from the stack (or DATABASE_URL, REDIS_URL, ETCD_ENDPOINTS, KAFKA_BROKERS when set).
import { parseEnv } from "@spotx/platform";
import { z } from "zod";

const flag = z
  .enum(["0", "1", "true", "false", ""])
  .default("0")
  .transform((v) => v === "1" || v === "true");

export const benchEnv = parseEnv(
  z.object({
    /** The fixed rate of the latency phase, order operations per second. */
    BENCH_RATE: z.coerce.number().int().min(10).max(100_000).default(1_000),
    /** How long the fixed-rate phase is measured (after its warm-up). */
    BENCH_SECONDS: z.coerce.number().int().min(5).max(3_600).default(60),
    BENCH_WARMUP_SECONDS: z.coerce.number().int().min(0).max(120).default(5),
    /** The rates of the throughput ramp, run after the fixed phase. */
    BENCH_STEPS: z
      .string()
      .regex(/^(\d+(,\d+)*)?$/, "comma-separated whole numbers (empty: no ramp)")
      .default("2000,3000,4000,5000")
      .transform((s) => (s === "" ? [] : s.split(",").map(Number))),
    BENCH_STEP_SECONDS: z.coerce.number().int().min(3).max(600).default(15),
    /** Run every step even after one was not sustained. */
    BENCH_RAMP_ALL: flag,
    BENCH_USERS: z.coerce.number().int().min(2).max(100_000).default(200),
    BENCH_SOCKET_CLIENTS: z.coerce.number().int().min(0).max(5_000).default(200),
    /** Share of the fixed phase's commands that are probes (unique-price resting bids). */
    BENCH_PROBE_SHARE: z.coerce.number().min(0).max(0.5).default(0.15),
    BENCH_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(2_000),
    BENCH_KAFKA_MESSAGES: z.coerce.number().int().min(0).default(300_000),
    /** CPU-profile the worker, the web server and this process; summarised in the report. */
    BENCH_PROFILE: flag,
    /** Use the web and worker builds as they are (for iterating on the benchmark itself). */
    BENCH_SKIP_BUILD: flag,
  }),
);
