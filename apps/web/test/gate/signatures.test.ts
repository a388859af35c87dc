// Signed requests as GATE_API.md defines them: a known key, secret and request give a known
// SIGN — the same one gate.io's own SDK computes — and every way a request can be wrong is
// refused with its label: wrong secret, altered body or query, a query rewritten to mean
// something else, a skewed clock, a replay to a strict key however it is cased, a revoked key, a read-only key placing an order, a frozen user trading, an address outside the
// key's allowlist, missing headers.
import { announceCredentialChange } from "@spotx/api/auth/credential-events";
import {
  EMPTY_BODY_HASH,
  GATE_ROUTES,
  KEY_CACHE_MS,
  signaturePayload,
  signChannel,
  signRequest,
} from "@spotx/api/gate";
import { revokeApiKey, schema } from "@spotx/db";
import { eq, sql } from "drizzle-orm";
import { GateApiV4Auth } from "gate-api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type Answer,
  freezeUser,
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
} from "./gate-exchange";

describe("the signature (vectors)", () => {
  const secret = "5f6ce7f69bb2a6e0c2ee03b3a1a7de0ee02eb0fe7ef98c8ea27f23f1b1a7b1d3";
  const order =
    '{"currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"buy","amount":"0.01","price":"30000","text":"t-abc","time_in_force":"gtc"}';

  it("hashes an empty body as SHA-512 of the empty string", () => {
    expect(EMPTY_BODY_HASH.startsWith("cf83e1357eefb8bd")).toBe(true);
  });

  it("gives the known SIGN for a known request", () => {
    const request = {
      method: "POST",
      path: "/api/v4/spot/orders",
      query: "",
      body: order,
      timestamp: "1700000000",
    };
    expect(signaturePayload(request).split("\n").slice(0, 3)).toEqual([
      "POST",
      "/api/v4/spot/orders",
      "",
    ]);
    // Computed independently (Python's hmac/hashlib) from GATE_API.md's formula.
    expect(signRequest(secret, request)).toBe(
      "9b10d536d4ee7af751c0805fb22979df04c78536a517d28293e5f9aa81b9fe97ed2e0adffae9547f3c72e52b09842d1e506623c3ea85540eb2e82a65b9794f73",
    );
  });

  it("is what gate.io's own SDK signs, for a body and for a query", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_700_000_000_123);
    try {
      const auth = new GateApiV4Auth();
      auth.key = "k";
      auth.secret = secret;
      const post = auth.applyToRequest({
        method: "POST",
        url: "http://h/api/v4/spot/orders",
        headers: {},
        data: order,
        params: {},
      });
      const get = auth.applyToRequest({
        method: "GET",
        url: "http://h/api/v4/spot/orders",
        headers: {},
        params: { currency_pair: "BTC_USDT", status: "open" },
      });
      // The SDK's Timestamp has milliseconds: it is signed as sent.
      expect(post.headers?.Timestamp).toBe("1700000000.123");
      expect(post.headers?.SIGN).toBe(
        signRequest(secret, {
          method: "POST",
          path: "/api/v4/spot/orders",
          query: "",
          body: order,
          timestamp: "1700000000.123",
        }),
      );
      expect(get.headers?.SIGN).toBe(
        signRequest(secret, {
          method: "GET",
          path: "/api/v4/spot/orders",
          query: "currency_pair=BTC_USDT&status=open",
          body: "",
          timestamp: "1700000000.123",
        }),
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it("signs WebSocket channels over channel, event and time", () => {
    expect(signChannel(secret, "spot.orders", "subscribe", 1700000000)).toBe(
      "ce47e4245253953bba835b7252284a04c04092a9e08e05c7f8c2adad341bd27ba05ad32604d30794dd7f6d9ab95a88e58c7e7e34bb2a23628578c98656a4b3e7",
    );
    expect(signChannel(secret, "spot.orders", "subscribe", 1700000000)).not.toBe(
      signChannel(secret, "spot.orders", "subscribe", 1700000001),
    );
  });
});

let gx: GateExchange;
let trader: GateKey;
beforeAll(async () => {
  // No worker: nothing here needs an order to trade.
  // (Without a worker no cancel is ever settled: DELETE waits only briefly.)
  gx = await startGateExchange({ worker: false, cancelWaitMs: 200 });
  trader = await gx.trader({ funds: { USDT: 1_000_000_000n, BTC: 100_000_000n } });
});
afterAll(async () => {
  await gx?.stop();
});

const order = { currency_pair: "BTC_USDT", side: "buy", amount: "0.01", price: "20000" };

function expectRefusal(answer: Answer, status: number, label: string) {
  expect({ status: answer.status, label: (answer.body as { label?: string })?.label }).toEqual({
    status,
    label,
  });
  // Nothing internal in a refusal: a label and a sentence.
  expect(Object.keys(answer.body as object).sort()).toEqual(["label", "message"]);
}

async function orderCount(userId: bigint) {
  const rows = await gx.db.select().from(schema.orders).where(eq(schema.orders.userId, userId));
  return rows.length;
}

describe("signed requests", () => {
  it("are accepted when signed right, and record the key's use once", async () => {
    const client = new SignedClient(gx.baseUrl, trader);
    const answer = await client.get("/spot/accounts");
    expect(answer.status).toBe(200);
    const [key] = await gx.db
      .select()
      .from(schema.apiKeys)
      .where(eq(schema.apiKeys.key, trader.key));
    expect(key?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("refuse a wrong secret, an altered body and an altered query with INVALID_SIGNATURE", async () => {
    const wrong = new SignedClient(gx.baseUrl, { key: trader.key, secret: "0".repeat(64) });
    expectRefusal(await wrong.get("/spot/accounts"), 401, "INVALID_SIGNATURE");

    const client = new SignedClient(gx.baseUrl, trader);
    const body = JSON.stringify(order);
    const signed = await signedHeaders("POST", "/api/v4/spot/orders", "", body);
    const altered = await fetch(`${gx.url}/api/v4/spot/orders`, {
      method: "POST",
      headers: { ...signed, "Content-Type": "application/json" },
      body: body.replace("0.01", "0.02"),
    });
    expectRefusal(await asAnswer(altered), 401, "INVALID_SIGNATURE");

    const query = await signedHeaders("GET", "/api/v4/spot/accounts", "currency=BTC", "");
    const otherQuery = await fetch(`${gx.url}/api/v4/spot/accounts?currency=USDT`, {
      headers: query,
    });
    expectRefusal(await asAnswer(otherQuery), 401, "INVALID_SIGNATURE");
    // The same query reordered is another query: signed over the raw string, as sent.
    const ordered = await signedHeaders(
      "GET",
      "/api/v4/spot/orders",
      "currency_pair=BTC_USDT&status=open",
      "",
    );
    const reordered = await fetch(
      `${gx.url}/api/v4/spot/orders?status=open&currency_pair=BTC_USDT`,
      {
        headers: ordered,
      },
    );
    expectRefusal(await asAnswer(reordered), 401, "INVALID_SIGNATURE");
    expect(await orderCount(trader.userId)).toBe(0);
    expect((await client.get("/spot/orders", "currency_pair=BTC_USDT&status=open")).status).toBe(
      200,
    );
  });

  it("refuse a Timestamp more than 60 s away with REQUEST_EXPIRED", async () => {
    const behind = new SignedClient(gx.baseUrl, trader, () => Date.now() - 61_000);
    expectRefusal(await behind.get("/spot/accounts"), 401, "REQUEST_EXPIRED");
    const ahead = new SignedClient(gx.baseUrl, trader, () => Date.now() + 61_000);
    expectRefusal(await ahead.get("/spot/accounts"), 401, "REQUEST_EXPIRED");
    const close = new SignedClient(gx.baseUrl, trader, () => Date.now() - 50_000);
    expect((await close.get("/spot/accounts")).status).toBe(200);
  });

  it('accept the same signed request again on a key with replay "gate" (the default), as gate.io does', async () => {
    // A program's cancel-all at the end of one run and the start of the next, in one second.
    const cancel = await signedHeaders(
      "DELETE",
      "/api/v4/spot/orders",
      "currency_pair=BTC_USDT",
      "",
    );
    const url = `${gx.url}/api/v4/spot/orders?currency_pair=BTC_USDT`;
    expect((await fetch(url, { method: "DELETE", headers: cancel })).status).toBe(200);
    expect((await fetch(url, { method: "DELETE", headers: cancel })).status).toBe(200);
    // A grid's two identical orders, signed with the same whole-second Timestamp.
    const before = await orderCount(trader.userId);
    const body = JSON.stringify({ ...order, price: "19000" });
    const headers = {
      ...(await signedHeaders("POST", "/api/v4/spot/orders", "", body)),
      "Content-Type": "application/json",
    };
    for (let i = 0; i < 2; i++) {
      const placed = await fetch(`${gx.url}/api/v4/spot/orders`, { method: "POST", headers, body });
      expect(placed.status).toBe(201);
    }
    expect(await orderCount(trader.userId)).toBe(before + 2);
  });

  it("refuse a strict key's signed order a second time, however its SIGN is cased; a read may repeat", async () => {
    const strict = await gx.trader({ replay: "strict", funds: { USDT: 1_000_000_000n } });
    const body = JSON.stringify({ ...order, price: "21000", text: "t-replayed" });
    const headers = {
      ...(await signedHeaders("POST", "/api/v4/spot/orders", "", body, strict)),
      "Content-Type": "application/json",
    };
    const post = (sign: string) =>
      fetch(`${gx.url}/api/v4/spot/orders`, {
        method: "POST",
        headers: { ...headers, SIGN: sign },
        body,
      });
    expect((await post(headers.SIGN)).status).toBe(201);
    // The same bytes again, as sent, in upper case and in mixed case: one signature, one claim.
    const mixed = [...headers.SIGN].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join("");
    for (const sign of [headers.SIGN, headers.SIGN.toUpperCase(), mixed]) {
      const again = await asAnswer(await post(sign));
      expectRefusal(again, 400, "DUPLICATE_REQUEST");
      expect((again.body as { message: string }).message).toContain("already received");
    }
    expect(await orderCount(strict.userId)).toBe(1);
    const cancel = await signedHeaders(
      "DELETE",
      "/api/v4/spot/orders",
      "currency_pair=BTC_USDT",
      "",
      strict,
    );
    // The same cancel again is refused before it reaches the engine.
    const url = `${gx.url}/api/v4/spot/orders?currency_pair=BTC_USDT`;
    expect((await fetch(url, { method: "DELETE", headers: cancel })).status).toBe(200);
    const replayed = await fetch(url, { method: "DELETE", headers: cancel });
    expectRefusal(await asAnswer(replayed), 400, "DUPLICATE_REQUEST");
    const read = await signedHeaders("GET", "/api/v4/spot/accounts", "", "", strict);
    for (let i = 0; i < 2; i++) {
      expect((await fetch(`${gx.url}/api/v4/spot/accounts`, { headers: read })).status).toBe(200);
    }
  });

  it("keep a strict key's claim for as long as a Timestamp ahead of the server still verifies", async () => {
    const strict = await gx.trader({ replay: "strict" });
    // Signed 50 s ahead: valid until 110 s from now, longer than the window itself.
    const ahead = String(Math.floor(Date.now() / 1000) + 50);
    const cancel = {
      KEY: strict.key,
      Timestamp: ahead,
      SIGN: signRequest(strict.secret, {
        method: "DELETE",
        path: "/api/v4/spot/orders",
        query: "currency_pair=BTC_USDT",
        body: "",
        timestamp: ahead,
      }),
    };
    const url = `${gx.url}/api/v4/spot/orders?currency_pair=BTC_USDT`;
    expect((await fetch(url, { method: "DELETE", headers: cancel })).status).toBe(200);
    const keys = await gx.redis.keys(`${gx.exchange.names.namespace}:api:sign:*`);
    const ttls = await Promise.all(keys.map((key) => gx.redis.pttl(key)));
    // The newest claim lives past the moment its Timestamp stops verifying (now + 110 s).
    expect(Math.max(...ttls)).toBeGreaterThan(109_000);
  });

  it("act on the query that was verified: a decoded form is accepted only when it means the same", async () => {
    // gate.io's SDK signs the query unescaped and sends it escaped: the same names and values.
    const listed = await signedHeaders(
      "GET",
      "/api/v4/spot/orders",
      "currency_pair=BTC_USDT&status=open",
      "",
    );
    const escaped = await fetch(
      `${gx.url}/api/v4/spot/orders?currency_pair=BTC%5FUSDT&status=open`,
      { headers: listed },
    );
    expect(escaped.status).toBe(200);
    // A signed one-sided cancel-all, replayed with its separators escaped: it would verify
    // decoded, but parses as one unknown name — a cancel of every order. Refused.
    const resting = await gx.trader({ funds: { USDT: 1_000_000_000n, BTC: 100_000_000n } });
    const client = new SignedClient(gx.baseUrl, resting);
    expect((await client.post("/spot/orders", { ...order, price: "18000" })).status).toBe(201);
    expect(
      (await client.post("/spot/orders", { ...order, side: "sell", price: "90000" })).status,
    ).toBe(201);
    const sells = await signedHeaders(
      "DELETE",
      "/api/v4/spot/orders",
      "currency_pair=BTC_USDT&side=sell",
      "",
      resting,
    );
    const rewritten = await fetch(
      `${gx.url}/api/v4/spot/orders?currency_pair%3DBTC_USDT%26side%3Dsell`,
      { method: "DELETE", headers: sells },
    );
    expectRefusal(await asAnswer(rewritten), 401, "INVALID_SIGNATURE");
    const queued = await gx.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM outbox o JOIN orders r ON r.id::text = o.payload->'command'->>'orderId'
           WHERE payload->'command'->>'type' = 'cancel' AND r.user_id = ${resting.userId}`,
    );
    expect(queued.rows[0]?.n).toBe(0);
  });

  it("refuse a query parameter a signed endpoint does not know with INVALID_PARAM_VALUE", async () => {
    const client = new SignedClient(gx.baseUrl, trader);
    const unknown = await client.delete("/spot/orders", "currency_pair=BTC_USDT&sid=sell");
    expectRefusal(unknown, 400, "INVALID_PARAM_VALUE");
    expect((unknown.body as { message: string }).message).toBe("unknown parameter: sid");
    expectRefusal(
      await client.post("/spot/orders", order, "currency_pair=BTC_USDT"),
      400,
      "INVALID_PARAM_VALUE",
    );
    expectRefusal(
      await client.get("/spot/orders", "currency_pair=BTC_USDT&status=open&pagee=2"),
      400,
      "INVALID_PARAM_VALUE",
    );
  });

  it("refuse a page past 100,000 rows back with INVALID_PARAM_VALUE", async () => {
    const client = new SignedClient(gx.baseUrl, trader);
    const deep = await client.get(
      "/spot/orders",
      "currency_pair=BTC_USDT&status=finished&page=1002&limit=100",
    );
    expectRefusal(deep, 400, "INVALID_PARAM_VALUE");
    expect(
      (
        await client.get(
          "/spot/orders",
          "currency_pair=BTC_USDT&status=finished&page=1001&limit=100",
        )
      ).status,
    ).toBe(200);
    expectRefusal(
      await client.get("/spot/my_trades", "page=102&limit=1000"),
      400,
      "INVALID_PARAM_VALUE",
    );
    const publicTrades = await fetch(
      `${gx.url}/api/v4/spot/trades?currency_pair=BTC_USDT&page=100000&limit=1000`,
    );
    expectRefusal(await asAnswer(publicTrades), 400, "INVALID_PARAM_VALUE");
  });

  it("refuse a missing header with MISSING_REQUIRED_HEADER and an unknown key with INVALID_KEY", async () => {
    const bare = await fetch(`${gx.url}/api/v4/spot/accounts`);
    expectRefusal(await asAnswer(bare), 401, "MISSING_REQUIRED_HEADER");
    const headers = await signedHeaders("GET", "/api/v4/spot/accounts", "", "");
    const noSign = await fetch(`${gx.url}/api/v4/spot/accounts`, {
      headers: { KEY: headers.KEY, Timestamp: headers.Timestamp },
    });
    expectRefusal(await asAnswer(noSign), 401, "MISSING_REQUIRED_HEADER");
    const unknown = new SignedClient(gx.baseUrl, { key: "f".repeat(32), secret: trader.secret });
    expectRefusal(await unknown.get("/spot/accounts"), 401, "INVALID_KEY");
  });

  it("refuse a revoked key with INVALID_KEY: at once when announced, within the key cache's life when not", async () => {
    const keyIdOf = async (key: string) =>
      (
        await gx.db
          .select({ id: schema.apiKeys.id })
          .from(schema.apiKeys)
          .where(eq(schema.apiKeys.key, key))
      )[0]?.id;
    // Revoked as account.apiKeys.revoke does it: in the database, then announced.
    const owner = await gx.trader();
    const client = new SignedClient(gx.baseUrl, owner);
    expect((await client.get("/spot/accounts")).status).toBe(200);
    expect(await revokeApiKey(gx.db, owner.userId, owner.key)).toBe(true);
    await announceCredentialChange(gx.redis, gx.exchange.names, {
      userId: owner.userId,
      keyId: await keyIdOf(owner.key),
      reason: "key_revoked",
    });
    const announced = Date.now();
    await refusedWithin(client, 1_000);
    expect(Date.now() - announced).toBeLessThan(1_000);
    // Revoked in the database alone (an announcement lost): the kept key expires.
    const other = await gx.trader();
    const unannounced = new SignedClient(gx.baseUrl, other);
    expect((await unannounced.get("/spot/accounts")).status).toBe(200);
    expect(await revokeApiKey(gx.db, other.userId, other.key)).toBe(true);
    await refusedWithin(unannounced, KEY_CACHE_MS + 1_000);
  });

  it("refuse a read-only key placing or cancelling an order with FORBIDDEN; it still reads", async () => {
    const reader = await gx.trader({ permissions: ["read"], funds: { USDT: 1_000_000_000n } });
    const client = new SignedClient(gx.baseUrl, reader);
    expectRefusal(await client.post("/spot/orders", order), 403, "FORBIDDEN");
    expectRefusal(await client.delete("/spot/orders", "currency_pair=BTC_USDT"), 403, "FORBIDDEN");
    const priceOrder = {
      market: "BTC_USDT",
      trigger: { price: "20000", rule: "<=" },
      put: { side: "buy", price: "20000", amount: "0.01" },
    };
    expectRefusal(await client.post("/spot/price_orders", priceOrder), 403, "FORBIDDEN");
    expectRefusal(await client.delete("/spot/price_orders"), 403, "FORBIDDEN");
    expectRefusal(await client.delete("/spot/price_orders/1"), 403, "FORBIDDEN");
    expect((await client.get("/spot/price_orders", "status=open")).status).toBe(200);
    expect((await client.get("/spot/accounts")).status).toBe(200);
    expect(await orderCount(reader.userId)).toBe(0);
  });

  it("authorize every route as it is declared: no key → 401, a read-only key trading → 403", async () => {
    const reader = await gx.trader({ permissions: ["read"], funds: { USDT: 1_000_000_000n } });
    const readOnly = new SignedClient(gx.baseUrl, reader);
    const anonymous = new SignedClient(gx.baseUrl, null);
    const concrete = (path: string) => path.replace(/\{[a-z_]+\}/g, "1");
    for (const route of GATE_ROUTES) {
      const path = concrete(route.path);
      const body = route.method === "POST" || route.method === "PATCH" ? "{}" : undefined;
      if (route.access !== "public") {
        const answer = await anonymous.request(route.method, path, { body });
        expect(answer.status, `${route.method} ${route.path} without a key`).toBe(401);
        expect((answer.body as { label: string }).label).toBe("MISSING_REQUIRED_HEADER");
      }
      if (route.access === "trade") {
        const answer = await readOnly.request(route.method, path, { body });
        expect(answer.status, `${route.method} ${route.path} with a read-only key`).toBe(403);
        expect((answer.body as { label: string }).label).toBe("FORBIDDEN");
      }
    }
    expect(await orderCount(reader.userId)).toBe(0);
  });

  it("refuse a frozen user's orders with FORBIDDEN; they still read", async () => {
    const frozen = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    await freezeUser(gx.db, frozen.userId);
    const client = new SignedClient(gx.baseUrl, frozen);
    expectRefusal(await client.post("/spot/orders", order), 403, "FORBIDDEN");
    expect((await client.get("/spot/accounts")).status).toBe(200);
    expect(await orderCount(frozen.userId)).toBe(0);
  });

  it("refuse a request from outside the key's allowlist with FORBIDDEN", async () => {
    const elsewhere = await gx.trader({ ipAllowlist: ["10.1.2.0/24", "2001:db8::1"] });
    expectRefusal(
      await new SignedClient(gx.baseUrl, elsewhere).get("/spot/accounts"),
      403,
      "FORBIDDEN",
    );
    const here = await gx.trader({ ipAllowlist: ["10.1.2.0/24", "127.0.0.0/8"] });
    expect((await new SignedClient(gx.baseUrl, here).get("/spot/accounts")).status).toBe(200);
    const exact = await gx.trader({ ipAllowlist: ["127.0.0.1"] });
    expect((await new SignedClient(gx.baseUrl, exact).get("/spot/accounts")).status).toBe(200);
  });
});

describe("an unsettled cancel", () => {
  it("answers after the wait with the order as it stands: still open, the cancel queued", async () => {
    const owner = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const client = new SignedClient(gx.baseUrl, owner);
    const placed = await client.post("/spot/orders", { ...order, text: "t-unsettled" });
    expect(placed.status).toBe(201);
    const started = Date.now();
    const answer = await client.delete("/spot/orders/t-unsettled", "currency_pair=BTC_USDT");
    // No worker runs here: the engine never sees the cancel, so the wait (200 ms) runs out.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ text: "t-unsettled", status: "open", finish_as: "open" });
    const id = (answer.body as { id: string }).id;
    const queued = await gx.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM outbox
           WHERE payload->'command'->>'type' = 'cancel' AND payload->'command'->>'orderId' = ${id}`,
    );
    expect(queued.rows[0]?.n).toBe(1);
  });
});

/** Headers signed with a whole-second Timestamp, as a client signing with seconds sends them. */
async function signedHeaders(
  method: string,
  path: string,
  query: string,
  body: string,
  as: GateKey = trader,
) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    KEY: as.key,
    Timestamp: timestamp,
    SIGN: signRequest(as.secret, { method, path, query, body, timestamp }),
  };
}

/** Polls a signed read until it is refused INVALID_KEY, failing after `ms`. */
async function refusedWithin(client: SignedClient, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await client.get("/spot/accounts");
    if (answer.status === 401) {
      expectRefusal(answer, 401, "INVALID_KEY");
      return;
    }
    if (Date.now() > deadline) throw new Error(`the revoked key was still accepted after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function asAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
}
