#!/usr/bin/env node
// npm run test:cluster
import { checkNode, ensureDependencies, importTs } from "../../stack/bin/bootstrap.mjs";

checkNode();
ensureDependencies();
const { testCluster } = await importTs("tools/chaos/src/cluster-run.ts");
const { reportFailure } = await importTs("tools/stack/src/cli.ts");
let code;
try {
  code = await testCluster();
} catch (error) {
  code = reportFailure(error);
}
process.exit(code);
