// What the stack needs from the machine: Debian packages (installed with apt-get when we are
// root, otherwise named in an exact command for the user), Java 17+, and free disk.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export class StackError extends Error {
  constructor(
    readonly server: string,
    message: string,
  ) {
    super(`${server}: ${message}`);
    this.name = "StackError";
  }
}

export function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const isRoot = () => process.getuid?.() === 0;

/**
 * Installs Debian packages. When a policy-rc.d is absent we add one for the duration of the
 * install so that packages like etcd-server do not start a system service on the default
 * ports; an existing policy-rc.d belongs to the machine and is left exactly as it is.
 */
export function aptInstall(server: string, packages: string[]): void {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (!isRoot() || !which("apt-get")) {
    throw new StackError(server, `missing ${packages.join(", ")}; install with: sudo ${command}`);
  }
  process.stdout.write(`  installing ${packages.join(" ")} with apt-get…\n`);
  const policy = "/usr/sbin/policy-rc.d";
  const addedPolicy = !fs.existsSync(policy);
  if (addedPolicy)
    fs.writeFileSync(
      policy,
      "#!/bin/sh\n# added by spotx tools/stack during apt-get install\nexit 101\n",
      { mode: 0o755 },
    );
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", ...packages]]) {
      const result = spawnSync("apt-get", args, {
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (result.status !== 0) {
        const tail = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-3).join(" | ");
        throw new StackError(server, `apt-get ${args[0]} failed: ${tail}`);
      }
    }
  } finally {
    if (addedPolicy) fs.rmSync(policy, { force: true });
  }
}

/** The newest PostgreSQL server binaries Debian installed, if any. */
export function postgresBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(base).filter((v) => /^\d+$/.test(v));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(base, version, "bin");
    if (fs.existsSync(path.join(bin, "postgres")) && fs.existsSync(path.join(bin, "initdb"))) {
      if (Number(version) < 15) return undefined;
      return bin;
    }
  }
  return undefined;
}

export function javaMajorVersion(java: string): number | undefined {
  const result = spawnSync(java, ["-version"], { encoding: "utf8" });
  const text = `${result.stderr}${result.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match?.[1]) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

/** Fails when the filesystem holding `dir` has less than `minMiB` free. */
export function assertDiskSpace(server: string, dir: string, minMiB: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const stats = fs.statfsSync(dir);
  const freeMiB = Math.floor((stats.bavail * stats.bsize) / 1024 / 1024);
  if (freeMiB < minMiB) {
    throw new StackError(server, `disk full: ${freeMiB} MiB free under ${dir}, need ${minMiB} MiB`);
  }
}

export type Account = { user: string; uid: number; gid: number };

/** A system account's uid and gid from /etc/passwd. */
export function lookupAccount(user: string): Account | undefined {
  try {
    const line = execFileSync("getent", ["passwd", user], { encoding: "utf8" }).trim();
    const [, , uid, gid] = line.split(":");
    if (uid === undefined || gid === undefined) return undefined;
    return { user, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root, so as root we run it as the `postgres` account; that
 * account must be able to reach the data directory, so each ancestor gets o+x if it lacks it.
 */
export function makeTraversable(dir: string, account: Account): string[] {
  const changed: string[] = [];
  let current = path.dirname(dir);
  while (true) {
    const stat = fs.statSync(current);
    const reachable = (stat.mode & 0o001) !== 0 || stat.uid === account.uid;
    if (!reachable) {
      fs.chmodSync(current, stat.mode | 0o001);
      changed.push(current);
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return changed;
}

export const hostname = () => os.hostname();
