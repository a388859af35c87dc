import { spotxVitestConfig } from "../../vitest.shared.ts";

export default spotxVitestConfig("deploy", { test: { fileParallelism: false } });
