// podman as the image test drives it: Debian's podman with runc and the settings of
// deploy/images/podman/containers.conf (given through CONTAINERS_CONF), host networking only.
// Never a pull: no registry is reachable, so every image is built or imported here.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { runCommand } from "../../../stack/src/commands/run";
import { lastLines } from "../../../stack/src/process";
import { aptInstall, which } from "../../../stack/src/system";

export const repoRoot = path.resolve(import.meta.dirname, "../../../..");
export const imagesCacheDir = path.join(repoRoot, ".cache", "images");
export const containerfile = path.join(repoRoot, "deploy", "images", "Containerfile");

/** The environment every podman call runs with. */
export const podmanEnv = {
  CONTAINERS_CONF: path.join(repoRoot, "deploy", "images", "podman", "containers.conf"),
};

const execFileAsync = promisify(execFile);

/** Installs what building and running the images needs when it is missing (as root, with apt). */
export function ensureContainerTools(): string[] {
  const needed: Array<[binary: string, pkg: string]> = [
    ["podman", "podman"],
    ["runc", "runc"],
    ["debootstrap", "debootstrap"],
  ];
  const missing = needed.filter(([binary]) => !which(binary)).map(([, pkg]) => pkg);
  if (missing.length > 0) aptInstall("images", missing);
  return missing;
}

/**
 * A short podman command's standard output (with its standard error too, for `logs`, where the
 * container's two streams arrive); its standard error in the failure.
 */
export async function podman(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; withStderr?: boolean } = {},
): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync("podman", args, {
      env: { ...process.env, ...podmanEnv, ...options.env },
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return options.withStderr ? `${stdout}${stderr}` : stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    const detail = (failure.stderr ?? "").trim() || failure.message;
    throw new Error(`podman ${args.slice(0, 2).join(" ")}: ${detail}`);
  }
}

/** Whether `podman <args>` exits with 0 (for checks whose failure is the expected answer). */
export async function podmanSucceeds(args: string[]): Promise<boolean> {
  try {
    await podman(args);
    return true;
  } catch {
    return false;
  }
}

/**
 * A long command (an image build, debootstrap), its output in `.data/logs/<name>.log`; a failure
 * shows the log's last lines.
 */
export async function runLogged(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const result = await runCommand(name, command, args, { env: { ...podmanEnv, ...env } });
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.slice(0, 2).join(" ")} failed (exit ${result.code}); last lines of ${path.relative(repoRoot, result.logFile)}:\n${lastLines(result.logFile, 25)}`,
    );
  }
}
