import { spotxVitestConfig } from "../../vitest.shared.ts";

// Integration tests share one PostgreSQL; each test file works in a database of its own.
export default spotxVitestConfig("db", { test: { fileParallelism: false } });
