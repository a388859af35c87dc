#!/usr/bin/env node
// npm run test:images
import { checkNode, ensureDependencies, importTs } from "../../stack/bin/bootstrap.mjs";

checkNode();
ensureDependencies();
const { testImages } = await importTs("tools/deploy/src/images/test-images.ts");
let code;
try {
  code = await testImages();
} catch (error) {
  console.error(`✗ ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  code = 1;
}
process.exit(code);
