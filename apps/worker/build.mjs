// Bundles the worker into dist/main.js: our workspace packages (TypeScript source) are
// compiled in, every npm dependency stays an import resolved from node_modules at run time.
import { build } from "esbuild";

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
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
