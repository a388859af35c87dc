// Runs before anything is installed, so it uses only Node itself: checks the Node version,
// installs the npm dependencies when they are missing or stale, then loads TypeScript via tsx.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`✗ node: spotx needs Node.js 20.19 or newer, this is ${process.versions.node}`);
    process.exit(1);
  }
}

/**
 * `npm ci` when node_modules is missing or older than package-lock.json. npm keeps its own
 * record of the installed tree in node_modules/.package-lock.json and rewrites it on every
 * install, so a lockfile changed since (a pull, a new dependency) makes it stale.
 */
export function ensureDependencies() {
  const lock = path.join(repoRoot, "package-lock.json");
  const installed = path.join(repoRoot, "node_modules", ".package-lock.json");
  if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs)
    return;
  console.log("• installing npm dependencies (npm ci)…");
  const started = Date.now();
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error("✗ npm: `npm ci` failed; see the output above");
    process.exit(1);
  }
  console.log(`  dependencies installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Imports a TypeScript module of the repo through tsx (installed by ensureDependencies). */
export async function importTs(relative) {
  const { register } = await import("tsx/esm/api");
  register();
  return import(path.join(repoRoot, relative));
}
