// The signed `spot.priceorders` WebSocket channel against a running exchange (worker included):
// one update per change of the subscriber's own price orders — created, cancelled, fired,
// expired — each `result` the very object GET /spot/price_orders/{id} answers, filtered by the
// pairs subscribed.
import { signChannel } from "@spotx/api/gate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
  waitFor,
} from "./gate-exchange";
import { type Message, WsClient } from "./ws-client";

let gx: GateExchange;
let alice: GateKey;
let bob: GateKey;
const sockets: WsClient[] = [];

type PriceOrderObject = { id: number; user: number; market: string; status: string } & Record<
  string,
  unknown
>;

beforeAll(async () => {
  gx = await startGateExchange();
  alice = await gx.trader({ funds: { USDT: 1_000_000_000n } }); // 1000 USDT
  bob = await gx.trader();
});
afterAll(async () => {
  for (const socket of sockets) socket.ws.close();
  await gx?.stop();
});

async function connect(): Promise<WsClient> {
  const socket = await WsClient.open(`${gx.url.replace("http", "ws")}/ws/v4/`);
  sockets.push(socket);
  return socket;
}

function subscribe(socket: WsClient, key: GateKey | null, payload: string[]) {
  const time = Math.floor(Date.now() / 1000);
  const auth = key
    ? {
        auth: {
          method: "api_key",
          KEY: key.key,
          SIGN: signChannel(key.secret, "spot.priceorders", "subscribe", time),
        },
      }
    : {};
  return socket.request({
    time,
    channel: "spot.priceorders",
    event: "subscribe",
    payload,
    ...auth,
  });
}

const results = (socket: WsClient) =>
  socket.updates("spot.priceorders").map((m) => m.result as PriceOrderObject);

/** The next update about price order `id` that `done` accepts. */
function updateOf(socket: WsClient, id: number, done: (p: PriceOrderObject) => boolean) {
  return socket.next((m: Message) => {
    if (m.channel !== "spot.priceorders" || m.event !== "update") return false;
    const p = m.result as PriceOrderObject;
    return p.id === id && done(p);
  }, 20_000);
}

async function create(client: SignedClient, body: Record<string, unknown>): Promise<number> {
  const answer = await client.post("/spot/price_orders", body);
  expect(answer.status, answer.text).toBe(201);
  return (answer.body as { id: number }).id;
}

const restObject = async (client: SignedClient, id: number) =>
  (await client.get(`/spot/price_orders/${id}`)).body;

describe("spot.priceorders", () => {
  it("is signed and takes pairs or !all", async () => {
    const socket = await connect();
    expect((await subscribe(socket, null, ["!all"])).error?.code).toBe(4);
    expect((await subscribe(socket, alice, [])).error?.code).toBe(2);
    expect((await subscribe(socket, alice, ["DOGE_USDT"])).error?.code).toBe(2);
    const ack = await subscribe(socket, alice, ["!all"]);
    expect(ack).toMatchObject({
      channel: "spot.priceorders",
      event: "subscribe",
      payload: ["!all"],
      error: null,
      result: { status: "success" },
    });
  });

  it("pushes the subscriber's own price orders as they are created, cancelled, fired and expired", async () => {
    const aliceWs = await connect();
    const bobWs = await connect();
    expect((await subscribe(aliceWs, alice, ["BTC_USDT"])).error).toBeNull();
    expect((await subscribe(bobWs, bob, ["!all"])).error).toBeNull();
    const aliceRest = new SignedClient(gx.baseUrl, alice);
    const bobRest = new SignedClient(gx.baseUrl, bob);
    const limitBuy = (price: string) => ({
      type: "limit",
      side: "buy",
      price,
      amount: "0.01",
      account: "normal",
      time_in_force: "gtc",
    });

    // Another pair than the one subscribed, and someone else's: not pushed to alice.
    const eth = await create(aliceRest, {
      market: "ETH_USDT",
      trigger: { price: "9000", rule: ">=", expiration: 0 },
      put: { ...limitBuy("9000"), amount: "0.01" },
    });
    const bobs = await create(bobRest, {
      market: "BTC_USDT",
      trigger: { price: "90000", rule: ">=", expiration: 0 },
      put: { ...limitBuy("90000"), side: "sell" },
    });
    const toBob = await updateOf(bobWs, bobs, (p) => p.status === "open");
    expect(toBob.result).toEqual(await restObject(bobRest, bobs));

    // Created: pushed open, the object REST answers.
    const waiting = await create(aliceRest, {
      market: "BTC_USDT",
      trigger: { price: "90000", rule: ">=", expiration: 3600 },
      put: limitBuy("90000"),
    });
    const created = await updateOf(aliceWs, waiting, (p) => p.status === "open");
    expect(created).toMatchObject({ channel: "spot.priceorders", event: "update" });
    expect(typeof created.time).toBe("number");
    expect(typeof created.time_ms).toBe("number");
    expect(created.result).toEqual(await restObject(aliceRest, waiting));
    expect(created.result).toMatchObject({
      trigger: { price: "90000", rule: ">=", expiration: 3600 },
      put: { type: "limit", side: "buy", price: "90000", amount: "0.01", account: "normal" },
      market: "BTC_USDT",
      user: Number(alice.userId),
      status: "open",
      fired_order_id: 0,
      ftime: 0,
    });

    // Cancelled: pushed cancelled.
    expect((await aliceRest.delete(`/spot/price_orders/${waiting}`)).status).toBe(200);
    const cancelled = await updateOf(aliceWs, waiting, (p) => p.status === "cancelled");
    expect(cancelled.result).toEqual(await restObject(aliceRest, waiting));

    // Fired by a trade at its price: pushed finished, with the order it placed.
    const firing = await create(aliceRest, {
      market: "BTC_USDT",
      trigger: { price: "30000", rule: ">=" },
      put: limitBuy("30000"),
    });
    await updateOf(aliceWs, firing, (p) => p.status === "open");
    const seller = new SignedClient(gx.baseUrl, await gx.trader({ funds: { BTC: 1_000_000n } }));
    const buyer = new SignedClient(
      gx.baseUrl,
      await gx.trader({ funds: { USDT: 1_000_000_000n } }),
    );
    const sell = await seller.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "sell",
      amount: "0.01",
      price: "30000",
    });
    const sellId = (sell.body as { id: string }).id;
    await waitFor(
      async () => {
        const book = await new SignedClient(gx.baseUrl, null).get(
          "/spot/order_book",
          "currency_pair=BTC_USDT",
        );
        return (book.body as { asks: string[][] }).asks.length === 1;
      },
      { what: "the sell on the book" },
    );
    await buyer.post("/spot/orders", {
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
      time_in_force: "ioc",
    });
    const fired = await updateOf(aliceWs, firing, (p) => p.status === "finish");
    const firedOrder = (fired.result as { fired_order_id: number }).fired_order_id;
    expect(firedOrder).toBeGreaterThan(0);
    expect(fired.result).toEqual(await restObject(aliceRest, firing));
    expect(
      (await aliceRest.get(`/spot/orders/${firedOrder}`, "currency_pair=BTC_USDT")).body,
    ).toMatchObject({ side: "buy", price: "30000", amount: "0.01" });
    expect(
      (await seller.get(`/spot/orders/${sellId}`, "currency_pair=BTC_USDT")).body,
    ).toMatchObject({ status: "closed" });

    // Expired by the worker's sweep: pushed expired.
    const expiring = await create(aliceRest, {
      market: "BTC_USDT",
      trigger: { price: "90000", rule: ">=", expiration: 1 },
      put: limitBuy("90000"),
    });
    const expired = await updateOf(aliceWs, expiring, (p) => p.status === "expired");
    expect(expired.result).toEqual(await restObject(aliceRest, expiring));

    // Everything alice was sent is hers and in BTC_USDT; bob was sent only his.
    const toAlice = results(aliceWs);
    expect(toAlice.every((p) => p.user === Number(alice.userId) && p.market === "BTC_USDT")).toBe(
      true,
    );
    expect(toAlice.some((p) => p.id === eth || p.id === bobs)).toBe(false);
    expect(new Set(results(bobWs).map((p) => p.id))).toEqual(new Set([bobs]));
  });
});
