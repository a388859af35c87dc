// Installs one app's production dependencies, at the versions the lockfile pins, for its image.
// Run in a directory holding the checkout's manifests (every package.json and the lockfile):
//   node production-modules.mjs apps/web
// The root manifest is cut down to the app's workspace and the workspaces it depends on, since
// the tools, the tests and the other apps depend on packages this app never loads; then
// `npm install --omit=dev --omit=peer` prunes the lockfile to them, keeping every version and
// place it pins (the image test checks that). Peers are left out because @trpc names typescript as one (for its types): every peer the
// app loads at run time is also a dependency of its own. The result is laid out as in the checkout:
// node_modules/, and <app>/node_modules/ where npm nested a version the app needs.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const [appDir] = process.argv.slice(2);
if (!appDir) {
  console.error("usage: node production-modules.mjs <app workspace dir>");
  process.exit(2);
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const root = readJson("package.json");

/** Workspace name → directory, from the root manifest's patterns ("apps/*" or a plain path). */
const workspaces = new Map();
for (const pattern of root.workspaces ?? []) {
  const dirs = pattern.endsWith("/*")
    ? fs
        .readdirSync(pattern.slice(0, -2), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => path.join(pattern.slice(0, -2), entry.name))
    : [pattern];
  for (const dir of dirs) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) workspaces.set(readJson(manifest).name, dir);
  }
}

const app = path.normalize(appDir);
if (![...workspaces.values()].includes(app)) {
  console.error(`${appDir} is not a workspace of ${root.name}`);
  process.exit(2);
}

/** The app and every workspace reachable through production dependencies. */
const needed = new Set([app]);
for (const dir of needed) {
  for (const name of Object.keys(readJson(path.join(dir, "package.json")).dependencies ?? {})) {
    const dependency = workspaces.get(name);
    if (dependency) needed.add(dependency);
  }
}

const { devDependencies: _dev, scripts: _scripts, ...kept } = root;
fs.writeFileSync(
  "package.json",
  `${JSON.stringify({ ...kept, workspaces: [...needed].sort() }, null, 2)}\n`,
);
console.log(`${app}: production dependencies of ${[...needed].sort().join(", ")}`);

const install = spawnSync(
  "npm",
  ["install", "--omit=dev", "--omit=peer", "--ignore-scripts", "--no-audit", "--no-fund"],
  { stdio: "inherit" },
);
if (install.status !== 0) process.exit(install.status ?? 1);

// The workspaces themselves are linked into node_modules; the bundles compile them in.
for (const name of workspaces.keys()) fs.rmSync(path.join("node_modules", name), { force: true });
// Scope directories left empty: ours, and those of the packages npm left out.
for (const entry of fs.readdirSync("node_modules")) {
  const dir = path.join("node_modules", entry);
  if (entry.startsWith("@") && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}
// The image copies <app>/node_modules whether or not npm nested anything there.
fs.mkdirSync(path.join(app, "node_modules"), { recursive: true });
