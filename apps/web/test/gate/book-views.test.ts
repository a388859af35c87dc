// The order book's other views against a running exchange: GET /spot/order_book merged by
// `interval` (driven by gate.io's own SDK), spot.book_ticker's best bid and ask as orders move
// them (several pairs, `u` continuous with REST's id, unsubscribe), and spot.order_book_update at
// 20ms served by its own 20 ms publisher, its frames continuous and replaying onto REST's book.
import { compareDecimal } from "@spotx/protocol";
import { ApiClient, SpotApi } from "gate-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
  waitFor,
} from "./gate-exchange";
import { type Message, WsClient } from "./ws-client";

type Level = [price: string, amount: string];
type RestBook = { id: number; asks: Level[]; bids: Level[] };
type BookTicker = { t: number; u: number; s: string; b: string; B: string; a: string; A: string };

let gx: GateExchange;
let alice: SignedClient;
let bob: SignedClient;
let anon: SignedClient;
const clients: WsClient[] = [];

beforeAll(async () => {
  gx = await startGateExchange();
  const funds = { USDT: 100_000_000_000n, BTC: 100_000_000n, ETH: 10_000_000_000n };
  const keys: GateKey[] = [await gx.trader({ funds }), await gx.trader({ funds })];
  alice = new SignedClient(gx.baseUrl, keys[0] ?? null);
  bob = new SignedClient(gx.baseUrl, keys[1] ?? null);
  anon = new SignedClient(gx.baseUrl, null);
});
afterAll(async () => {
  for (const c of clients) c.ws.close();
  await gx?.stop();
});

async function connect(): Promise<WsClient> {
  const client = await WsClient.open(`${gx.url.replace("http", "ws")}/ws/v4/`);
  clients.push(client);
  return client;
}

async function place(
  who: SignedClient,
  pair: string,
  side: "buy" | "sell",
  amount: string,
  price: string,
) {
  const answer = await who.post("/spot/orders", { currency_pair: pair, side, amount, price });
  expect(answer.status, answer.text).toBe(201);
}

async function restBook(pair: string, query = ""): Promise<RestBook> {
  const answer = await anon.get(
    "/spot/order_book",
    `currency_pair=${pair}&limit=100&with_id=true${query}`,
  );
  expect(answer.status, answer.text).toBe(200);
  return answer.body as RestBook;
}

/** The REST book once `check` holds for it (the Redis snapshot trails the book a little). */
function restBookWhen(pair: string, check: (book: RestBook) => boolean, what: string) {
  return waitFor(
    async () => {
      const book = await restBook(pair);
      return check(book) ? book : null;
    },
    { what },
  );
}

const tickers = (c: WsClient, pair: string) =>
  c
    .updates("spot.book_ticker")
    .map((m) => m.result as BookTicker)
    .filter((r) => r.s === pair);
/** A ticker's best levels: [b, B, a, A]. */
const top = (r: BookTicker) => [r.b, r.B, r.a, r.A];
const showing =
  (pair: string, b: string, B: string, a: string, A: string) =>
  (m: Message): boolean => {
    if (m.channel !== "spot.book_ticker" || m.event !== "update") return false;
    const r = m.result as BookTicker;
    return r.s === pair && r.b === b && r.B === B && r.a === a && r.A === A;
  };

describe("GET /spot/order_book with interval", () => {
  it("merges bids down and asks up to the step, summing amounts exactly", async () => {
    for (const [side, amount, price] of [
      ["buy", "0.01", "29999.99"],
      ["buy", "0.02", "29999.5"],
      ["buy", "0.03", "29998"],
      ["sell", "0.01", "30000.01"],
      ["sell", "0.02", "30000.5"],
      ["sell", "0.04", "30003"],
    ] as const) {
      await place(alice, "BTC_USDT", side, amount, price);
    }
    const raw = await restBookWhen(
      "BTC_USDT",
      (b) => b.bids.length === 3 && b.asks.length === 3,
      "the six levels in the REST book",
    );
    expect(raw.bids).toEqual([
      ["29999.99", "0.01"],
      ["29999.5", "0.02"],
      ["29998", "0.03"],
    ]);

    // gate.io's SDK, as a program would call it.
    const sdk = new SpotApi(new ApiClient(gx.baseUrl));
    const merged = async (interval: string, limit = 100) => {
      const { response, body } = await sdk.listOrderBook("BTC_USDT", {
        interval,
        limit,
        withId: true,
      });
      expect(response.status).toBe(200);
      expect(body.id).toBe(raw.id); // the same book, nothing moved
      return { bids: body.bids, asks: body.asks };
    };
    expect(await merged("0")).toEqual({ bids: raw.bids, asks: raw.asks });
    expect(await merged("0.1")).toEqual({
      bids: [
        ["29999.9", "0.01"],
        ["29999.5", "0.02"],
        ["29998", "0.03"],
      ],
      asks: [
        ["30000.1", "0.01"],
        ["30000.5", "0.02"],
        ["30003", "0.04"],
      ],
    });
    expect(await merged("1")).toEqual({
      bids: [
        ["29999", "0.03"],
        ["29998", "0.03"],
      ],
      asks: [
        ["30001", "0.03"],
        ["30003", "0.04"],
      ],
    });
    expect(await merged("10")).toEqual({
      bids: [["29990", "0.06"]],
      asks: [["30010", "0.07"]],
    });
    expect(await merged("1", 1)).toEqual({
      bids: [["29999", "0.03"]],
      asks: [["30001", "0.03"]],
    });
  });

  it("refuses an interval that is not a positive multiple of the tick with 400 INVALID_PARAM_VALUE", async () => {
    for (const interval of ["0.001", "0.015", "-1", "1e1", "abc", ""]) {
      const answer = await anon.get(
        "/spot/order_book",
        `currency_pair=BTC_USDT&interval=${encodeURIComponent(interval)}`,
      );
      expect(answer.status, interval).toBe(400);
      expect(answer.body, interval).toEqual({
        label: "INVALID_PARAM_VALUE",
        message: `invalid interval: "0" (no merging) or a positive multiple of BTC_USDT's tick 0.01`,
      });
    }
  });
});

describe("spot.book_ticker", () => {
  let ws: WsClient;

  it("pushes each pair's best bid and ask as orders change them, u rising with the book's id", async () => {
    ws = await connect();
    const ack = await ws.request({
      channel: "spot.book_ticker",
      event: "subscribe",
      payload: ["BTC_USDT", "ETH_USDT"],
    });
    expect(ack).toMatchObject({
      channel: "spot.book_ticker",
      event: "subscribe",
      payload: ["BTC_USDT", "ETH_USDT"],
      error: null,
      result: { status: "success" },
    });
    // First, the tops as they stand: BTC's from the orders above, ETH's book empty.
    await ws.next(showing("BTC_USDT", "29999.99", "0.01", "30000.01", "0.01"));
    await ws.next(showing("ETH_USDT", "", "", "", ""));

    await place(alice, "BTC_USDT", "buy", "0.05", "30000"); // a better bid
    await ws.next(showing("BTC_USDT", "30000", "0.05", "30000.01", "0.01"));
    await place(bob, "BTC_USDT", "buy", "0.004", "30000.01"); // takes part of the best ask
    await ws.next(showing("BTC_USDT", "30000", "0.05", "30000.01", "0.006"));
    await place(bob, "BTC_USDT", "buy", "0.006", "30000.01"); // takes the rest: next ask
    await ws.next(showing("BTC_USDT", "30000", "0.05", "30000.5", "0.02"));
    await place(alice, "ETH_USDT", "sell", "0.1", "2000");
    await ws.next(showing("ETH_USDT", "", "", "2000", "0.1"));
    await place(alice, "ETH_USDT", "buy", "0.2", "1990");
    await ws.next(showing("ETH_USDT", "1990", "0.2", "2000", "0.1"));

    // Exactly one frame per change of the top, in order, with exact strings.
    const btc = tickers(ws, "BTC_USDT");
    expect(btc.map(top)).toEqual([
      ["29999.99", "0.01", "30000.01", "0.01"],
      ["30000", "0.05", "30000.01", "0.01"],
      ["30000", "0.05", "30000.01", "0.006"],
      ["30000", "0.05", "30000.5", "0.02"],
    ]);
    expect(tickers(ws, "ETH_USDT").map(top)).toEqual([
      ["", "", "", ""],
      ["", "", "2000", "0.1"],
      ["1990", "0.2", "2000", "0.1"],
    ]);
    for (const pair of ["BTC_USDT", "ETH_USDT"]) {
      const frames = tickers(ws, pair);
      for (const r of frames) {
        expect(Number.isInteger(r.t)).toBe(true);
        expect(Number.isInteger(r.u)).toBe(true);
      }
      for (let i = 1; i < frames.length; i++) {
        expect(frames[i]?.u).toBeGreaterThan(frames[i - 1]?.u ?? Number.POSITIVE_INFINITY);
      }
    }
    // `u` is the book's sequence number: REST's `id` for the same book, whose top it shows.
    const last = btc.at(-1) as BookTicker;
    const rest = await restBookWhen("BTC_USDT", (b) => b.id >= last.u, "REST at the ticker's u");
    expect(rest.id).toBe(last.u);
    expect([rest.bids[0]?.[0], rest.bids[0]?.[1], rest.asks[0]?.[0], rest.asks[0]?.[1]]).toEqual(
      top(last),
    );
  });

  it("stops a pair once unsubscribed and keeps the others; the publisher ends with its last subscriber", async () => {
    const watcher = await connect();
    const watching = await watcher.request({
      channel: "spot.book_ticker",
      event: "subscribe",
      payload: ["ETH_USDT"],
    });
    expect(watching.error).toBeNull();
    await watcher.next(showing("ETH_USDT", "1990", "0.2", "2000", "0.1"));

    const ack = await ws.request({
      channel: "spot.book_ticker",
      event: "unsubscribe",
      payload: ["ETH_USDT"],
    });
    expect(ack).toMatchObject({ event: "unsubscribe", error: null, result: { status: "success" } });
    const ethBefore = tickers(ws, "ETH_USDT").length;
    const publishers = () =>
      gx.gate.websocket
        .bookPublishers()
        .publishers.filter((p) => p.channel === "spot.book_ticker")
        .map((p) => [p.market, p.everyMs, p.subscribers])
        .sort();
    expect(publishers()).toEqual([
      ["BTC_USDT", 10, 1],
      ["ETH_USDT", 10, 1],
    ]);

    await place(alice, "ETH_USDT", "sell", "0.1", "1999");
    // The watcher's frame and the unsubscribed one's would have gone out in one broadcast:
    // once the watcher has it and the other answers a ping, nothing is in flight for it.
    await watcher.next(showing("ETH_USDT", "1990", "0.2", "1999", "0.1"));
    await ws.request({ channel: "spot.ping" });
    expect(tickers(ws, "ETH_USDT")).toHaveLength(ethBefore);
    // BTC still flows.
    await place(alice, "BTC_USDT", "buy", "0.01", "30000.2");
    await ws.next(showing("BTC_USDT", "30000.2", "0.01", "30000.5", "0.02"));

    await ws.request({ channel: "spot.book_ticker", event: "unsubscribe", payload: ["BTC_USDT"] });
    await watcher.request({
      channel: "spot.book_ticker",
      event: "unsubscribe",
      payload: ["ETH_USDT"],
    });
    expect(publishers()).toEqual([]);
  });

  it("refuses an unknown pair or no pair with code 2, taking none of the request", async () => {
    const client = await connect();
    const bad = await client.request({
      channel: "spot.book_ticker",
      event: "subscribe",
      payload: ["BTC_USDT", "DOGE_USDT"],
    });
    expect(bad.error?.code).toBe(2);
    const none = await client.request({
      channel: "spot.book_ticker",
      event: "subscribe",
      payload: [],
    });
    expect(none.error).toEqual({ code: 2, message: "payload lists currency pairs" });
    await client.request({ channel: "spot.ping" });
    expect(client.updates("spot.book_ticker")).toEqual([]);
    expect(
      gx.gate.websocket.bookPublishers().publishers.filter((p) => p.channel === "spot.book_ticker"),
    ).toEqual([]);
  });
});

describe("spot.order_book_update at 20ms", () => {
  it("is served by a 20 ms publisher whose frames continue REST's id and rebuild its book", async () => {
    // The book is quiet: REST's snapshot has caught up with the last change the tests made.
    const before = await restBookWhen(
      "BTC_USDT",
      (b) => b.bids[0]?.[0] === "30000.2",
      "the REST book with the last bid",
    );
    const client = await connect();
    const ack = await client.request({
      channel: "spot.order_book_update",
      event: "subscribe",
      payload: ["BTC_USDT", "20ms"],
    });
    expect(ack.error).toBeNull();
    expect(
      gx.gate.websocket
        .bookPublishers()
        .publishers.filter((p) => p.channel === "spot.order_book_update")
        .map((p) => [p.market, p.depth, p.everyMs, p.subscribers]),
    ).toEqual([["BTC_USDT", null, 20, 1]]);

    for (const [who, side, amount, price] of [
      [alice, "buy", "0.01", "29990"],
      [alice, "buy", "0.02", "29991"],
      [alice, "sell", "0.03", "30020"],
      [bob, "sell", "0.01", "30000.2"], // fills alice's best bid
      [alice, "buy", "0.04", "29990"],
    ] as const) {
      await place(who, "BTC_USDT", side, amount, price);
    }
    const after = await restBookWhen(
      "BTC_USDT",
      (b) =>
        b.asks.some(([p]) => p === "30020") &&
        b.bids.some(([p, q]) => p === "29990" && q === "0.05"),
      "the REST book with the new orders",
    );
    await waitFor(
      async () =>
        client
          .updates("spot.order_book_update")
          .some((m) => (m.result as { u: number }).u >= after.id),
      { what: "the 20ms frames to reach REST's id" },
    );

    const frames = client
      .updates("spot.order_book_update")
      .map(
        (m) => m.result as { e: string; s: string; U: number; u: number; b: Level[]; a: Level[] },
      );
    expect(frames[0]).toMatchObject({ e: "depthUpdate", s: "BTC_USDT", U: before.id + 1 });
    for (let i = 1; i < frames.length; i++) expect(frames[i]?.U).toBe((frames[i - 1]?.u ?? 0) + 1);
    expect(frames.at(-1)?.u).toBe(after.id);

    const bids = new Map(before.bids);
    const asks = new Map(before.asks);
    for (const frame of frames) {
      for (const [p, q] of frame.b) q === "0" ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of frame.a) q === "0" ? asks.delete(p) : asks.set(p, q);
    }
    const sorted = (side: Map<string, string>, descending: boolean) =>
      [...side].sort((x, y) => compareDecimal(x[0], y[0]) * (descending ? -1 : 1));
    expect(sorted(bids, true)).toEqual(after.bids);
    expect(sorted(asks, false)).toEqual(after.asks);
  });
});
