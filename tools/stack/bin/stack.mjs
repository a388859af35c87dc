#!/usr/bin/env node
import { checkNode, ensureDependencies, importTs } from "./bootstrap.mjs";

checkNode();
ensureDependencies();
const { main, reportFailure } = await importTs("tools/stack/src/cli.ts");
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.exitCode = reportFailure(error);
}
