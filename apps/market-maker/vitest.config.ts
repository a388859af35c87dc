import { spotxVitestConfig } from "../../vitest.shared.ts";

export default spotxVitestConfig("market-maker");
