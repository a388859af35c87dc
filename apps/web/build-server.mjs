// Bundles the custom server into dist/server.js (after `next build` built the app itself):
// our workspace packages are compiled in, npm dependencies stay imports from node_modules.
import { build } from "esbuild";

await build({
  entryPoints: ["src/server/main.ts"],
  outfile: "dist/server.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  plugins: [
    {
      name: "externalize-npm",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@spotx/") ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
