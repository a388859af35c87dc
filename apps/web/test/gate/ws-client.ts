// A gate.io WebSocket client for tests, written from GATE_API.md: sends `{time, id, channel,
// event, payload}`, keeps every message (parsed, and its text), and awaits the one a test wants.
import WebSocket from "ws";

export type Message = Record<string, unknown> & {
  channel?: string;
  event?: string;
  id?: number;
  result?: unknown;
  error?: { code: number; message: string } | null;
};

export class WsClient {
  readonly received: Message[] = [];
  /** Each message's text as it arrived, beside its parsed form. */
  readonly texts: string[] = [];
  private wake: Array<() => void> = [];
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.texts.push(data.toString());
      this.received.push(JSON.parse(data.toString()) as Message);
      for (const wake of this.wake.splice(0)) wake();
    });
  }

  static async open(url: string): Promise<WsClient> {
    const ws = new WebSocket(url);
    const client = new WsClient(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    return client;
  }

  send(message: Record<string, unknown>): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ time: Math.floor(Date.now() / 1000), id, ...message }));
    return id;
  }

  /** Sends and waits for the answer with the same id. */
  async request(message: Record<string, unknown>): Promise<Message> {
    const id = this.send(message);
    return this.next((m) => m.id === id && m.event !== "update");
  }

  async next(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching WebSocket message arrived");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  updates(channel: string): Message[] {
    return this.received.filter((m) => m.channel === channel && m.event === "update");
  }
}
