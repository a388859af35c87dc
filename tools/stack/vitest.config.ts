import { spotxVitestConfig } from "../../vitest.shared.ts";

export default spotxVitestConfig("stack", { test: { fileParallelism: false } });
