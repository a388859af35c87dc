// The WebSocket API (/ws/v4/) against a running exchange: the envelope, acks and error codes,
// pings at both levels, every public channel's payload as orders trade, the book channels'
// sequence numbers continuous with REST's order_book id, and the signed channels.
import { signChannel } from "@spotx/api/gate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
  waitFor,
} from "./gate-exchange";

type Message = Record<string, unknown> & {
  channel?: string;
  event?: string;
  id?: number;
  result?: unknown;
  error?: { code: number; message: string } | null;
};

class WsClient {
  readonly received: Message[] = [];
  private wake: Array<() => void> = [];
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
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

let gx: GateExchange;
let alice: GateKey;
let bob: GateKey;
let ws: WsClient;
const subscribe = (channel: string, payload: string[], extra: Record<string, unknown> = {}) =>
  ws.request({ channel, event: "subscribe", payload, ...extra });

beforeAll(async () => {
  gx = await startGateExchange();
  alice = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  bob = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  ws = await WsClient.open(`${gx.url.replace("http", "ws")}/ws/v4/`);
});
afterAll(async () => {
  ws?.ws.close();
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
