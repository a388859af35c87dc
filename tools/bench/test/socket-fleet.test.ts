// The socket fleet against a real socket.io server: every client subscribes — the measuring
// ones with socket.io-client, the others as listeners speaking engine.io and socket.io's
// packets by hand — all receive the broadcasts, and only the measuring ones time the probes.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import { type SocketFleet, startSocketFleet } from "../src/socket-fleet";
import { nowMs } from "../src/stats";

const TOP = 2_990_000;
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function bookServer() {
  const server = http.createServer();
  const io = new Server(server, { path: "/socket.io", serveClient: false });
  io.on("connection", (socket) => {
    socket.on("subscribe", (request: { channel: string; market: string }, reply) => {
      void socket.join(`book:${request.market}`);
      socket.emit("book.snapshot", { market: request.market, seq: 10, bids: [], asks: [] });
      reply({ ok: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise<void>((resolve) => io.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { io, url: `http://127.0.0.1:${port}` };
}

describe("the socket fleet", () => {
  it("subscribes measuring clients and listeners, and times probes over the measuring ones", async () => {
    const { io, url } = await bookServer();
    const started = await startSocketFleet({
      url,
      market: "BTC_USDT",
      clients: 10,
      measuring: 4,
      pricePrecision: 2,
      probeTopTicks: TOP,
      maxProbes: 5,
    });
    if ("unavailable" in started) throw new Error(started.unavailable);
    const fleet: SocketFleet = started;
    cleanup.push(() => fleet.kill());
    expect(fleet.subscribed).toBe(10);
    expect(io.sockets.adapter.rooms.get("book:BTC_USDT")?.size).toBe(10);

    const placed = [nowMs(), nowMs()];
    // Probe 0 at 29,900.00 and probe 1 at 29,899.99, in two deltas.
    io.to("book:BTC_USDT").emit("book.delta", {
      market: "BTC_USDT",
      U: 11,
      u: 11,
      time: Date.now(),
      bids: [["29900.00", "0.0010"]],
      asks: [],
    });
    io.to("book:BTC_USDT").emit("book.delta", {
      market: "BTC_USDT",
      U: 12,
      u: 12,
      time: Date.now(),
      bids: [["29899.99", "0.0010"]],
      asks: [],
    });
    // The listeners' frames arrive whether or not anyone decodes them; wait until they have.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await fleet.finish(placed);
    expect(result).toMatchObject({
      clients: 10,
      measuring: 4,
      subscribed: 10,
      probes: 2,
      samples: 8,
      missing: 0,
      gaps: 0,
      deltas_received: 8,
    });
    // 6 listeners × 2 deltas (the snapshot came before the subscribe's ack, while decoding)
    expect(result.listener_frames).toBe(12);
    expect(result.p99_ms).toBeGreaterThan(0);
    expect(result.p99_ms).toBeLessThan(300);
  });
});
