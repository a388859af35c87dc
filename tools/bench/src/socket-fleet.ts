// The parent's handle on the socket clients' process (socket-clients.ts): starts it, waits
// until every client is subscribed, and at the end trades the probes' placement times for the
// latency figures.
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { FleetResult, FleetStart, FleetToChild, FleetToParent } from "./socket-clients";

export type SocketFleet = {
  pid: number;
  connected: number;
  subscribed: number;
  finish(placedMs: number[]): Promise<FleetResult>;
  kill(): void;
};

export async function startSocketFleet(
  options: Omit<FleetStart, "type">,
): Promise<SocketFleet | { unavailable: string }> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, "socket-clients.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pid = child.pid;
  if (pid === undefined) return { unavailable: "could not start the socket clients' process" };
  const next = () =>
    new Promise<FleetToParent>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`socket clients' process exited (${code}) unexpectedly`));
      child.once("exit", onExit);
      child.once("message", (message: FleetToParent) => {
        child.off("exit", onExit);
        resolve(message);
      });
    });
  const start: FleetToChild = { type: "start", ...options };
  const answer = next();
  child.send(start);
  const first = await answer;
  if (first.type === "unavailable") return { unavailable: first.reason };
  if (first.type === "error") return { unavailable: first.message };
  if (first.type !== "ready") return { unavailable: `unexpected ${first.type}` };
  return {
    pid,
    connected: first.connected,
    subscribed: first.subscribed,
    async finish(placedMs) {
      const reply = next();
      const finish: FleetToChild = { type: "finish", placedMs };
      child.send(finish);
      const message = await reply;
      if (message.type === "result") return message.result;
      throw new Error(
        `socket clients: ${message.type === "error" ? message.message : message.type}`,
      );
    },
    kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
