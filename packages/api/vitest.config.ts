import { spotxVitestConfig } from "../../vitest.shared.ts";

export default spotxVitestConfig("api", { test: { fileParallelism: false } });
