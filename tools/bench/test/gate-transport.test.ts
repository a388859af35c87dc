// The generators' client signs exactly as the web server verifies (packages/api's gate.io
// signature module), sends the bytes it signed, and reads gate.io's answers and refusals.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { signaturesMatch, signRequest } from "@spotx/api/gate";
import { afterEach, describe, expect, it } from "vitest";
import { GateTransport, signGateRequest } from "../src/gate-transport";

const SECRET = "5f0c7f4a9d1e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4";
const KEY = "bench-key-1";

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

/** A stand-in for the web server's front door: checks SIGN with the server's own function. */
async function verifyingServer(answer: (seen: Seen) => { status: number; body: unknown }) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const mark = url.indexOf("?");
      const request = {
        method: req.method ?? "GET",
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(request);
      const expected = signRequest(SECRET, {
        method: request.method,
        path: mark < 0 ? url : url.slice(0, mark),
        query: mark < 0 ? "" : url.slice(mark + 1),
        body: request.body,
        timestamp: String(req.headers.timestamp),
      });
      const valid = req.headers.key === KEY && signaturesMatch(expected, String(req.headers.sign));
      const reply = valid
        ? answer(request)
        : { status: 401, body: { label: "INVALID_SIGNATURE", message: "signature mismatch" } };
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, seen, url: `http://127.0.0.1:${port}` };
}

const servers: http.Server[] = [];
const transports: GateTransport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

function transportFor(url: string, secret = SECRET, timeoutMs = 10_000) {
  const t = new GateTransport(url, new Map([[7n, { key: KEY, secret }]]), 4, timeoutMs);
  transports.push(t);
  return t;
}

describe("the generators' gate.io client", () => {
  it("signs the way the server computes signatures", () => {
    const request = {
      method: "DELETE",
      path: "/api/v4/spot/orders/123",
      query: "currency_pair=BTC_USDT",
      body: "",
      timestamp: "1700000000.125",
    };
    expect(signGateRequest(SECRET, request)).toBe(signRequest(SECRET, request));
  });

  it("places with a signed POST whose body is the bytes it signed, and reads the order id", async () => {
    const stub = await verifyingServer(() => ({
      status: 201,
      body: { id: "9007199254740993", status: "open" },
    }));
    servers.push(stub.server);
    const answer = await transportFor(stub.url).place(7n, {
      market: "BTC_USDT",
      side: "buy",
      price: "29999.95",
      amount: "0.0025",
      timeInForce: "gtc",
    });
    expect(answer).toEqual({ orderId: 9_007_199_254_740_993n });
    const [seen] = stub.seen;
    expect(seen?.method).toBe("POST");
    expect(seen?.url).toBe("/api/v4/spot/orders");
    expect(JSON.parse(seen?.body ?? "{}")).toEqual({
      currency_pair: "BTC_USDT",
      type: "limit",
      account: "spot",
      side: "buy",
      amount: "0.0025",
      price: "29999.95",
      time_in_force: "gtc",
    });
  });

  it("cancels with a signed DELETE carrying the pair in the query, over one kept-alive connection", async () => {
    const stub = await verifyingServer(() => ({
      status: 200,
      body: { id: "5", status: "cancelled" },
    }));
    servers.push(stub.server);
    const sockets = new Set<unknown>();
    stub.server.on("connection", (socket) => sockets.add(socket));
    const transport = transportFor(stub.url);
    expect(await transport.cancel(7n, "ETH_USDT", "5")).toEqual({ error: null });
    expect(await transport.cancel(7n, "ETH_USDT", "6")).toEqual({ error: null });
    expect(stub.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "DELETE /api/v4/spot/orders/5?currency_pair=ETH_USDT",
      "DELETE /api/v4/spot/orders/6?currency_pair=ETH_USDT",
    ]);
    expect(sockets.size).toBe(1);
  });

  it("answers a refusal with gate.io's label, and a request signed with the wrong secret is refused", async () => {
    const stub = await verifyingServer(() => ({
      status: 400,
      body: { label: "ORDER_CLOSED", message: "order 5 is already filled" },
    }));
    servers.push(stub.server);
    expect(await transportFor(stub.url).cancel(7n, "BTC_USDT", "5")).toEqual({
      error: "ORDER_CLOSED",
    });
    expect(await transportFor(stub.url, "another secret").cancel(7n, "BTC_USDT", "5")).toEqual({
      error: "INVALID_SIGNATURE",
    });
  });

  it("gives up on a request the server never answers, as a refusal", async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    servers.push(silent);
    const { port } = silent.address() as AddressInfo;
    const answer = await transportFor(`http://127.0.0.1:${port}`, SECRET, 200).cancel(
      7n,
      "BTC_USDT",
      "5",
    );
    expect(answer).toEqual({ error: "NETWORK_TIMEOUT" });
  });
});
