// Bundles the worker into dist/main.js, and the database migrations (packages/db's command, what
// `npm start` applies before starting the apps) into dist/migrate.mjs: the worker image's
// /app/migrate.mjs, so a deployment migrates with the image it runs.
import { bundleNodeApp } from "../../tools/stack/bin/bundle-node-app.mjs";

await bundleNodeApp("src/main.ts", "dist/main.js");
await bundleNodeApp("../../packages/db/src/cli/migrate.ts", "dist/migrate.mjs");
