#!/usr/bin/env node
// npm test
import { checkNode, ensureDependencies, importTs } from "./bootstrap.mjs";

checkNode();
ensureDependencies();
const { test } = await importTs("tools/stack/src/commands/test.ts");
const { reportFailure } = await importTs("tools/stack/src/cli.ts");
let code;
try {
  code = await test();
} catch (error) {
  code = reportFailure(error);
  console.log("0 passed, 1 failed");
}
process.exit(code);
