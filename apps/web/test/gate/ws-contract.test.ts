// The WebSocket API (/ws/v4/) against a running exchange: the envelope, acks and error codes,
// pings at both levels, every public channel's payload as orders trade, the book channels'
// sequence numbers continuous with REST's order_book id, and the signed channels. Then the
// resources: connections per address, subscriptions per connection, one shared timer per book
// key, and signed subscriptions ended when their key is revoked or their user frozen.
import { randomUUID } from "node:crypto";
import { ApiServices, createCaller, createContext } from "@spotx/api";
import {
  announceCredentialChange,
  decodeCredentialChange,
} from "@spotx/api/auth/credential-events";
import { signChannel } from "@spotx/api/gate";
import { createApiKey, revokeApiKey, schema } from "@spotx/db";
import { apiKeySealingKey } from "@spotx/platform/secrets";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  freezeUser,
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
  waitFor,
} from "./gate-exchange";
import { type Message, WsClient } from "./ws-client";

/** The caps this exchange's WebSocket API runs with (small, so a test can reach them). */
const MAX_CONNECTIONS = 8;
const MAX_SUBSCRIPTIONS = 12;

let gx: GateExchange;
let alice: GateKey;
let bob: GateKey;
let ws: WsClient;
const subscribe = (channel: string, payload: string[], extra: Record<string, unknown> = {}) =>
  ws.request({ channel, event: "subscribe", payload, ...extra });

beforeAll(async () => {
  gx = await startGateExchange({
    websocket: {
      maxConnectionsPerAddress: MAX_CONNECTIONS,
      maxSubscriptionsPerConnection: MAX_SUBSCRIPTIONS,
      recheckCredentialsEveryMs: 500,
    },
  });
  alice = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  bob = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  ws = await WsClient.open(`${gx.url.replace("http", "ws")}/ws/v4/`);
});
afterAll(async () => {
  ws?.ws.close();
  // A test that failed half-way may have left its connections open: the server waits for them.
  await closeAll(opened.map((socket) => ({ ws: socket })));
  await gx?.stop();
});

describe("the envelope", () => {
  it("acknowledges a subscription with gate.io's ack", async () => {
    const ack = await subscribe("spot.tickers", ["BTC_USDT"]);
    expect(ack).toMatchObject({
      channel: "spot.tickers",
      event: "subscribe",
      payload: ["BTC_USDT"],
      error: null,
      result: { status: "success" },
    });
    expect(typeof ack.time).toBe("number");
    expect(typeof ack.time_ms).toBe("number");
  });

  it("answers spot.ping on spot.pong, and protocol pings with pongs", async () => {
    const pong = await ws.request({ channel: "spot.ping" });
    expect(pong).toMatchObject({ channel: "spot.pong", error: null, result: null });
    const answered = new Promise<Buffer>((resolve) => ws.ws.once("pong", resolve));
    ws.ws.ping(Buffer.from("hi"));
    expect((await answered).toString()).toBe("hi");
  });

  it("refuses with error codes: 1 bad body, 2 bad argument, 4 authentication", async () => {
    ws.ws.send("{not json");
    const bad = await ws.next((m) => m.error?.code === 1 && m.error.message.includes("JSON"));
    expect(bad.result).toBeNull();
    const noTime = await ws.request({
      time: "soon",
      channel: "spot.tickers",
      event: "subscribe",
      payload: ["BTC_USDT"],
    });
    expect(noTime.error?.code).toBe(1);
    const stale = await ws.request({
      time: Math.floor(Date.now() / 1000) - 120,
      channel: "spot.tickers",
      event: "subscribe",
      payload: ["BTC_USDT"],
    });
    expect(stale.error?.code).toBe(2);
    expect((await subscribe("spot.nothing", ["BTC_USDT"])).error?.code).toBe(2);
    expect((await subscribe("spot.trades", ["DOGE_USDT"])).error?.code).toBe(2);
    expect((await subscribe("spot.order_book", ["BTC_USDT", "7", "100ms"])).error?.code).toBe(2);
    expect((await subscribe("spot.orders", ["!all"])).error?.code).toBe(4);
    const forged = await subscribe("spot.orders", ["!all"], {
      auth: { method: "api_key", KEY: alice.key, SIGN: "0".repeat(128) },
    });
    expect(forged.error).toEqual({ code: 4, message: "signature mismatch" });
  });
});

describe("the channels, as orders trade", () => {
  it("push tickers, trades, candlesticks, the three book views and the signed channels", async () => {
    const time = Math.floor(Date.now() / 1000);
    const signed = (channel: string) => ({
      time,
      auth: {
        method: "api_key",
        KEY: alice.key,
        SIGN: signChannel(alice.secret, channel, "subscribe", time),
      },
    });
    for (const [channel, payload, extra] of [
      ["spot.trades", ["BTC_USDT"], {}],
      ["spot.candlesticks", ["1m", "BTC_USDT"], {}],
      ["spot.order_book", ["BTC_USDT", "5", "100ms"], {}],
      ["spot.order_book_update", ["BTC_USDT", "100ms"], {}],
      ["spot.obu", ["ob.BTC_USDT.50"], {}],
      ["spot.orders", ["BTC_USDT"], signed("spot.orders")],
      ["spot.usertrades", ["!all"], signed("spot.usertrades")],
      ["spot.balances", [], signed("spot.balances")],
    ] as const) {
      const ack = await subscribe(channel, [...payload], extra);
      expect(ack.error, channel).toBeNull();
    }
    // The first spot.obu message is the whole (empty) book.
    const full = await ws.next((m) => m.channel === "spot.obu" && m.event === "update");
    expect(full.result).toMatchObject({ full: true, s: "ob.BTC_USDT.50", b: [], a: [] });

    const restBook = await new SignedClient(gx.baseUrl, null).get(
      "/spot/order_book",
      "currency_pair=BTC_USDT&with_id=true&limit=100",
    );
    const snapshotId = (restBook.body as { id: number }).id;

    const aliceClient = new SignedClient(gx.baseUrl, alice);
    const bobClient = new SignedClient(gx.baseUrl, bob);
    const sell = await aliceClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "sell",
      amount: "0.02",
      price: "30000",
      text: "t-ws-sell",
    });
    await aliceClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "sell",
      amount: "0.01",
      price: "30500",
    });
    await aliceClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "29000",
    });
    await waitFor(
      async () =>
        ws
          .updates("spot.order_book")
          .some((m) => (m.result as { asks: unknown[] }).asks.length === 2),
      {
        what: "both asks on spot.order_book",
      },
    );
    await bobClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
    });

    const trade = await ws.next((m) => m.channel === "spot.trades" && m.event === "update");
    expect(trade.result).toEqual({
      id: expect.any(Number),
      create_time: expect.any(Number),
      create_time_ms: expect.stringMatching(/^\d{13}/),
      side: "buy",
      currency_pair: "BTC_USDT",
      amount: "0.01",
      price: "30000",
    });
    const ticker = await ws.next(
      (m) =>
        m.channel === "spot.tickers" &&
        m.event === "update" &&
        (m.result as { last: string }).last === "30000",
    );
    expect(Object.keys(ticker.result as object).sort()).toEqual([
      "base_volume",
      "change_percentage",
      "currency_pair",
      "high_24h",
      "highest_bid",
      "last",
      "low_24h",
      "lowest_ask",
      "quote_volume",
    ]);
    const candle = await ws.next((m) => m.channel === "spot.candlesticks" && m.event === "update");
    expect(candle.result).toMatchObject({
      v: "300",
      c: "30000",
      h: "30000",
      l: "30000",
      o: "30000",
      n: "1m_BTC_USDT",
      a: "0.01",
      w: false,
    });
    expect(typeof (candle.result as { t: string }).t).toBe("string");

    // The full book, at 100 ms: levels as [price, amount] strings.
    const book = await ws.next(
      (m) =>
        m.channel === "spot.order_book" &&
        m.event === "update" &&
        JSON.stringify((m.result as { asks: unknown }).asks) ===
          '[["30000","0.01"],["30500","0.01"]]',
    );
    expect(book.result).toMatchObject({
      s: "BTC_USDT",
      bids: [["29000", "0.01"]],
      lastUpdateId: expect.any(Number),
    });

    // spot.order_book_update continues REST's id: U/u contiguous, applied to the REST book they
    // give the book spot.order_book shows.
    const lastUpdateId = (book.result as { lastUpdateId: number }).lastUpdateId;
    await waitFor(
      async () =>
        ws
          .updates("spot.order_book_update")
          .some((m) => (m.result as { u: number }).u >= lastUpdateId),
      {
        what: "the book updates to reach the book's sequence",
      },
    );
    const updates = ws
      .updates("spot.order_book_update")
      .map((m) => m.result as { U: number; u: number; e: string; b: string[][]; a: string[][] });
    expect(updates[0]?.e).toBe("depthUpdate");
    expect(updates[0]?.U).toBeLessThanOrEqual(snapshotId + 1);
    for (let i = 1; i < updates.length; i++)
      expect(updates[i]?.U).toBe((updates[i - 1]?.u ?? 0) + 1);
    const asks = new Map<string, string>();
    const bids = new Map<string, string>();
    for (const update of updates.filter((u) => u.u > snapshotId && u.u <= lastUpdateId)) {
      for (const [p, q] of update.a) q === "0" ? asks.delete(p ?? "") : asks.set(p ?? "", q ?? "");
      for (const [p, q] of update.b) q === "0" ? bids.delete(p ?? "") : bids.set(p ?? "", q ?? "");
    }
    expect([...asks].sort()).toEqual([
      ["30000", "0.01"],
      ["30500", "0.01"],
    ]);
    expect([...bids]).toEqual([["29000", "0.01"]]);

    // spot.obu: deltas right after the full book, each starting where the last ended.
    const obu = ws.received
      .filter((m) => m.channel === "spot.obu" && m.event === "update")
      .map((m) => m.result as { full?: boolean; U?: number; u: number });
    expect(obu[0]?.full).toBe(true);
    for (let i = 1; i < obu.length; i++) expect(obu[i]?.U).toBe((obu[i - 1]?.u ?? 0) + 1);

    // Signed: alice's order updates (only hers), her fill and her balances.
    const orders = await ws.next(
      (m) =>
        m.channel === "spot.orders" &&
        m.event === "update" &&
        (m.result as Array<{ text: string; left: string }>).some(
          (o) => o.text === "t-ws-sell" && o.left === "0.01",
        ),
    );
    const mine = (orders.result as Array<Record<string, unknown>>).find(
      (o) => o.text === "t-ws-sell",
    );
    expect(mine).toMatchObject({
      id: (sell.body as { id: string }).id,
      event: "update",
      status: "open",
      filled_amount: "0.01",
      avg_deal_price: "30000",
      user: Number(alice.userId),
    });
    const fills = await ws.next((m) => m.channel === "spot.usertrades" && m.event === "update");
    expect((fills.result as unknown[])[0]).toMatchObject({
      user_id: Number(alice.userId),
      currency_pair: "BTC_USDT",
      side: "sell",
      role: "maker",
      amount: "0.01",
      price: "30000",
      fee: "0.3",
      fee_currency: "USDT",
      text: "t-ws-sell",
    });
    const balances = await ws.next(
      (m) =>
        m.channel === "spot.balances" &&
        m.event === "update" &&
        (m.result as Array<{ currency: string }>).some((b) => b.currency === "USDT"),
    );
    const usdt = (balances.result as Array<Record<string, string>>).find(
      (b) => b.currency === "USDT",
    );
    // She held 10,000 USDT (290 of it locked for her bid); the fill paid her 300 − 0.3.
    expect(usdt).toMatchObject({ user: String(alice.userId), change: "299.7", total: "10299.7" });
    expect(
      ws.received
        .filter((m) => m.channel === "spot.usertrades")
        .every(
          (m) =>
            m.event !== "update" ||
            (m.result as Array<{ user_id: number }>).every(
              (t) => t.user_id === Number(alice.userId),
            ),
        ),
    ).toBe(true);
  });

  it("stops pushing a channel once unsubscribed", async () => {
    const ack = await ws.request({
      channel: "spot.trades",
      event: "unsubscribe",
      payload: ["BTC_USDT"],
    });
    expect(ack).toMatchObject({ event: "unsubscribe", result: { status: "success" } });
    const before = ws.updates("spot.trades").length;
    const bobClient = new SignedClient(gx.baseUrl, bob);
    await bobClient.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
    });
    // The ticker still moves (subscribed), the trades channel stays quiet.
    await ws.next(
      (m) =>
        m.channel === "spot.tickers" &&
        m.event === "update" &&
        (m.result as { base_volume: string }).base_volume === "0.02",
    );
    expect(ws.updates("spot.trades").length).toBe(before);
  });
});

/** Every connection the resource tests opened. */
const opened: WebSocket[] = [];

/** An upgrade's outcome: the connection, or the refusal's status and body. */
function attempt(url: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once("open", () => {
      opened.push(socket);
      resolve({ ws: socket });
    });
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.once("error", (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

async function closeAll(clients: Array<{ ws: WebSocket }>) {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once("close", () => resolve());
          c.ws.close();
        }),
    ),
  );
}

const wsUrl = () => `${gx.url.replace("http", "ws")}/ws/v4/`;

/** A new connection, which must be admitted. */
async function connect(): Promise<WsClient> {
  const outcome = await attempt(wsUrl());
  if (!("ws" in outcome)) throw new Error(`refused: ${outcome.status} ${outcome.body}`);
  return new WsClient(outcome.ws);
}

describe("resources", () => {
  it("refuses a connection beyond the cap per client address with 429 TOO_MANY_CONNECTIONS", async () => {
    // The suite's own client holds one place already.
    const admitted: WsClient[] = [];
    let refusal: { status: number; body: string } | null = null;
    for (let i = 0; i < MAX_CONNECTIONS + 1 && refusal === null; i++) {
      const outcome = await attempt(wsUrl());
      if ("ws" in outcome) admitted.push(new WsClient(outcome.ws));
      else refusal = outcome;
    }
    expect(admitted).toHaveLength(MAX_CONNECTIONS - 1);
    expect(refusal?.status).toBe(429);
    expect(JSON.parse(refusal?.body ?? "{}")).toEqual({
      label: "TOO_MANY_CONNECTIONS",
      message: `at most ${MAX_CONNECTIONS} connections per client address; close one first`,
    });
    // One closed, one place free again.
    await closeAll(admitted.slice(0, 1));
    const again = await waitFor(
      async () => {
        const outcome = await attempt(wsUrl());
        return "ws" in outcome ? outcome.ws : null;
      },
      { what: "a connection admitted once one closed" },
    );
    await closeAll([...admitted, { ws: again }]);
  });

  it("takes a subscription request whole or not at all, up to the cap per connection", async () => {
    const client = await connect();
    const request = (channel: string, payload: string[]) =>
      client.request({ channel, event: "subscribe", payload });
    const intervals = ["10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d"];
    for (const interval of intervals) {
      expect((await request("spot.candlesticks", [interval, "BTC_USDT"])).error).toBeNull();
    }
    expect((await request("spot.tickers", ["BTC_USDT"])).error).toBeNull();
    // 11 held, two more asked: refused, and neither pair taken.
    const over = await request("spot.trades", ["BTC_USDT", "ETH_USDT"]);
    expect(over.error).toEqual({
      code: 2,
      message: `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection (11 held, 2 asked)`,
    });
    // So one more still fits; an entry already held costs nothing; then the cap holds.
    expect((await request("spot.trades", ["ETH_USDT"])).error).toBeNull();
    expect((await request("spot.tickers", ["BTC_USDT"])).error).toBeNull();
    expect((await request("spot.obu", ["ob.BTC_USDT.50"])).error?.code).toBe(2);
    await closeAll([client]);
  });

  it("serves every subscriber of one book key from one timer, with the same frames", async () => {
    const keys = [
      { channel: "spot.order_book", payload: ["ETH_USDT", "20", "1000ms"] },
      { channel: "spot.order_book_update", payload: ["ETH_USDT", "1000ms"] },
      { channel: "spot.obu", payload: ["ob.ETH_USDT.400"] },
    ];
    const before = gx.gate.websocket.bookPublishers();
    const clients: WsClient[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await connect();
      clients.push(client);
      for (const { channel, payload } of keys) {
        expect((await client.request({ channel, event: "subscribe", payload })).error).toBeNull();
      }
    }
    // Nine subscriptions, three publishers: one timer per key.
    const during = gx.gate.websocket.bookPublishers();
    expect(during.timers).toBe(before.timers + 3);
    const eth = during.publishers.filter((p) => p.market === "ETH_USDT");
    expect(eth.map((p) => [p.channel, p.depth, p.everyMs, p.subscribers]).sort()).toEqual([
      ["spot.obu", 400, 100, 3],
      ["spot.order_book", 20, 1000, 3],
      ["spot.order_book_update", null, 1000, 3],
    ]);

    // Each client has its starting views (the book is live here) before the order is placed.
    for (const c of clients) {
      await c.next(
        (m) => m.channel === "spot.obu" && (m.result as { full?: boolean } | null)?.full === true,
        30_000,
      );
      await c.next((m) => m.channel === "spot.order_book" && m.event === "update", 30_000);
    }
    const price = "2345";
    const placed = await new SignedClient(gx.baseUrl, alice).post("/spot/orders", {
      currency_pair: "ETH_USDT",
      side: "buy",
      amount: "0.01",
      price,
    });
    expect(placed.status, placed.text).toBe(201);
    const showsBid = (channel: string) => (text: string) => {
      const m = JSON.parse(text) as Message;
      if (m.channel !== channel || m.event !== "update") return false;
      const r = m.result as { bids?: string[][]; b?: string[][]; full?: boolean };
      return !r.full && (r.bids ?? r.b ?? []).some(([p]) => p === price);
    };
    for (const channel of keys.map((k) => k.channel)) {
      const frames = await Promise.all(
        clients.map(async (c) => {
          await c.next((m) => showsBid(channel)(JSON.stringify(m)), 30_000);
          return c.texts.find(showsBid(channel));
        }),
      );
      expect(frames[0], channel).toBeDefined();
      // The very same text, time_ms included: computed and serialized once.
      expect(new Set(frames).size, channel).toBe(1);
    }

    // The publishers stop with their last subscriber.
    await closeAll(clients.slice(0, 2));
    await waitFor(
      async () =>
        gx.gate.websocket
          .bookPublishers()
          .publishers.filter((p) => p.market === "ETH_USDT")
          .every((p) => p.subscribers === 1),
      { what: "two subscribers gone" },
    );
    await closeAll(clients.slice(2));
    await waitFor(async () => gx.gate.websocket.bookPublishers().timers === before.timers, {
      what: "the key's timers stopped",
    });
    expect(
      gx.gate.websocket.bookPublishers().publishers.filter((p) => p.market === "ETH_USDT"),
    ).toEqual([]);
  });
});

describe("signed subscriptions whose credentials are withdrawn", () => {
  /** A connection subscribed to spot.orders (all pairs) with `key`. */
  async function ordersFollower(key: { key: string; secret: string }) {
    const client = await connect();
    const time = Math.floor(Date.now() / 1000);
    const ack = await client.request({
      time,
      channel: "spot.orders",
      event: "subscribe",
      payload: ["!all"],
      auth: {
        method: "api_key",
        KEY: key.key,
        SIGN: signChannel(key.secret, "spot.orders", "subscribe", time),
      },
    });
    expect(ack.error).toBeNull();
    return client;
  }

  const ended = (client: WsClient) =>
    client.next((m) => m.channel === "spot.orders" && m.error?.code === 4);

  it("ends a key's spot.orders subscription when the key is revoked, and sends it nothing more", async () => {
    const carol = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const spare = await createApiKey(gx.db, apiKeySealingKey(gx.serverKey), {
      userId: carol.userId,
      permissions: ["read", "trade"],
      ipAllowlist: null,
    });
    const revoked = await ordersFollower(carol);
    const kept = await ordersFollower(spare);

    // Revoked as the account page does it: account.apiKeys.revoke.
    const caller = createCaller(
      createContext({
        db: gx.db,
        session: {
          userId: carol.userId,
          role: "trader",
          status: "active",
          twoFactor: false,
          sessionId: randomUUID(),
        },
        services: new ApiServices({
          names: gx.exchange.names,
          redis: gx.redis,
          secretKey: gx.serverKey,
        }),
      }),
    );
    const listener = gx.redis.duplicate();
    const heard = new Promise<string>((resolve) =>
      listener.on("message", (_channel: string, message: string) => resolve(message)),
    );
    await listener.subscribe(gx.exchange.names.redis.credentialsChannel);
    await caller.account.apiKeys.revoke({ key: carol.key });
    const [carolKey] = await gx.db
      .select({ id: schema.apiKeys.id })
      .from(schema.apiKeys)
      .where(eq(schema.apiKeys.key, carol.key));
    expect(decodeCredentialChange(await heard)).toEqual({
      userId: carol.userId,
      keyId: carolKey?.id,
      reason: "key_revoked",
    });
    listener.disconnect();
    const frame = await ended(revoked);
    expect(frame).toMatchObject({
      channel: "spot.orders",
      event: "unsubscribe",
      payload: ["!all"],
      error: { code: 4, message: "the API key was revoked; this subscription has ended" },
      result: null,
    });

    // An order of carol's reaches the connection on her other key, not the revoked one.
    const placed = await new SignedClient(gx.baseUrl, spare).post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      // Within the price band of the trades earlier tests made at 30000.
      price: "29000",
      text: "t-after-revoke",
    });
    expect(placed.status, placed.text).toBe(201);
    await kept.next((m) => m.channel === "spot.orders" && m.event === "update");
    // Whatever the server sent the revoked connection before this pong has arrived by now.
    await revoked.request({ channel: "spot.ping" });
    expect(revoked.updates("spot.orders")).toEqual([]);
    await closeAll([revoked, kept]);
  });

  it("ends it within the re-check period when the announcement was lost", async () => {
    const dave = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const client = await ordersFollower(dave);
    // Revoked in the database only: nothing is announced.
    expect(await revokeApiKey(gx.db, dave.userId, dave.key)).toBe(true);
    expect((await ended(client)).error?.message).toBe(
      "the API key was revoked; this subscription has ended",
    );
    await closeAll([client]);
  });

  it("ends every signed subscription of a user whose password changed, and only those", async () => {
    const erin = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const first = await ordersFollower(erin);
    const second = await ordersFollower(erin);
    const other = await ordersFollower(bob);
    expect(
      (await first.request({ channel: "spot.tickers", event: "subscribe", payload: ["BTC_USDT"] }))
        .error,
    ).toBeNull();
    // Only the announcement says so (the re-check cannot see a password change).
    await announceCredentialChange(gx.redis, gx.exchange.names, {
      userId: erin.userId,
      reason: "password_changed",
    });
    for (const client of [first, second]) {
      expect((await ended(client)).error?.message).toBe(
        "the account's password was changed; this subscription has ended",
      );
    }
    // Bob's subscription and erin's public one are untouched.
    await other.request({ channel: "spot.ping" });
    expect(other.received.some((m) => m.error?.code === 4)).toBe(false);
    const ack = await first.request({
      channel: "spot.tickers",
      event: "unsubscribe",
      payload: ["BTC_USDT"],
    });
    expect(ack.error).toBeNull();
    await closeAll([first, second, other]);
  });

  it("ends a user's signed subscriptions within the re-check period once the user is frozen", async () => {
    const frank = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const client = await ordersFollower(frank);
    // Frozen in the database only: nothing is announced.
    await freezeUser(gx.db, frank.userId);
    expect((await ended(client)).error?.message).toBe(
      "the account was frozen; this subscription has ended",
    );
    await closeAll([client]);
  });
});
