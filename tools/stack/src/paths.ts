// Where the stack keeps things: server data under .data/ (wiped by `reset`), downloaded
// artifacts under .cache/ (kept), both inside the checkout and ignored by git.

import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const dataDir = path.join(repoRoot, ".data");
export const cacheDir = path.join(repoRoot, ".cache");
export const runDir = path.join(dataDir, "run");
export const logDir = path.join(dataDir, "logs");

export const pidFile = (server: string) => path.join(runDir, `${server}.pid`);
export const logFile = (server: string) => path.join(logDir, `${server}.log`);
