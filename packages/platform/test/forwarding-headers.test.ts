// Forwarding headers (Forwarded, X-Forwarded-*) are believed only from trusted proxies
// (service-process.ts believeForwardingOnlyFromProxies): with SPOTX_TRUSTED_PROXIES=0 no
// listener of the server ever sees them — not a request handler, not a WebSocket upgrade, not
// a library such as engine.io that takes the 'request' listeners over — and behind a trusted
// proxy they reach everyone unchanged.
import http from "node:http";
import { connect } from "node:net";
import { believeForwardingOnlyFromProxies } from "@spotx/platform/service-process";
import { afterEach, describe, expect, it } from "vitest";

const FORGED = {
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "https",
  "x-forwarded-for": "203.0.113.9",
  "x-forwarded-port": "443",
  forwarded: "for=203.0.113.9;host=evil.example;proto=https",
};

type Seen = { by: string; headers: http.IncomingHttpHeaders; raw: string[] };

let server: http.Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

/**
 * A server as the web process builds it: a request handler, then a library that takes the
 * 'request' listeners over as engine.io does (it answers /engine/ itself and hands the rest on),
 * and an upgrade listener.
 */
async function serve(trustedProxies: number): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const record = (by: string, req: http.IncomingMessage) =>
    seen.push({ by, headers: { ...req.headers }, raw: [...req.rawHeaders] });
  const created = http.createServer((req, res) => {
    record("handler", req);
    res.end();
  });
  const handlers = created.listeners("request");
  created.removeAllListeners("request");
  created.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url?.startsWith("/engine/")) {
      record("engine", req);
      res.end();
      return;
    }
    for (const handler of handlers) handler.call(created, req, res);
  });
  created.on("upgrade", (req: http.IncomingMessage, socket: import("node:net").Socket) => {
    record("upgrade", req);
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  believeForwardingOnlyFromProxies(created, trustedProxies);
  server = created;
  await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
  const address = created.address();
  return { port: typeof address === "object" && address ? address.port : 0, seen };
}

function upgrade(port: number, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", reject);
    socket.on("close", () => resolve());
    socket.resume();
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(
      `GET /ws/v4/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${lines.join("")}\r\n`,
    );
  });
}

async function sendEverywhere(port: number) {
  await fetch(`http://127.0.0.1:${port}/account`, { headers: FORGED });
  await fetch(`http://127.0.0.1:${port}/engine/?EIO=4&transport=polling`, { headers: FORGED });
  await upgrade(port, FORGED);
}

describe("without a trusted proxy", () => {
  it("no listener sees a forwarding header: handler, engine.io-style takeover, upgrade", async () => {
    const { port, seen } = await serve(0);
    await sendEverywhere(port);
    expect(seen.map((s) => s.by)).toEqual(["handler", "engine", "upgrade"]);
    for (const { headers, raw } of seen) {
      for (const name of Object.keys(FORGED)) expect(headers[name]).toBeUndefined();
      expect(raw.join("\n")).not.toMatch(/forwarded|evil\.example|203\.0\.113\.9/i);
      expect(headers.host).toMatch(/^127\.0\.0\.1/);
    }
  });

  it("removes them whatever their case, and keeps every other header", async () => {
    const { port, seen } = await serve(0);
    await upgrade(port, { "X-FORWARDED-HOST": "evil.example", "X-Request-Id": "r-1" });
    expect(seen[0]?.headers["x-forwarded-host"]).toBeUndefined();
    expect(seen[0]?.headers["x-request-id"]).toBe("r-1");
    expect(seen[0]?.headers.upgrade).toBe("websocket");
  });
});

describe("behind a trusted proxy", () => {
  it("every listener sees the proxy's forwarding headers unchanged", async () => {
    const { port, seen } = await serve(1);
    await sendEverywhere(port);
    expect(seen.map((s) => s.by)).toEqual(["handler", "engine", "upgrade"]);
    for (const { headers } of seen) {
      expect(headers["x-forwarded-host"]).toBe("evil.example");
      expect(headers["x-forwarded-proto"]).toBe("https");
      expect(headers.forwarded).toBe(FORGED.forwarded);
    }
  });
});
