// What the images hold: each app's production dependencies where Node looks for them, at the
// versions and places package-lock.json pins, and not one devDependency (the workspace's build
// and test tools); the user set to uid 10001. The running processes' uid is checked on the running containers (see test-images.ts).
import fs from "node:fs";
import path from "node:path";
import type { ImageName } from "./build";
import { podman, repoRoot } from "./podman";

/**
 * devDependencies of the workspace that nothing in any image loads. (Not @types/node: protobufjs,
 * which etcd3's gRPC client loads, lists it among its own dependencies.)
 */
const DEV_ONLY = [
  "typescript",
  "vitest",
  "@biomejs/biome",
  "turbo",
  "esbuild",
  "tsx",
  "drizzle-kit",
  "@playwright/test",
  "fast-check",
];

const EXPECTED: Record<ImageName, { appDir: string; loads: string[] }> = {
  "spotx-web": { appDir: "/app/apps/web", loads: ["next", "react", "socket.io", "pg"] },
  "spotx-worker": { appDir: "/app/apps/worker", loads: ["kafkajs", "pg", "etcd3", "drizzle-orm"] },
  "spotx-market-maker": { appDir: "/app/apps/market-maker", loads: ["pg", "drizzle-orm"] },
};

/** The packages of `names` that Node would find from `appDir` (its node_modules, then /app's, then /). */
async function installed(image: ImageName, appDir: string, names: string[]): Promise<string[]> {
  const script = `for p in "$@"; do for d in ${appDir} /app /; do if [ -e "$d/node_modules/$p/package.json" ]; then echo "$p"; break; fi; done; done`;
  const output = await podman([
    "run",
    "--rm",
    "--network",
    "none",
    image,
    "sh",
    "-c",
    script,
    "sh",
    ...names,
  ]);
  return output.split("\n").filter(Boolean);
}

/**
 * Walks the image's node_modules (the hoisted and the app's nested ones) and compares each
 * package with the lockfile's entry at the same place: the pruned install must keep them all.
 */
const LOCKFILE_CHECK = `
const fs = require("node:fs"), path = require("node:path");
const locked = JSON.parse(fs.readFileSync("/lockfile.json", "utf8")).packages;
const [appDir] = process.argv.slice(1);
const differ = [];
let count = 0;
function walk(dir, key) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const names = entry.startsWith("@") ? fs.readdirSync(path.join(dir, entry)).map((n) => entry + "/" + n) : [entry];
    for (const name of names) {
      const manifest = path.join(dir, name, "package.json");
      if (!fs.existsSync(manifest)) continue;
      count += 1;
      const version = JSON.parse(fs.readFileSync(manifest, "utf8")).version;
      const entryKey = key + name;
      if (locked[entryKey]?.version !== version) differ.push(entryKey + "@" + version);
      walk(path.join(dir, name, "node_modules"), entryKey + "/node_modules/");
    }
  }
}
walk("/app/node_modules", "node_modules/");
walk(appDir + "/node_modules", appDir.slice("/app/".length) + "/node_modules/");
console.log(JSON.stringify({ count, differ }));
`;

async function checkLockfileVersions(image: ImageName, appDir: string) {
  const output = await podman([
    "run",
    "--rm",
    "--network",
    "none",
    "--volume",
    `${path.join(repoRoot, "package-lock.json")}:/lockfile.json:ro`,
    image,
    "node",
    "-e",
    LOCKFILE_CHECK,
    appDir,
  ]);
  const { count, differ } = JSON.parse(output) as { count: number; differ: string[] };
  if (differ.length > 0) {
    throw new Error(
      `${image}: not as package-lock.json pins them: ${differ.slice(0, 10).join(", ")}`,
    );
  }
  return count;
}

export async function checkContents(
  image: ImageName,
  check: (what: string) => void,
): Promise<void> {
  const { appDir, loads } = EXPECTED[image];
  const user = (await podman(["image", "inspect", "--format", "{{.Config.User}}", image])).trim();
  if (user !== "10001:10001") throw new Error(`${image} runs as "${user}", not 10001:10001`);
  const dev = await installed(image, appDir, DEV_ONLY);
  if (dev.length > 0) throw new Error(`${image} holds devDependencies: ${dev.join(", ")}`);
  const found = await installed(image, appDir, loads);
  const missing = loads.filter((name) => !found.includes(name));
  if (missing.length > 0) throw new Error(`${image} lacks ${missing.join(", ")}`);
  const count = await checkLockfileVersions(image, appDir);
  check(
    `${image}: user 10001; ${count} packages, each as the lockfile pins it (${loads.join(", ")} among them); none of ${DEV_ONLY.length} devDependencies (${DEV_ONLY.slice(0, 3).join(", ")}, …)`,
  );
}

/** The real and effective uid of a process, from /proc. */
export function processUids(pid: number): { real: number; effective: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!match?.[1] || !match[2]) throw new Error(`no Uid line in /proc/${pid}/status`);
  return { real: Number(match[1]), effective: Number(match[2]) };
}
