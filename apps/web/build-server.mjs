// Bundles the custom server into dist/server.js, after `next build` built the app itself.
import { bundleNodeApp } from "../../tools/stack/bin/bundle-node-app.mjs";

await bundleNodeApp("src/server/main.ts", "dist/server.js");
