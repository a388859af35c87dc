// A web instance's socket.io for pipeline tests: the web suite's own harness process
// (apps/web/test/socket-instance.ts: the same startSocketServer the web server runs), started
// in the exchange's namespace, and socket.io clients that keep what they receive in order.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { ClientToServerEvents, ServerToClientEvents } from "@spotx/protocol";
import { io, type Socket } from "socket.io-client";
import type { Exchange } from "./exchange";

const webDir = path.resolve(import.meta.dirname, "../../../web");

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

export type SocketInstance = {
  port: number;
  secretKey: Buffer;
  connect(token?: string): Promise<Recorder>;
  stop(): Promise<void>;
};

/** What one client received, with a way to await the first message that matches. */
export class Recorder {
  private readonly received: Array<{ event: EventName; payload: unknown }> = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: Client) {
    socket.onAny((event: EventName, payload: unknown) => {
      this.received.push({ event, payload });
      for (const wake of this.waiters) wake();
    });
  }

  async next<E extends EventName>(
    event: E,
    match: (payload: Payload<E>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Payload<E>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((r) => r.event === event && match(r.payload as Payload<E>));
      if (found) return found.payload as Payload<E>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching ${event} arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}

export async function startSocketInstance(exchange: Exchange): Promise<SocketInstance> {
  const secretKey = randomBytes(32);
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "test/socket-instance.ts"],
    {
      cwd: webDir,
      env: {
        ...process.env,
        DATABASE_URL: exchange.test.url,
        SPOTX_NAMESPACE: exchange.namespace,
        SPOTX_SECRET_KEY: secretKey.toString("hex"),
        LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? "error",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /socket instance listening on (\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`socket instance exited with ${code}`)));
  });
  const clients: Client[] = [];
  return {
    port,
    secretKey,
    async connect(token) {
      const socket: Client = io(`http://127.0.0.1:${port}`, {
        transports: ["websocket"],
        ...(token ? { auth: { token } } : {}),
      });
      clients.push(socket);
      const recorder = new Recorder(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      return recorder;
    },
    async stop() {
      for (const socket of clients) socket.close();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
