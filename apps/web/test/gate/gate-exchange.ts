// What the gate.io API tests run against: a whole exchange of their own (startExchange: a test
// database, a namespace, real worker processes matching and settling) and, in this process, the
// web server's gate.io API exactly as main.ts composes it (startGateApi), on a plain HTTP server
// with the same request guards. Plus a signed client written from GATE_API.md alone.
import { createHash, createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import { GATE_PREFIX } from "@spotx/api/gate";
import { createApiKey, type Database, schema } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { logger } from "@spotx/platform/logger";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { apiKeySealingKey } from "@spotx/platform/secrets";
import { DATA_CONTENT_SECURITY_POLICY, guardRequest } from "@spotx/platform/service-process";
import { eq } from "drizzle-orm";
import { type Exchange, startExchange, waitFor } from "../../../worker/test/pipeline/exchange";
import { type GateApi, type GateApiOptions, startGateApi } from "../../src/server/gate-server";

export { waitFor };

export type GateKey = { key: string; secret: string; userId: bigint };

export type GateExchange = {
  exchange: Exchange;
  db: Database;
  redis: Redis;
  gate: GateApi;
  serverKey: Buffer;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The base URL a gate.io client is given. */
  baseUrl: string;
  server: http.Server;
  /** A user with balances and an API key. */
  trader(options?: {
    permissions?: Array<"read" | "trade">;
    ipAllowlist?: string[] | null;
    /** What the key does with a repeated signed request (`gate`, the default, accepts it). */
    replay?: "gate" | "strict";
    funds?: Record<string, bigint>;
  }): Promise<GateKey>;
  stop(): Promise<void>;
};

export async function startGateExchange(
  options: {
    worker?: boolean;
    cancelWaitMs?: number;
    websocket?: GateApiOptions["websocket"];
  } = {},
): Promise<GateExchange> {
  const exchange = await startExchange();
  if (options.worker !== false) exchange.startWorker();
  const redis = createRedis(platformEnv().REDIS_URL);
  const serverKey = randomBytes(32);
  const gate = await startGateApi({
    db: exchange.db,
    redis,
    etcd: exchange.etcd,
    names: exchange.names,
    marketConfig: exchange.config,
    serverKey,
    log: logger("gate-test"),
    trading: exchange.trading,
    cancelWaitMs: options.cancelWaitMs,
    websocket: options.websocket,
  });
  const log = logger("gate-test-http");
  const limits = { maxBodyBytes: 1024 * 1024, requestTimeoutMs: 30_000, trustedProxies: 0 };
  const server = http.createServer((req, res) => {
    if (!guardRequest(req, res, limits, DATA_CONTENT_SECURITY_POLICY, log)) return;
    if (gate.rest.handles(req)) {
      void gate.rest.serve(req, res);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ label: "NOT_FOUND", message: "no such endpoint" }));
  });
  gate.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  return {
    exchange,
    db: exchange.db,
    redis,
    gate,
    serverKey,
    url,
    baseUrl: `${url}${GATE_PREFIX}`,
    server,
    async trader(traderOptions = {}) {
      const userId = await exchange.createUser();
      for (const [asset, amount] of Object.entries(traderOptions.funds ?? {})) {
        await exchange.fund(userId, asset, amount);
      }
      const created = await createApiKey(exchange.db, apiKeySealingKey(serverKey), {
        userId,
        permissions: traderOptions.permissions ?? ["read", "trade"],
        ipAllowlist: traderOptions.ipAllowlist ?? null,
        replayMode: traderOptions.replay ?? "gate",
      });
      return { key: created.key, secret: created.secret, userId };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gate.close();
      redis.disconnect();
      await exchange.stop();
    },
  };
}

export async function freezeUser(db: Database, userId: bigint) {
  await db.update(schema.users).set({ status: "frozen" }).where(eq(schema.users.id, userId));
}

export type Answer = { status: number; headers: Headers; body: unknown; text: string };

/**
 * A gate.io client written from GATE_API.md alone: signs METHOD, PATH, QUERY, the SHA-512 of
 * the body and the Timestamp with HMAC-SHA512, sends KEY, Timestamp and SIGN.
 */
export class SignedClient {
  constructor(
    readonly baseUrl: string,
    readonly credentials: { key: string; secret: string } | null,
    readonly now: () => number = Date.now,
  ) {}

  async request(
    method: string,
    path: string,
    options: {
      query?: string;
      body?: string;
      headers?: Record<string, string>;
      sign?: string;
    } = {},
  ): Promise<Answer> {
    const query = options.query ?? "";
    const body = options.body ?? "";
    const url = new URL(this.baseUrl);
    const fullPath = `${url.pathname}${path}`;
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (body) headers["Content-Type"] = "application/json";
    if (this.credentials) {
      // Seconds with milliseconds, as gate.io's SDKs send them: two requests alike in every
      // other way within one second are still two requests (spotx refuses a repeated SIGN).
      const timestamp = (this.now() / 1000).toFixed(3);
      const payload = [
        method,
        fullPath,
        query,
        createHash("sha512").update(body).digest("hex"),
        timestamp,
      ].join("\n");
      headers.KEY = this.credentials.key;
      headers.Timestamp = timestamp;
      headers.SIGN =
        options.sign ?? createHmac("sha512", this.credentials.secret).update(payload).digest("hex");
      Object.assign(headers, options.headers);
    }
    const response = await fetch(`${url.origin}${fullPath}${query ? `?${query}` : ""}`, {
      method,
      headers,
      body: body || undefined,
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  get(path: string, query = "") {
    return this.request("GET", path, { query });
  }

  post(path: string, body: unknown, query = "") {
    return this.request("POST", path, { query, body: JSON.stringify(body) });
  }

  delete(path: string, query = "") {
    return this.request("DELETE", path, { query });
  }
}
