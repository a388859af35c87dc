#!/usr/bin/env node
// npm run demo:trade — the two demo traders trade once on a running exchange.
import { checkNode, ensureDependencies, importTs } from "./bootstrap.mjs";

checkNode();
ensureDependencies();
const { demoTrade } = await importTs("tools/stack/src/commands/demo-trade.ts");
const { reportFailure } = await importTs("tools/stack/src/cli.ts");
try {
  await demoTrade(Number(process.env.WEB_PORT ?? 3000));
  process.exit(0);
} catch (error) {
  process.exit(reportFailure(error));
}
