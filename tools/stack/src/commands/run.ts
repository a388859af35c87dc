// Running the repo's own commands from the orchestrators, with their output in a log file
// unless it is worth showing.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { logDir, repoRoot } from "../paths";
import { lastLines } from "../process";

/** Tools we run must not phone home from a machine that may have no route out. */
export const quietToolsEnv = {
  NEXT_TELEMETRY_DISABLED: "1",
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
};

export type RunResult = { code: number; logFile: string };

/** Runs a command to completion; output goes to `.data/logs/<name>.log` or the terminal. */
export function runCommand(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; showOutput?: boolean; cwd?: string } = {},
): Promise<RunResult> {
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const log = fs.openSync(logFile, "w");
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...quietToolsEnv, ...options.env },
    stdio: ["ignore", options.showOutput ? "inherit" : log, options.showOutput ? "inherit" : log],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      fs.closeSync(log);
      resolve({ code: code ?? (signal ? 128 : 1), logFile });
    });
  });
}

export function failureTail(result: RunResult, lines = 25): string {
  return lastLines(result.logFile, lines);
}
