// The benchmark's knobs; the defaults are the issue's benchmark. The servers' addresses come
// from the stack (or DATABASE_URL, REDIS_URL, ETCD_ENDPOINTS, KAFKA_BROKERS when set).
import { parseEnv } from "@spotx/platform";
import { z } from "zod";

const rates = (fallback: string) =>
  z
    .string()
    .regex(/^(\d+(,\d+)*)?$/, "comma-separated whole numbers (empty: no ramp)")
    .default(fallback)
    .transform((s) => (s === "" ? [] : s.split(",").map(Number)));

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
    /** The rates of the in-process throughput ramp, run after the fixed phase (up to the first not sustained). */
    BENCH_STEPS: rates("2000,3000,4000,5000,6000,8000,10000,12000"),
    BENCH_STEP_SECONDS: z.coerce.number().int().min(3).max(600).default(15),
    /** Load-generator processes for the phases through the gate.io REST API (0: no such phases). */
    BENCH_HTTP_GENERATORS: z.coerce.number().int().min(0).max(16).default(2),
    /** Keep-alive connections each generator may open to the web server. */
    BENCH_HTTP_CONNECTIONS: z.coerce.number().int().min(1).max(5_000).default(512),
    /** The HTTP fixed-rate phase: its rate (BENCH_RATE by default) and length. */
    BENCH_HTTP_RATE: z.coerce.number().int().min(10).max(100_000).optional(),
    BENCH_HTTP_SECONDS: z.coerce.number().int().min(5).max(3_600).default(30),
    /** The rates of the HTTP ramp (up to the first not sustained). */
    BENCH_HTTP_STEPS: rates("2000,3000,4000,5000,6000"),
    /** Run every step even after one was not sustained. */
    BENCH_RAMP_ALL: flag,
    BENCH_USERS: z.coerce.number().int().min(2).max(100_000).default(200),
    BENCH_SOCKET_CLIENTS: z.coerce.number().int().min(0).max(5_000).default(200),
    /** Per socket fleet, how many clients decode and time the probes (spread evenly; the rest listen). */
    BENCH_SOCKET_MEASURING: z.coerce.number().int().min(1).max(5_000).default(200),
    /** The socket phase of its own: this many clients (0: no such phase), at BENCH_RATE in-process. */
    BENCH_MANY_SOCKET_CLIENTS: z.coerce.number().int().min(0).max(5_000).default(1_000),
    BENCH_MANY_SOCKET_SECONDS: z.coerce.number().int().min(5).max(3_600).default(30),
    /** Share of the fixed phase's commands that are probes (unique-price resting bids). */
    BENCH_PROBE_SHARE: z.coerce.number().min(0).max(0.5).default(0.15),
    BENCH_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(2_000),
    BENCH_KAFKA_MESSAGES: z.coerce.number().int().min(0).default(300_000),
    /** CPU-profile the worker, the web server and this process; summarised in the report. */
    BENCH_PROFILE: flag,
    /** Use the web and worker builds as they are (for iterating on the benchmark itself). */
    BENCH_SKIP_BUILD: flag,
    /** Copy the run's charts (bench-results/e2e-*.svg) to docs/bench/ for the README. */
    BENCH_PUBLISH: flag,
  }),
);
