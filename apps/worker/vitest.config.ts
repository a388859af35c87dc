import { spotxVitestConfig } from "../../vitest.shared.ts";

// One file at a time: the pipeline tests run worker processes, and one of them restarts the
// Kafka broker that every file shares.
export default spotxVitestConfig("worker", { test: { fileParallelism: false } });
