// The layer-4 balancer of `npm start -- --web N` and of the clustered stack's PostgreSQL
// endpoint: connections go only to backends that pass its check, and a backend that stops
// passing has its connections cut.
import http from "node:http";
import net from "node:net";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { type Balancer, startBalancer } from "../src/cluster/tcp-proxy";
import { parseStartArgs } from "../src/commands/start";
import { POSTGRES_PASSWORD, POSTGRES_PORT, POSTGRES_USER } from "../src/servers/postgres";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An HTTP server answering /ready with `status()` and / with its own name. */
async function backend(name: string, status: () => number) {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === "/ready" ? status() : 200, { connection: "close" });
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port, server };
}

async function balance(...args: Parameters<typeof startBalancer>): Promise<Balancer> {
  const balancer = await startBalancer(...args);
  closers.push(() => balancer.close());
  return balancer;
}

async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const get = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`)).text();

describe("the web balancer", () => {
  it("spreads connections over the instances answering /ready, and drops one that stops", async () => {
    let bReady = 200;
    const a = await backend("a", () => 200);
    const b = await backend("b", () => bReady);
    const c = await backend("c", () => 503);
    const balancer = await balance({
      listen: 0,
      backends: [a, b, c].map(({ port }) => ({ host: "127.0.0.1", port })),
      mode: { kind: "http-ready" },
      checkEveryMs: 50,
    });
    expect(balancer.healthy().map((x) => x.port)).toEqual([a.port, b.port]);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await get(balancer.port));
    expect([...seen].sort()).toEqual(["a", "b"]);

    bReady = 503;
    await until(() => balancer.healthy().length === 1, "b to leave");
    for (let i = 0; i < 4; i++) expect(await get(balancer.port)).toBe("a");
  });

  it("closes a connection at once when no instance is ready", async () => {
    const down = await backend("down", () => 503);
    const balancer = await balance({
      listen: 0,
      backends: [{ host: "127.0.0.1", port: down.port }],
      mode: { kind: "http-ready" },
    });
    await expect(get(balancer.port)).rejects.toThrow();
  });
});

describe("the PostgreSQL endpoint", () => {
  it("leads to the server that is not in recovery, skipping one that does not answer", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const balancer = await balance({
      listen: 0,
      backends: [
        { host: "127.0.0.1", port: closed },
        { host: "127.0.0.1", port: POSTGRES_PORT },
      ],
      mode: { kind: "postgres-primary", user: POSTGRES_USER, password: POSTGRES_PASSWORD },
    });
    expect(balancer.healthy()).toEqual([{ host: "127.0.0.1", port: POSTGRES_PORT }]);
    const client = new pg.Client({
      host: "127.0.0.1",
      port: balancer.port,
      user: POSTGRES_USER,
      password: POSTGRES_PASSWORD,
      database: "postgres",
    });
    await client.connect();
    try {
      const row = await client.query<{ port: number; recovery: boolean }>(
        "SELECT current_setting('port')::int AS port, pg_is_in_recovery() AS recovery",
      );
      expect(row.rows[0]).toEqual({ port: POSTGRES_PORT, recovery: false });
    } finally {
      await client.end();
    }
  });
});

describe("npm start's arguments", () => {
  it("reads --cluster, --web N and --workers N, and refuses the rest", () => {
    expect(parseStartArgs([])).toEqual({ cluster: false, webs: 1, workers: 1 });
    expect(parseStartArgs(["--cluster", "--web", "2", "--workers", "3"])).toEqual({
      cluster: true,
      webs: 2,
      workers: 3,
    });
    expect(() => parseStartArgs(["--web", "0"])).toThrow(/--web takes a number from 1 to 8/);
    expect(() => parseStartArgs(["--workers", "x"])).toThrow(/--workers/);
    expect(() => parseStartArgs(["--webs", "2"])).toThrow(/unknown argument --webs/);
  });
});
