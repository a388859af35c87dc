#!/usr/bin/env node
// npm start
import { checkNode, ensureDependencies, importTs } from "./bootstrap.mjs";

checkNode();
ensureDependencies();
const { start } = await importTs("tools/stack/src/commands/start.ts");
const { reportFailure } = await importTs("tools/stack/src/cli.ts");
try {
  await start();
} catch (error) {
  process.exit(reportFailure(error));
}
