import { spotxVitestConfig } from "../../vitest.shared.ts";

export default spotxVitestConfig("bench");
