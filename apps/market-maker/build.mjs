// Bundles the market maker into dist/main.js.
import { bundleNodeApp } from "../../tools/stack/bin/bundle-node-app.mjs";

await bundleNodeApp("src/main.ts", "dist/main.js");
