// A small layer-4 balancer: accepts TCP connections and pipes each to one healthy backend. Two
// uses in the clustered stack: the PostgreSQL endpoint (every connection to the one server that
// is not in recovery, so the apps follow a promotion as they would behind a virtual IP or
// HAProxy), and the web front door of `npm start -- --cluster` (connections spread round-robin
// over the web instances that answer /ready). Runs in-process, or as its own process:
//   node --import tsx tcp-proxy.ts --listen 25440 --postgres 25442,25443
import net from "node:net";
import pg from "pg";

export type Backend = { host: string; port: number };
export type BalancerMode =
  /** Every connection to the current primary; the primary changes only when it stops being one. */
  | { kind: "postgres-primary"; user: string; password: string }
  /** Connections spread over the backends whose HTTP `/ready` answers 200. */
  | { kind: "http-ready" };

export type Balancer = {
  readonly port: number;
  /** The backends taking new connections now. */
  healthy(): Backend[];
  close(): Promise<void>;
};

const key = (b: Backend) => `${b.host}:${b.port}`;

async function isPostgresPrimary(
  backend: Backend,
  user: string,
  password: string,
): Promise<boolean> {
  const client = new pg.Client({
    host: backend.host,
    port: backend.port,
    user,
    password,
    database: "postgres",
    connectionTimeoutMillis: 1_000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ recovery: boolean }>(
      "SELECT pg_is_in_recovery() AS recovery",
    );
    return result.rows[0]?.recovery === false;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function isHttpReady(backend: Backend): Promise<boolean> {
  try {
    const response = await fetch(`http://${backend.host}:${backend.port}/ready`, {
      signal: AbortSignal.timeout(1_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export async function startBalancer(options: {
  listen: number;
  host?: string;
  backends: Backend[];
  mode: BalancerMode;
  checkEveryMs?: number;
}): Promise<Balancer> {
  const { backends, mode } = options;
  const checkEveryMs = options.checkEveryMs ?? 500;
  let healthy: Backend[] = [];
  let primary: Backend | undefined;
  let next = 0;
  const open = new Map<string, Set<net.Socket>>();

  async function check() {
    if (mode.kind === "postgres-primary") {
      const states = await Promise.all(
        backends.map((b) => isPostgresPrimary(b, mode.user, mode.password)),
      );
      const stillPrimary = primary && states[backends.indexOf(primary)];
      if (!stillPrimary) {
        const previous = primary;
        primary = backends.find((_, i) => states[i]);
        // Connections to a server that stopped being the primary are cut, so no client keeps
        // writing to a demoted or dead server.
        if (previous && previous !== primary) dropConnections(previous);
      }
      healthy = primary ? [primary] : [];
    } else {
      const states = await Promise.all(backends.map(isHttpReady));
      const before = new Set(healthy.map(key));
      healthy = backends.filter((_, i) => states[i]);
      for (const b of backends) if (before.has(key(b)) && !healthy.includes(b)) dropConnections(b);
    }
  }

  function dropConnections(backend: Backend) {
    for (const socket of open.get(key(backend)) ?? []) socket.destroy();
    open.delete(key(backend));
  }

  await check();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    if (stopped) return;
    await check().catch(() => undefined);
    if (!stopped) timer = setTimeout(loop, checkEveryMs);
  };
  timer = setTimeout(loop, checkEveryMs);

  const server = net.createServer((client) => {
    const choices = healthy;
    if (choices.length === 0) {
      // Nothing to send it to: the client sees its connection closed at once, as it would
      // against a stopped server, rather than waiting out its own timeout.
      client.destroy();
      return;
    }
    const backend = choices[next++ % choices.length] as Backend;
    const upstream = net.connect(backend.port, backend.host);
    const set = open.get(key(backend)) ?? new Set<net.Socket>();
    open.set(key(backend), set);
    set.add(upstream);
    const close = () => {
      set.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.listen,
    healthy: () => [...healthy],
    async close() {
      stopped = true;
      clearTimeout(timer);
      for (const set of open.values()) for (const socket of set) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseArgs(argv: string[]) {
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const listen = Number(value("--listen"));
  const ports = (value("--postgres") ?? value("--http") ?? "")
    .split(",")
    .filter(Boolean)
    .map(Number);
  if (!Number.isInteger(listen) || ports.length === 0 || ports.some((p) => !Number.isInteger(p)))
    throw new Error("usage: tcp-proxy --listen PORT (--postgres|--http) PORT,PORT");
  const mode: BalancerMode = value("--postgres")
    ? {
        kind: "postgres-primary",
        user: process.env.PGPROXY_USER ?? "",
        password: process.env.PGPROXY_PASSWORD ?? "",
      }
    : { kind: "http-ready" };
  return { listen, backends: ports.map((port) => ({ host: "127.0.0.1", port })), mode };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const options = parseArgs(process.argv.slice(2));
  const balancer = await startBalancer(options);
  console.log(`balancer listening on 127.0.0.1:${balancer.port}`);
  const stop = () => void balancer.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
