// What every order request reads — the markets' rules, the last price of its market, its API
// key — is read from PostgreSQL once however many requests need it at the same moment: a cache
// that expires under load is refilled by one read, not by one read per waiting request (which,
// under load, queued for the same pool connections and made every read slower still).
import { randomBytes, randomUUID } from "node:crypto";
import { createApiKey, type Database, DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform/env";
import { logger } from "@spotx/platform/logger";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { type Topology, topology } from "@spotx/platform/topology";
import { drizzle } from "drizzle-orm/node-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyAuthenticator } from "../src/gate/authenticate";
import { MarketDirectory } from "../src/gate/market-directory";
import { signRequest } from "../src/gate/signature";
import { SignatureReplayGuard } from "../src/guards/replay";
import { TradingService } from "../src/trading/trading-service";
import { fundedTrader } from "./funded-trader";

let test: TestDatabase;
let names: Topology;
let redis: Redis;
const statements: string[] = [];
let counted: Database;
const halts = { get: () => ({ halted: false, reason: null }) };

beforeAll(async () => {
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  names = topology(`t${randomUUID().replaceAll("-", "").slice(0, 10)}`);
  redis = createRedis(platformEnv().REDIS_URL);
  counted = drizzle(test.pool, {
    schema,
    logger: { logQuery: (query) => statements.push(query) },
  });
});
afterAll(async () => {
  redis?.disconnect();
  await test?.drop();
});

/** The statements run since `from` that match `pattern`. */
const ran = (from: number, pattern: RegExp) =>
  statements.slice(from).filter((text) => pattern.test(text)).length;

const trader = () => fundedTrader(test.db);

describe("the placement service's reads", () => {
  it("read the market rules once and the last price once for 100 orders placed at the same moment", async () => {
    const userId = await trader();
    const trading = new TradingService({ db: counted, names, halts, cacheMs: 600_000 });
    const from = statements.length;
    const placed = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        trading.placeOrder(userId, {
          market: "BTC_USDT",
          side: "buy",
          type: "limit",
          price: String(20_000 + i),
          amount: "0.001",
        }),
      ),
    );
    expect(new Set(placed.map((p) => p.order.id)).size).toBe(100);
    expect(ran(from, /price_band_bps/)).toBe(1); // the market rules
    expect(ran(from, /from "trades"/i)).toBe(1); // the last price, for the price band
  });

  it("read the rules again, once, for a market it does not know yet", async () => {
    const trading = new TradingService({ db: counted, names, halts, cacheMs: 600_000 });
    const userId = await trader();
    await trading.placeOrder(userId, {
      market: "BTC_USDT",
      side: "buy",
      price: "20000",
      amount: "0.001",
    });
    const from = statements.length;
    const refused = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        trading.placeOrder(userId, { market: "DOGE_USDT", side: "buy", price: "1", amount: "1" }),
      ),
    );
    for (const outcome of refused) {
      expect(outcome).toMatchObject({
        status: "rejected",
        reason: { label: "INVALID_CURRENCY_PAIR" },
      });
    }
    expect(ran(from, /price_band_bps/)).toBe(1);
  });
});

describe("the gate.io API's reads", () => {
  it("read the markets once for 100 requests at the same moment", async () => {
    const directory = new MarketDirectory(counted, halts, 600_000);
    const from = statements.length;
    const found = await Promise.all(
      Array.from({ length: 100 }, () => directory.market("BTC_USDT")),
    );
    expect(found.every((m) => m.symbol === "BTC_USDT")).toBe(true);
    expect(ran(from, /from "markets"/i)).toBe(1);
  });

  it("read an API key once for 50 signed requests at the same moment, and keep nothing read across a revocation", async () => {
    const serverKey = randomBytes(32);
    const userId = await trader();
    const key = await createApiKey(test.db, serverKey, { userId, permissions: ["read"] });
    const authenticator = new ApiKeyAuthenticator({
      db: counted,
      serverKey,
      replay: new SignatureReplayGuard({ redis, names }),
      log: logger("test-auth"),
      keyCacheMs: 600_000,
    });
    const request = () => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signed = {
        method: "GET",
        path: "/api/v4/spot/orders",
        query: "",
        body: Buffer.alloc(0),
      };
      return {
        method: "GET",
        path: signed.path,
        rawQuery: "",
        body: signed.body,
        headers: {
          key: key.key,
          timestamp,
          sign: signRequest(key.secret, { ...signed, timestamp }),
        },
        ip: "127.0.0.1",
      };
    };
    const keyReads = (from: number) => ran(from, /from "api_keys"/i);

    let from = statements.length;
    const callers = await Promise.all(
      Array.from({ length: 50 }, () => authenticator.authenticate(request())),
    );
    expect(callers.every((c) => c.userId === userId)).toBe(true);
    expect(keyReads(from)).toBe(1);

    // A revocation announced while the key is being read: that read answers its requests, but
    // what it read is not kept — the next request reads again (and finds the key revoked).
    authenticator.forget({ userId });
    from = statements.length;
    const inFlight = authenticator.authenticate(request());
    authenticator.forget({ userId, keyId: key.id });
    await inFlight;
    await authenticator.authenticate(request());
    expect(keyReads(from)).toBe(2);
  });
});
