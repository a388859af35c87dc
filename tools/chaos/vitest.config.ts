import { spotxVitestConfig } from "../../vitest.shared.ts";

export default spotxVitestConfig("chaos", { test: { fileParallelism: false } });
