import { spotxVitestConfig } from "../../vitest.shared.ts";

// One file at a time: each starts web instances as child processes on a 2-core machine.
export default spotxVitestConfig("web", { test: { fileParallelism: false } });
