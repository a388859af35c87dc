// socket.io end to end on the real stack: orders placed and matched, their events produced to
// Kafka, market data folding and publishing through Redis, two web instances (processes of
// their own, Redis adapter) delivering to real socket.io clients — books, trades, tickers,
// candles, halts, and each user's private pushes.
import { randomBytes } from "node:crypto";
import { loadMarkets } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { setMarketHalt } from "@spotx/platform/market-config";
import { signSocketToken } from "@spotx/platform/secrets";
import {
  type BookDelta,
  type BookLevel,
  type BookSnapshot,
  type BookSync,
  bookLevels,
  lotsText,
  type MarketPrecision,
  priceText,
  reduceBookSync,
  type SocketReply,
  type SubscribeRequest,
  startBookSync,
} from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishSettlementChanges } from "../../worker/src/user-updates";
import {
  type ClientSocket,
  eventually,
  type Inbox,
  type SocketBench,
  startSocketBench,
} from "./socket-bench";

let bench: SocketBench;
let etcd: Etcd3;

beforeAll(async () => {
  bench = await startSocketBench(2);
  etcd = createEtcd(platformEnv().ETCD_ENDPOINTS);
});
afterAll(async () => {
  etcd?.close();
  await bench?.stop();
});

const BTC: MarketPrecision = {
  symbol: "BTC_USDT",
  base: "BTC",
  quote: "USDT",
  pricePrecision: 2,
  amountPrecision: 4,
  baseDecimals: 8,
  quoteDecimals: 6,
};

function subscribe(socket: ClientSocket, request: SubscribeRequest): Promise<SocketReply> {
  return socket.emitWithAck("subscribe", request);
}

/** The engine's own book, as the wire shows it. */
function engineBook(symbol = "BTC_USDT"): { bids: BookLevel[]; asks: BookLevel[] } {
  const engine = bench.market.engines.get(symbol)?.engine;
  if (!engine) throw new Error(`no engine for ${symbol}`);
  const depth = engine.depth(1_000);
  const wire = ([price, lots]: [number, number]): BookLevel => [
    priceText(price, BTC),
    lotsText(lots, BTC),
  ];
  return { bids: depth.bids.map(wire), asks: depth.asks.map(wire) };
}

const engineSeq = () => bench.market.engine.engine.seq;

/**
 * A client's book as a browser hook would keep it: snapshot, then deltas through the pure
 * reducer, asking for a new snapshot whenever the reducer says so. `skip` drops deltas, to
 * simulate a lost message.
 */
function followBook(
  socket: ClientSocket,
  market: string,
  skip: (d: BookDelta) => boolean = () => false,
) {
  const follower = { state: startBookSync(market) as BookSync, resyncs: 0 };
  const feed = (step: ReturnType<typeof reduceBookSync>) => {
    follower.state = step.state;
    if (step.resync) {
      follower.resyncs += 1;
      // A snapshot in Redis can trail the deltas by up to 100 ms: ask again a moment later.
      setTimeout(() => void socket.emitWithAck("book.resync", { market }), 50);
    }
  };
  socket.on("book.snapshot", (snapshot) =>
    feed(reduceBookSync(follower.state, { type: "snapshot", snapshot })),
  );
  socket.on("book.delta", (delta) => {
    if (!skip(delta)) feed(reduceBookSync(follower.state, { type: "delta", delta }));
  });
  return follower;
}

/** Waits until the follower's book is live at the engine's sequence, and returns it. */
function bookAtEngine(follower: { state: BookSync }) {
  return eventually(() => {
    const state = follower.state;
    return state.phase === "live" && state.book.seq === engineSeq() && state.book;
  }, `the client's book to reach seq ${engineSeq()}`);
}

async function trade(count: number) {
  const [alice, bob, carol] = bench.market.users;
  if (!alice || !bob || !carol) throw new Error("no users");
  // Bids and asks around 30,000 that partly cross: resting levels, fills, levels emptied.
  for (let i = 0; i < count; i++) {
    const price = 29_990 + ((i * 7) % 20);
    const user = [alice, bob, carol][i % 3] ?? alice;
    await bench.market.place(user, i % 2 === 0 ? "buy" : "sell", `${price}`, `0.0${(i % 5) + 1}`);
  }
}

describe("the book over socket.io", () => {
  it("clients on two web instances receive the same deltas in the same order", async () => {
    const [one, two] = bench.web;
    if (!one || !two) throw new Error("two instances");
    const a = await bench.connect(one);
    const b = await bench.connect(two);
    const followA = followBook(a.socket, "BTC_USDT");
    const followB = followBook(b.socket, "BTC_USDT");
    expect(await subscribe(a.socket, { channel: "book", market: "BTC_USDT" })).toEqual({
      ok: true,
    });
    expect(await subscribe(b.socket, { channel: "book", market: "BTC_USDT" })).toEqual({
      ok: true,
    });

    await trade(24);
    const bookA = await bookAtEngine(followA);
    const bookB = await bookAtEngine(followB);

    const deltasA = a.inbox.all("book.delta");
    const deltasB = b.inbox.all("book.delta");
    expect(deltasA.length).toBeGreaterThan(5);
    expect(deltasB).toEqual(deltasA);
    for (let i = 1; i < deltasA.length; i++) {
      expect(deltasA[i]?.U).toBe((deltasA[i - 1]?.u ?? 0) + 1);
    }
    expect(bookLevels(bookA)).toEqual(engineBook());
    expect(bookLevels(bookB)).toEqual(engineBook());
    expect(followA.resyncs + followB.resyncs).toBe(0);

    // The figures the issue asks for: command time → delivered to a client, on this machine.
    const latencies = a.inbox.received
      .filter((r) => r.event === "book.delta")
      .map((r) => r.at - (r.payload as BookDelta).time)
      .sort((x, y) => x - y);
    console.info(
      `socket fan-out, ${latencies.length} deltas: p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies[latencies.length - 1]} ms`,
    );
  });

  it("gives a late joiner a snapshot at its sequence, then contiguous deltas", async () => {
    const [, two] = bench.web;
    if (!two) throw new Error("two instances");
    // Redis holds the book at the current sequence (market data writes within 100 ms).
    const seq = engineSeq();
    await eventually(async () => {
      const stored = await bench.redis.get(bench.market.names.redis.book("BTC_USDT"));
      return stored !== null && (JSON.parse(stored) as BookSnapshot).seq === seq;
    }, "the Redis snapshot");

    const late = await bench.connect(two);
    const follower = followBook(late.socket, "BTC_USDT");
    expect(await subscribe(late.socket, { channel: "book", market: "BTC_USDT" })).toEqual({
      ok: true,
    });
    const snapshot = await late.inbox.next("book.snapshot");
    expect(snapshot.seq).toBe(seq);
    expect({ bids: snapshot.bids, asks: snapshot.asks }).toEqual(engineBook());

    await trade(6);
    const book = await bookAtEngine(follower);
    const deltas = late.inbox.all("book.delta");
    expect(deltas[0]?.U).toBe(seq + 1);
    for (let i = 1; i < deltas.length; i++) {
      expect(deltas[i]?.U).toBe((deltas[i - 1]?.u ?? 0) + 1);
    }
    expect(bookLevels(book)).toEqual(engineBook());
    expect(follower.resyncs).toBe(0);
  });

  it("a client that misses a delta asks for a snapshot and ends with the right book", async () => {
    const [one] = bench.web;
    if (!one) throw new Error("an instance");
    const client = await bench.connect(one);
    let dropped: BookDelta | null = null;
    const follower = followBook(client.socket, "BTC_USDT", (delta) => {
      if (dropped !== null || follower.state.phase !== "live") return false;
      dropped = delta; // the first delta once live is lost
      return true;
    });
    await subscribe(client.socket, { channel: "book", market: "BTC_USDT" });
    await eventually(() => follower.state.phase === "live", "the client's first snapshot");

    await trade(4);
    const book = await bookAtEngine(follower);
    expect(dropped).not.toBeNull();
    expect(follower.resyncs).toBeGreaterThanOrEqual(1);
    // The repaired book came from a snapshot asked for after the gap.
    expect(client.inbox.all("book.snapshot").length).toBeGreaterThanOrEqual(2);
    expect(bookLevels(book)).toEqual(engineBook());
  });

  it("refuses unknown markets, channels and candle intervals", async () => {
    const [one] = bench.web;
    if (!one) throw new Error("an instance");
    const { socket } = await bench.connect(one);
    expect(await subscribe(socket, { channel: "book", market: "DOGE_USDT" })).toMatchObject({
      ok: false,
      error: { label: "INVALID_CURRENCY_PAIR" },
    });
    expect(
      await socket.emitWithAck("subscribe", { channel: "orders", market: "BTC_USDT" } as never),
    ).toMatchObject({ ok: false, error: { label: "INVALID_PARAM_VALUE" } });
    expect(
      await subscribe(socket, { channel: "candles", market: "BTC_USDT", interval: "2m" }),
    ).toMatchObject({ ok: false, error: { label: "INVALID_PARAM_VALUE" } });
    expect(await socket.emitWithAck("book.resync", { market: "BTC_USDT" })).toMatchObject({
      ok: false,
    });
  });
});

describe("trades, ticker and candles over socket.io", () => {
  it("publishes a market's trades, 24 h ticker and 1 m candle from real fills", async () => {
    const [, two] = bench.web;
    if (!two) throw new Error("two instances");
    const { socket, inbox } = await bench.connect(two);
    for (const request of [
      { channel: "ticker", market: "ETH_USDT" },
      { channel: "trades", market: "ETH_USDT" },
      { channel: "candles", market: "ETH_USDT", interval: "1m" },
    ] as const) {
      expect(await subscribe(socket, request)).toEqual({ ok: true });
    }
    const [alice, bob] = bench.market.users;
    if (!alice || !bob) throw new Error("no users");
    await bench.market.place(alice, "sell", "2000", "0.5", "ETH_USDT");
    await bench.market.place(alice, "sell", "2010", "0.25", "ETH_USDT");
    await bench.market.place(bob, "buy", "2010", "0.75", "ETH_USDT"); // takes both

    const trades = await inbox.next(
      "trades",
      (m) => m.market === "ETH_USDT" && m.trades.length > 0,
    );
    expect(trades.trades.map((t) => [t.side, t.price, t.amount])).toEqual([
      ["buy", "2000", "0.5"],
      ["buy", "2010", "0.25"],
    ]);
    const ticker = await inbox.next(
      "ticker",
      (t) => t.currency_pair === "ETH_USDT" && t.last !== "",
    );
    expect(ticker).toMatchObject({
      currency_pair: "ETH_USDT",
      last: "2010",
      lowest_ask: "",
      highest_bid: "",
      change_percentage: "0.5", // from 2000 (the day's first trade) to 2010
      base_volume: "0.75",
      quote_volume: "1502.5", // 0.5 × 2000 + 0.25 × 2010
      high_24h: "2010",
      low_24h: "2000",
    });
    const time = Number(trades.trades[0]?.create_time_ms);
    const candle = await inbox.next("candle", (c) => c.market === "ETH_USDT");
    expect(candle).toEqual({
      market: "ETH_USDT",
      interval: "1m",
      t: String(Math.floor(time / 60_000) * 60),
      o: "2000",
      h: "2010",
      l: "2000",
      c: "2010",
      a: "0.75",
      v: "1502.5",
      n: "1m_ETH_USDT",
      w: false,
    });
    // Only the 1m room was joined: no other interval's candle arrived.
    expect(inbox.all("candle").every((c) => c.interval === "1m")).toBe(true);

    // A late subscriber to the ticker and trades gets the current ones at once, from Redis.
    await eventually(async () => {
      const stored = await bench.redis.get(bench.market.names.redis.ticker("ETH_USDT"));
      return stored?.includes('"last":"2010"');
    }, "the Redis ticker");
    const late = await bench.connect(two);
    await subscribe(late.socket, { channel: "ticker", market: "ETH_USDT" });
    await subscribe(late.socket, { channel: "trades", market: "ETH_USDT" });
    expect(await late.inbox.next("ticker")).toMatchObject({ last: "2010", base_volume: "0.75" });
    expect((await late.inbox.next("trades")).trades.map((t) => t.price)).toEqual(["2000", "2010"]);
  });
});

describe("the private user room", () => {
  it("is joined only with a valid token, and each user gets only their own pushes", async () => {
    const [one, two] = bench.web;
    if (!one || !two) throw new Error("two instances");
    const [alice, bob] = bench.market.users;
    if (!alice || !bob) throw new Error("no users");
    const key = bench.secretKey;

    expect(await bench.handshake(one, "not-a-token")).toBe("INVALID_TOKEN");
    expect(await bench.handshake(one, await signSocketToken(alice, randomBytes(32), 60))).toBe(
      "INVALID_TOKEN",
    );
    expect(await bench.handshake(one, 42)).toBe("INVALID_TOKEN");

    const anonymous = await bench.connect(one);
    const aliceClient = await bench.connect(two, await signSocketToken(alice, key, 60));
    const bobClient = await bench.connect(one, await signSocketToken(bob, key, 60));
    // Rooms are not something a client can ask for by name.
    expect(
      await anonymous.socket.emitWithAck("subscribe", {
        channel: `user:${alice}`,
        market: "BTC_USDT",
      } as never),
    ).toMatchObject({ ok: false });
    for (const client of [anonymous, aliceClient, bobClient]) {
      await subscribe(client.socket, { channel: "status", market: "ETH_USDT" });
    }

    // Settle what came before, then one clean ETH trade: alice rests, bob takes.
    await bench.market.settle();
    await bench.market.place(alice, "sell", "2005", "0.5", "ETH_USDT");
    await bench.market.place(bob, "buy", "2005", "0.5", "ETH_USDT");
    // Published batch by batch, as settlement calls it: alice's order opened in the first
    // batch and filled in the second; bob's was accepted and filled in one.
    const batches = await bench.market.settle();
    const markets = await loadMarkets(bench.market.db, ["ETH_USDT"]);
    let sent = 0;
    for (const changes of batches) {
      sent += publishSettlementChanges(bench.emitter, changes, markets, bench.market.names);
    }
    expect(sent).toBe(7);
    // A marker after the pushes, through the same Redis connection: whatever was meant for a
    // client has arrived once the marker has.
    bench.emitter.to(bench.market.names.rooms.market("ETH_USDT", "status")).emit("market.status", {
      market: "ETH_USDT",
      halted: false,
      reason: "marker",
      source: "config",
      time: 0,
    });
    for (const client of [anonymous, aliceClient, bobClient]) {
      await client.inbox.next("market.status", (s) => s.reason === "marker");
    }

    expect(userEvents(anonymous.inbox)).toEqual([]);
    const aliceFill = aliceClient.inbox.all("user.trades").flat();
    const bobFill = bobClient.inbox.all("user.trades").flat();
    expect(aliceFill).toEqual([
      expect.objectContaining({
        currency_pair: "ETH_USDT",
        side: "sell",
        role: "maker",
        amount: "0.5",
        price: "2005",
        fee: "1.0025", // 0.1 % of 1002.5 USDT
        fee_currency: "USDT",
      }),
    ]);
    expect(bobFill).toEqual([
      expect.objectContaining({
        side: "buy",
        role: "taker",
        fee: "0.001", // 0.2 % of 0.5 ETH
        fee_currency: "ETH",
        id: aliceFill[0]?.id,
      }),
    ]);
    expect(aliceClient.inbox.all("user.orders").flat()).toEqual([
      expect.objectContaining({
        id: aliceFill[0]?.order_id,
        status: "open",
        finish_as: "open",
        filled_amount: "0",
        avg_deal_price: "0",
      }),
      expect.objectContaining({
        id: aliceFill[0]?.order_id,
        currency_pair: "ETH_USDT",
        side: "sell",
        status: "closed",
        finish_as: "filled",
        filled_amount: "0.5",
        filled_total: "1002.5",
        avg_deal_price: "2005",
        fee: "1.0025",
        fee_currency: "USDT",
      }),
    ]);
    expect(
      bobClient.inbox
        .all("user.orders")
        .flat()
        .map((o) => o.side),
    ).toEqual(["buy"]);
    // Balances as decimal strings of exactly what PostgreSQL holds.
    for (const [client, userId] of [
      [aliceClient, alice],
      [bobClient, bob],
    ] as const) {
      const pushed = client.inbox.all("user.balances").flat();
      expect(pushed.map((b) => b.currency).sort()).toEqual(["ETH", "USDT"]);
      const rows = await bench.market.db.execute<{
        asset: string;
        available: bigint;
        locked: bigint;
        update_id: bigint;
        decimals: number;
      }>(sql`
        SELECT b.asset, b.available, b.locked, b.update_id, a.decimals
          FROM balances b JOIN assets a ON a.symbol = b.asset
         WHERE b.user_id = ${userId} AND b.asset IN ('ETH', 'USDT') ORDER BY b.asset`);
      expect(pushed.sort((x, y) => x.currency.localeCompare(y.currency))).toEqual(
        rows.rows.map((r) => ({
          currency: r.asset,
          available: decimal(r.available, r.decimals),
          locked: decimal(r.locked, r.decimals),
          update_id: Number(r.update_id),
        })),
      );
    }
  });
});

describe("halts", () => {
  it("reaches subscribed clients on every instance within 1 s of setMarketHalt", async () => {
    const [one, two] = bench.web;
    if (!one || !two) throw new Error("two instances");
    const watchers = [await bench.connect(one), await bench.connect(two)];
    // One follows the status channel, the other only the book: a halt concerns both.
    expect(
      await subscribe(watchers[0]?.socket as ClientSocket, {
        channel: "status",
        market: "BTC_USDT",
      }),
    ).toEqual({
      ok: true,
    });
    expect(await watchers[0]?.inbox.next("market.status")).toMatchObject({ halted: false });
    await subscribe(watchers[1]?.socket as ClientSocket, { channel: "book", market: "BTC_USDT" });

    const from = watchers.map((w) => w.inbox.received.length);
    const started = Date.now();
    await setMarketHalt(
      etcd,
      "BTC_USDT",
      { halted: true, reason: "maintenance" },
      bench.market.names,
    );
    const halted = await Promise.all(
      watchers.map((w, i) =>
        w.inbox.next("market.status", (s) => s.halted, { from: from[i] ?? 0, timeoutMs: 1_000 }),
      ),
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1_000);
    for (const status of halted) {
      expect(status).toMatchObject({
        market: "BTC_USDT",
        halted: true,
        reason: "maintenance",
        source: "config",
      });
    }
    // Each instance tells its own clients once (not once per instance).
    expect(watchers[0]?.inbox.all("market.status").filter((s) => s.halted)).toHaveLength(1);

    await setMarketHalt(etcd, "BTC_USDT", { halted: false }, bench.market.names);
    for (const w of watchers) {
      await w.inbox.next(
        "market.status",
        (s) => !s.halted && s.source === "config" && s.time > started,
        {
          timeoutMs: 1_000,
        },
      );
    }
  });
});

function userEvents(inbox: Inbox) {
  return inbox.received.filter((r) => r.event.startsWith("user."));
}

/** Minor units as a decimal string, computed here independently of the code under test. */
function decimal(units: bigint, decimals: number): string {
  const digits = units.toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}
