// Bundles a Node service (apps/web's custom server, apps/worker) into one ESM file: our
// workspace packages (TypeScript source) are compiled in, every npm dependency stays an
// import resolved from node_modules at run time.
import { build } from "esbuild";

export function bundleNodeApp(entry, outfile) {
  return build({
    entryPoints: [entry],
    outfile,
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
}
