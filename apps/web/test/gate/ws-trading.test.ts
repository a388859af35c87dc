// gate.io's WebSocket trading API (/ws/v4/, event "api") against a running exchange, driven by a
// client written from GATE_API_MORE.md alone: spot.login the three ways gate.io's clients sign
// it, requests signed in their payload without a login, every order channel with the answers
// REST gives for the same request, the ack before an order is placed, and the refusals — not
// logged in, a bad signature, a read-only key, an expired x-gate-exptime, a replayed request on
// a strict key, a revoked key, and a rate limit spent partly over REST and partly over WS.
import { createHmac, randomUUID } from "node:crypto";
import { GATE_LABEL_STATUS } from "@spotx/api/gate";
import { putRateLimitSettings } from "@spotx/api/guards/rate-limits";
import { revokeApiKey } from "@spotx/db";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  type GateExchange,
  type GateKey,
  SignedClient,
  startGateExchange,
  waitFor,
} from "./gate-exchange";

type Frame = {
  request_id: string;
  ack?: boolean;
  header: Record<string, unknown> & { status: string; channel: string; event: string };
  data: { result?: unknown; errs?: { label: string; message: string } };
};

type Credentials = { key: string; secret: string };

type SendOptions = {
  /** The exact JSON text sent as payload.req_param; undefined: no req_param member at all. */
  reqParam?: string;
  /** Sign the request in its payload with these credentials. */
  signWith?: Credentials;
  /** The payload's `timestamp` (and what is signed): the envelope's time unless given. */
  timestamp?: string;
  /** Sign this req_param text instead of the one sent (a tampered request). */
  signedText?: string;
  reqHeader?: Record<string, unknown>;
  time?: number;
};

/**
 * A client of gate.io's WebSocket trading API: `{time, channel, event: "api", payload: {req_id,
 * req_param, req_header?, api_key?, signature?, timestamp?}}`, signed as
 * hex(HMAC_SHA512(secret, "api\n<channel>\n<req_param as sent, or "">\n<timestamp>")).
 */
class TradingClient {
  readonly frames: Frame[] = [];
  private wake: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.wake.splice(0)) wake();
    });
  }

  static async open(url: string): Promise<TradingClient> {
    const ws = new WebSocket(url);
    const client = new TradingClient(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    opened.push(client);
    return client;
  }

  /** Sends one request; answers its req_id. */
  send(channel: string, options: SendOptions = {}): string {
    const reqId = randomUUID();
    const time = options.time ?? Math.floor(Date.now() / 1000);
    const members = [`"req_id":${JSON.stringify(reqId)}`];
    if (options.reqParam !== undefined) members.push(`"req_param":${options.reqParam}`);
    if (options.reqHeader) members.push(`"req_header":${JSON.stringify(options.reqHeader)}`);
    if (options.signWith) {
      const timestamp = options.timestamp ?? String(time);
      const signed = options.signedText ?? options.reqParam ?? "";
      const signature = createHmac("sha512", options.signWith.secret)
        .update(`api\n${channel}\n${signed}\n${timestamp}`)
        .digest("hex");
      members.push(
        `"api_key":${JSON.stringify(options.signWith.key)}`,
        `"signature":"${signature}"`,
        `"timestamp":"${timestamp}"`,
      );
    }
    this.ws.send(
      `{"time":${time},"channel":${JSON.stringify(channel)},"event":"api","payload":{${members.join(",")}}}`,
    );
    return reqId;
  }

  /** The answer (not the ack) to `reqId`. */
  async final(reqId: string): Promise<Frame> {
    return this.next((f) => f.request_id === reqId && !f.ack);
  }

  /** Sends `param` (serialized) on `channel` and waits for the answer. */
  async call(channel: string, param?: unknown, options: SendOptions = {}): Promise<Frame> {
    const reqParam = param === undefined ? undefined : JSON.stringify(param);
    return this.final(this.send(channel, { reqParam, ...options }));
  }

  async login(credentials: Credentials, reqParam?: string): Promise<Frame> {
    return this.final(this.send("spot.login", { reqParam, signWith: credentials }));
  }

  async next(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching frame arrived");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  framesOf(reqId: string): Frame[] {
    return this.frames.filter((f) => f.request_id === reqId);
  }
}

const opened: TradingClient[] = [];

/** The channels GATE_API_MORE.md lists for the trading API. */
const CHANNELS = [
  "spot.login",
  "spot.order_place",
  "spot.order_cancel",
  "spot.order_cancel_ids",
  "spot.order_cancel_cp",
  "spot.order_amend",
  "spot.order_status",
  "spot.order_list",
];
const LABELS = new Set(Object.keys(GATE_LABEL_STATUS));

let gx: GateExchange;
let alice: GateKey;
let aliceRest: SignedClient;
let wsUrl: string;

beforeAll(async () => {
  gx = await startGateExchange();
  alice = await gx.trader({ funds: { USDT: 10_000_000_000n, BTC: 100_000_000n } });
  aliceRest = new SignedClient(gx.baseUrl, alice);
  wsUrl = `${gx.url.replace("http", "ws")}/ws/v4/`;
});
afterAll(async () => {
  for (const client of opened) client.ws.close();
  await gx?.stop();
});

type Obj = Record<string, unknown>;
const result = (frame: Frame) => frame.data.result as Obj;
const results = (frame: Frame) => frame.data.result as Obj[];
const ok = (frame: Frame) => {
  expect(frame.header.status, JSON.stringify(frame.data)).toBe("200");
  return frame;
};
const refusal = (frame: Frame) => [frame.header.status, frame.data.errs?.label];

/** Alice's orders REST lists open in BTC_USDT. */
async function openOrderIds(): Promise<string[]> {
  const open = await aliceRest.get("/spot/orders", "currency_pair=BTC_USDT&status=open");
  return (open.body as Obj[]).map((o) => String(o.id));
}

/** Waits for rate limits written to etcd to be in force: an anonymous read's limit is `limit`. */
async function limitsApplied(limit: string) {
  const anon = new SignedClient(gx.baseUrl, null);
  await waitFor(
    async () => (await anon.get("/spot/time")).headers.get("x-gate-ratelimit-limit") === limit,
    { what: `the rate limits (${limit}) applied` },
  );
}

async function loggedIn(credentials: Credentials): Promise<TradingClient> {
  const client = await TradingClient.open(wsUrl);
  ok(await client.login(credentials));
  return client;
}

describe("spot.login", () => {
  it('accepts the three ways clients sign it — no req_param, {} and "" — each over its text', async () => {
    for (const reqParam of [undefined, "{}", '""']) {
      const client = await TradingClient.open(wsUrl);
      const login = ok(await client.login(alice, reqParam));
      expect(login.header).toMatchObject({ channel: "spot.login", event: "api" });
      expect(login.data.result).toEqual({ api_key: alice.key, uid: String(alice.userId) });
      // Logged in: an unsigned request is the login's key's.
      const list = ok(
        await client.call("spot.order_list", { currency_pair: "BTC_USDT", status: "open" }),
      );
      expect(Array.isArray(list.data.result)).toBe(true);
    }
  });

  it("signs over the payload's timestamp too, and refuses a signature over other text", async () => {
    const client = await TradingClient.open(wsUrl);
    // gate.io's example: payload.timestamp is what was signed (here, 5 s before the envelope's time).
    const time = Math.floor(Date.now() / 1000);
    const skewed = client.send("spot.login", {
      signWith: alice,
      time,
      timestamp: String(time - 5),
    });
    expect(result(ok(await client.final(skewed))).uid).toBe(String(alice.userId));
    // "{}" signed, "{ }" sent: the server verifies the bytes it received.
    const tampered = await client.final(
      client.send("spot.login", { reqParam: "{ }", signedText: "{}", signWith: alice }),
    );
    expect(tampered.header.status).toBe("401");
    expect(tampered.data.errs).toEqual({
      label: "INVALID_SIGNATURE",
      message: "signature mismatch",
    });
  });

  it("refuses a bad signature (401) and an unknown key, and a failed login is no login", async () => {
    const client = await TradingClient.open(wsUrl);
    const bad = await client.login({ key: alice.key, secret: "not-the-secret" });
    expect(refusal(bad)).toEqual(["401", "INVALID_SIGNATURE"]);
    const unknown = await client.login({ key: "no-such-key", secret: alice.secret });
    expect(refusal(unknown)).toEqual(["401", "INVALID_KEY"]);
    const after = await client.call("spot.order_list", {
      currency_pair: "BTC_USDT",
      status: "open",
    });
    expect(after.data.errs).toEqual({ label: "AUTHENTICATION_FAILED", message: "Not login" });
  });

  it("answers in gate.io's frame: request_id and the header's ids and times", async () => {
    const client = await TradingClient.open(wsUrl);
    const first = ok(await client.login(alice));
    const second = ok(await client.login(alice));
    expect(first.header).toEqual({
      response_time: expect.stringMatching(/^\d{13}$/),
      status: "200",
      channel: "spot.login",
      event: "api",
      client_id: expect.any(String),
      x_in_time: expect.any(Number),
      x_out_time: expect.any(Number),
      conn_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      conn_trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(first.header.x_out_time as number).toBeGreaterThanOrEqual(
      first.header.x_in_time as number,
    );
    // One connection, two requests: the connection's ids stay, the trace id is per request.
    expect(second.header.conn_id).toBe(first.header.conn_id);
    expect(second.header.conn_trace_id).toBe(first.header.conn_trace_id);
    expect(second.header.trace_id).not.toBe(first.header.trace_id);
    expect(second.request_id).not.toBe(first.request_id);
  });
});

describe("without a login", () => {
  it("refuses an unsigned order: 400 AUTHENTICATION_FAILED, Not login, and places nothing", async () => {
    const client = await TradingClient.open(wsUrl);
    const reqId = client.send("spot.order_place", {
      reqParam: JSON.stringify({
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.001",
        price: "20000",
        text: "t-not-logged-in",
      }),
    });
    const answer = await client.final(reqId);
    expect(answer.header.status).toBe("400");
    expect(answer.data).toEqual({ errs: { label: "AUTHENTICATION_FAILED", message: "Not login" } });
    expect(client.framesOf(reqId)).toHaveLength(1); // no ack
    // Who is asking is settled before what is asked, as over REST.
    const malformed = await client.call("spot.order_status", { currency_pair: 7 });
    expect(malformed.data.errs).toEqual({ label: "AUTHENTICATION_FAILED", message: "Not login" });
    const texts = await aliceRest.get("/spot/orders", "currency_pair=BTC_USDT&status=open");
    expect((texts.body as Obj[]).some((o) => o.text === "t-not-logged-in")).toBe(false);
  });

  it("accepts requests signed in their payload (as ccxt and tsb send them), each over its own req_param", async () => {
    const client = await TradingClient.open(wsUrl);
    // Spacing and key order as this client wrote them: what is signed is what was sent.
    const reqParam =
      '{ "text": "t-signed", "currency_pair": "BTC_USDT", "side": "buy", "amount": "0.001", "price": "20001" }';
    const placed = ok(
      await client.final(client.send("spot.order_place", { reqParam, signWith: alice })),
    );
    expect(result(placed)).toMatchObject({ text: "t-signed", price: "20001", status: "open" });
    const status = ok(
      await client.call(
        "spot.order_status",
        { order_id: result(placed).id, currency_pair: "BTC_USDT" },
        { signWith: alice },
      ),
    );
    expect(result(status).id).toBe(result(placed).id);
    // Another request's signature does not carry over: this one is signed over other text.
    const forged = await client.final(
      client.send("spot.order_cancel", {
        reqParam: JSON.stringify({ order_id: result(placed).id, currency_pair: "BTC_USDT" }),
        signedText: reqParam,
        signWith: alice,
      }),
    );
    expect(refusal(forged)).toEqual(["401", "INVALID_SIGNATURE"]);
    expect(await openOrderIds()).toContain(result(placed).id);
  });

  it("claims a strict key's signed order once: the same request again is DUPLICATE_REQUEST", async () => {
    const strict = await gx.trader({ replay: "strict", funds: { USDT: 1_000_000_000n } });
    const client = await TradingClient.open(wsUrl);
    const time = Math.floor(Date.now() / 1000);
    const reqParam = JSON.stringify({
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.001",
      price: "20002",
    });
    const first = await client.final(
      client.send("spot.order_place", { reqParam, signWith: strict, time }),
    );
    ok(first);
    const again = await client.final(
      client.send("spot.order_place", { reqParam, signWith: strict, time }),
    );
    expect(refusal(again)).toEqual(["400", "DUPLICATE_REQUEST"]);
    const open = await new SignedClient(gx.baseUrl, strict).get(
      "/spot/orders",
      "currency_pair=BTC_USDT&status=open",
    );
    expect((open.body as Obj[]).length).toBe(1);
  });
});

describe("the order channels, logged in", () => {
  let client: TradingClient;
  beforeAll(async () => {
    client = await loggedIn(alice);
  });

  it("spot.order_place: an ack echoing the request first, then the Order, as REST stores it", async () => {
    const param = {
      text: "t-ws-place",
      currency_pair: "BTC_USDT",
      type: "limit",
      account: "spot",
      side: "buy",
      amount: "0.001",
      price: "20100",
    };
    const reqId = client.send("spot.order_place", {
      reqParam: JSON.stringify(param),
      reqHeader: { "X-Gate-Channel-Id": "gateapinode" },
    });
    const placed = ok(await client.final(reqId));
    const [ack, final] = client.framesOf(reqId);
    expect(final).toBe(placed);
    expect(ack).toMatchObject({ request_id: reqId, ack: true, header: { status: "200" } });
    expect(ack?.data.result).toEqual({
      req_id: reqId,
      req_header: { "X-Gate-Channel-Id": "gateapinode" },
      req_param: param,
      api_key: "",
      timestamp: "",
      signature: "",
    });
    // Placing carries the rate-limit fields: the orders budget, spent once.
    for (const frame of [ack, placed]) {
      expect(frame?.header).toMatchObject({
        x_gate_ratelimit_limit: 50,
        x_gate_ratelimit_requests_remain: expect.any(Number),
        x_gat_ratelimit_reset_timestamp: expect.any(Number),
      });
      expect(frame?.header.x_gate_ratelimit_requests_remain as number).toBeLessThan(50);
    }
    expect(placed.data.result).toMatchObject({
      text: "t-ws-place",
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.001",
      price: "20100",
      status: "open",
    });
    const stored = await aliceRest.get(
      `/spot/orders/${result(placed).id}`,
      "currency_pair=BTC_USDT",
    );
    expect(stored.body).toMatchObject({
      id: result(placed).id,
      text: "t-ws-place",
      price: "20100",
    });
    // Reads carry no rate-limit fields.
    const status = ok(
      await client.call("spot.order_status", { order_id: "t-ws-place", currency_pair: "BTC_USDT" }),
    );
    expect(result(status).id).toBe(result(placed).id);
    expect(status.header.x_gate_ratelimit_limit).toBeUndefined();
    expect(client.framesOf(status.request_id)).toHaveLength(1);
  });

  it("refuses what REST refuses, with REST's status, label and message", async () => {
    const cases: Array<[string, Obj, string, string, string?]> = [
      [
        "spot.order_place",
        { currency_pair: "BTC_USDT", side: "buy", amount: "100", price: "29900" },
        "POST",
        "/spot/orders",
      ],
      [
        "spot.order_place",
        { currency_pair: "NOPE_USDT", side: "buy", amount: "1", price: "1" },
        "POST",
        "/spot/orders",
      ],
      [
        "spot.order_place",
        { currency_pair: "BTC_USDT", side: "buy", amount: 0.01, price: "30000" },
        "POST",
        "/spot/orders",
      ],
      [
        "spot.order_status",
        { order_id: "999999", currency_pair: "BTC_USDT" },
        "GET",
        "/spot/orders/999999",
        "currency_pair=BTC_USDT",
      ],
      [
        "spot.order_list",
        { currency_pair: "BTC_USDT" },
        "GET",
        "/spot/orders",
        "currency_pair=BTC_USDT",
      ],
      [
        "spot.order_list",
        { currency_pair: "BTC_USDT", status: "open", limit: 101 },
        "GET",
        "/spot/orders",
        "currency_pair=BTC_USDT&status=open&limit=101",
      ],
    ];
    for (const [channel, param, method, path, queryText] of cases) {
      const reqId = client.send(channel, { reqParam: JSON.stringify(param) });
      const answer = await client.final(reqId);
      const rest =
        method === "POST"
          ? await aliceRest.post(path, param)
          : await aliceRest.request(method, path, { query: queryText });
      expect(rest.status, JSON.stringify(param)).toBeGreaterThanOrEqual(400);
      expect(answer.header.status, JSON.stringify(param)).toBe(String(rest.status));
      expect(answer.data.errs, JSON.stringify(param)).toEqual(rest.body);
      // An order request that passed authentication is acknowledged before it is looked at.
      expect(client.framesOf(reqId).map((f) => f.ack ?? false)).toEqual(
        channel === "spot.order_place" ? [true, false] : [false],
      );
    }
    const unknown = await client.call("spot.order_nothing", {});
    expect(refusal(unknown)).toEqual(["400", "INVALID_PARAM_VALUE"]);
    const noId = await client.call("spot.order_status", { currency_pair: "BTC_USDT" });
    expect(noId.data.errs).toEqual({
      label: "MISSING_REQUIRED_PARAM",
      message: "missing required parameter: order_id",
    });
  });

  it("spot.order_list and spot.order_status answer what REST answers (numbers taken as REST's text)", async () => {
    const list = ok(
      await client.call("spot.order_list", {
        currency_pair: "BTC_USDT",
        status: "open",
        page: 1,
        limit: 10,
      }),
    );
    const rest = await aliceRest.get(
      "/spot/orders",
      "currency_pair=BTC_USDT&status=open&page=1&limit=10",
    );
    expect(results(list).map((o) => o.id)).toEqual((rest.body as Obj[]).map((o) => o.id));
    expect(results(list).length).toBeGreaterThan(0);
    const first = results(list)[0] as Obj;
    const status = ok(
      await client.call("spot.order_status", { order_id: first.id, currency_pair: "BTC_USDT" }),
    );
    expect(status.data.result).toEqual(first);
  });

  it("spot.order_amend changes a resting order's price and echoes amend_text", async () => {
    const placed = ok(
      await client.call("spot.order_place", {
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.002",
        price: "20200",
        text: "t-ws-amend",
      }),
    );
    const anon = new SignedClient(gx.baseUrl, null);
    await waitFor(
      async () => {
        const book = await anon.get("/spot/order_book", "currency_pair=BTC_USDT&limit=100");
        return (book.body as { bids: string[][] }).bids.some(([price]) => price === "20200");
      },
      { what: "the order resting in the book" },
    );
    const amended = ok(
      await client.call("spot.order_amend", {
        order_id: "t-ws-amend",
        currency_pair: "BTC_USDT",
        price: "20150",
        amend_text: "moved",
      }),
    );
    expect(amended.data.result).toMatchObject({
      id: result(placed).id,
      price: "20150",
      amount: "0.002",
      amend_text: "moved",
    });
    expect(amended.header.x_gate_ratelimit_limit).toBe(50);
    expect(client.framesOf(amended.request_id)).toHaveLength(1); // only placing is acked
    const stored = await aliceRest.get(
      `/spot/orders/${result(placed).id}`,
      "currency_pair=BTC_USDT",
    );
    expect(stored.body).toMatchObject({ price: "20150", amend_text: "moved" });
  });

  it("spot.order_cancel cancels by id and by text; the answer shows it cancelled", async () => {
    for (const [text, by] of [
      ["t-ws-cancel-id", "id"],
      ["t-ws-cancel-text", "text"],
    ] as const) {
      const placed = ok(
        await client.call("spot.order_place", {
          currency_pair: "BTC_USDT",
          side: "buy",
          amount: "0.001",
          price: "20300",
          text,
        }),
      );
      const cancelled = ok(
        await client.call("spot.order_cancel", {
          order_id: by === "id" ? result(placed).id : text,
          currency_pair: "BTC_USDT",
        }),
      );
      expect(cancelled.data.result).toMatchObject({
        id: result(placed).id,
        status: "cancelled",
        finish_as: "cancelled",
      });
      expect(await openOrderIds()).not.toContain(result(placed).id);
    }
  });

  it("spot.order_place with an array places a batch; spot.order_cancel_ids cancels by ids", async () => {
    const batch = [
      {
        text: "t-ws-batch-1",
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.001",
        price: "20401",
      },
      {
        text: "t-ws-batch-2",
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.001",
        price: "20402",
      },
      {
        text: "t-ws-batch-3",
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "100",
        price: "20403",
      },
    ];
    const reqId = client.send("spot.order_place", { reqParam: JSON.stringify(batch) });
    const placed = ok(await client.final(reqId));
    expect(client.framesOf(reqId)[0]).toMatchObject({
      ack: true,
      data: { result: { req_param: batch } },
    });
    const items = results(placed);
    expect(items.map((o) => [o.text, o.succeeded])).toEqual([
      ["t-ws-batch-1", true],
      ["t-ws-batch-2", true],
      ["t-ws-batch-3", false],
    ]);
    expect(items[2]).toMatchObject({ label: "BALANCE_NOT_ENOUGH" });
    const ids = items.slice(0, 2).map((o) => String(o.id));
    expect(await openOrderIds()).toEqual(expect.arrayContaining(ids));

    const cancelled = ok(
      await client.call(
        "spot.order_cancel_ids",
        [...ids, "999999"].map((id) => ({ currency_pair: "BTC_USDT", id })),
      ),
    );
    expect(results(cancelled).map((o) => [o.id, o.succeeded])).toEqual([
      [ids[0], true],
      [ids[1], true],
      ["999999", false],
    ]);
    await waitFor(
      async () => {
        const open = await openOrderIds();
        return ids.every((id) => !open.includes(id));
      },
      { what: "the batch cancelled" },
    );
  });

  it("spot.order_cancel_cp cancels one side of a pair and leaves the other", async () => {
    const sell = ok(
      await client.call("spot.order_place", {
        currency_pair: "BTC_USDT",
        side: "sell",
        amount: "0.001",
        price: "45000",
      }),
    );
    const buy = ok(
      await client.call("spot.order_place", {
        currency_pair: "BTC_USDT",
        side: "buy",
        amount: "0.001",
        price: "20500",
      }),
    );
    const cancelled = ok(
      await client.call("spot.order_cancel_cp", { currency_pair: "BTC_USDT", side: "buy" }),
    );
    const ids = results(cancelled).map((o) => o.id);
    expect(ids).toContain(result(buy).id);
    expect(results(cancelled).every((o) => o.side === "buy" && o.status === "cancelled")).toBe(
      true,
    );
    const open = await openOrderIds();
    expect(open).toEqual([result(sell).id]);
  });
});

describe("refusals", () => {
  it("answers any req_param on every channel with a result or a labelled 4xx, never a 5xx", async () => {
    // Hundreds of order requests in a few seconds: budgets that do not run out, so every answer
    // is the request's own (the IP's budget is the later tests' too).
    const unlimited = { points: 10_000_000, duration: 1 };
    await putRateLimitSettings(gx.exchange.etcd, gx.exchange.names, {
      reads: { ip: unlimited, user: unlimited, key: unlimited },
      orders: { ip: unlimited, user: unlimited, key: unlimited },
    });
    await limitsApplied("10000000");
    // A user of its own with nothing open: whatever a random request cancels is nobody's.
    const fuzzer = await gx.trader({ funds: { USDT: 1_000_000n } });
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (param) => {
        // A connection per run: the server closes one sending more than 50 messages a second.
        const client = await TradingClient.open(wsUrl);
        try {
          const reqParam = JSON.stringify(param);
          const sent = CHANNELS.map((channel) => ({
            channel,
            reqId: client.send(channel, { reqParam, signWith: fuzzer }),
          }));
          for (const { channel, reqId } of sent) {
            const answer = await client.final(reqId);
            expect(answer.header.channel).toBe(channel);
            const { status } = answer.header;
            seen.set(status, (seen.get(status) ?? 0) + 1);
            if (status === "200") continue;
            expect(Number(status), `${channel} ${reqParam}`).toBeLessThan(500);
            expect(LABELS, `${channel} ${reqParam}`).toContain(answer.data.errs?.label);
          }
        } finally {
          client.ws.close();
        }
      }),
      { numRuns: 40 },
    );
    expect(seen.get("400")).toBeGreaterThan(0);
  });

  it("answers a malformed envelope in the trading API's frame, naming what is wrong", async () => {
    const client = await TradingClient.open(wsUrl);
    const time = Math.floor(Date.now() / 1000);
    client.ws.send(JSON.stringify({ time, channel: "spot.order_list", event: "api" }));
    const noPayload = await client.next((f) => f.header.channel === "spot.order_list");
    expect(noPayload).toMatchObject({
      request_id: "",
      header: { status: "400", event: "api" },
      data: {
        errs: { label: "MISSING_REQUIRED_PARAM", message: "missing required parameter: payload" },
      },
    });
    const stale = await client.final(
      client.send("spot.order_list", { reqParam: "{}", signWith: alice, time: time - 120 }),
    );
    expect(refusal(stale)).toEqual(["401", "REQUEST_EXPIRED"]);
  });

  it("a read-only key logs in and reads, but may not trade: 403 FORBIDDEN, as REST", async () => {
    const reader = await gx.trader({ permissions: ["read"], funds: { USDT: 1_000_000_000n } });
    const client = await loggedIn(reader);
    const param = { currency_pair: "BTC_USDT", side: "buy", amount: "0.001", price: "20000" };
    const refused = await client.call("spot.order_place", param);
    const rest = await new SignedClient(gx.baseUrl, reader).post("/spot/orders", param);
    expect(rest.status).toBe(403);
    expect(refused.header.status).toBe("403");
    expect(refused.data.errs).toEqual(rest.body);
    ok(await client.call("spot.order_list", { currency_pair: "BTC_USDT", status: "open" }));
  });

  it("an x-gate-exptime already past: 400 REQUEST_EXPIRED, and nothing is placed", async () => {
    const client = await loggedIn(alice);
    const param = JSON.stringify({
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.001",
      price: "20600",
      text: "t-ws-expired",
    });
    const reqId = client.send("spot.order_place", {
      reqParam: param,
      reqHeader: { "x-gate-exptime": String(Date.now() - 1_000), "X-Gate-Channel-Id": "x" },
    });
    const expired = await client.final(reqId);
    expect(refusal(expired)).toEqual(["400", "REQUEST_EXPIRED"]);
    expect(client.framesOf(reqId)).toHaveLength(1);
    // The same order with an expiry still ahead is placed.
    const placed = ok(
      await client.final(
        client.send("spot.order_place", {
          reqParam: param,
          reqHeader: { "x-gate-exptime": String(Date.now() + 60_000) },
        }),
      ),
    );
    const open = await aliceRest.get("/spot/orders", "currency_pair=BTC_USDT&status=open");
    expect((open.body as Obj[]).filter((o) => o.text === "t-ws-expired").map((o) => o.id)).toEqual([
      result(placed).id,
    ]);
  });

  it("a login whose key is revoked since is refused INVALID_KEY, then Not login", async () => {
    const carol = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const client = await loggedIn(carol);
    ok(await client.call("spot.order_list", { currency_pair: "BTC_USDT", status: "open" }));
    expect(await revokeApiKey(gx.db, carol.userId, carol.key)).toBe(true);
    // Nothing announced: the key the server keeps in memory expires within seconds.
    await waitFor(
      async () => {
        const answer = await client.call("spot.order_list", {
          currency_pair: "BTC_USDT",
          status: "open",
        });
        return answer.data.errs?.label === "INVALID_KEY";
      },
      { what: "the revoked key refused", intervalMs: 250 },
    );
    const after = await client.call("spot.order_list", {
      currency_pair: "BTC_USDT",
      status: "open",
    });
    expect(after.data.errs).toEqual({ label: "AUTHENTICATION_FAILED", message: "Not login" });
  });

  it("shares the orders rate limit with REST: spent over REST, refused over WS (429), and back", async () => {
    const dave = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    await putRateLimitSettings(gx.exchange.etcd, gx.exchange.names, {
      orders: { user: { points: 4, duration: 60 } },
      reads: { ip: { points: 999, duration: 60 } },
    });
    await limitsApplied("999");
    const rest = new SignedClient(gx.baseUrl, dave);
    const order = (i: number) => ({
      currency_pair: "BTC_USDT",
      side: "buy",
      amount: "0.001",
      price: `${20_700 + i}`,
    });
    for (let i = 0; i < 3; i++)
      expect((await rest.post("/spot/orders", order(i))).status).toBe(201);
    const client = await loggedIn(dave);
    const last = ok(await client.call("spot.order_place", order(3)));
    expect(last.header).toMatchObject({
      x_gate_ratelimit_limit: 4,
      x_gate_ratelimit_requests_remain: 0,
    });
    const reqId = client.send("spot.order_place", { reqParam: JSON.stringify(order(4)) });
    const refused = await client.final(reqId);
    expect(refused.header.status).toBe("429");
    expect(refused.data.errs).toEqual({
      label: "TOO_MANY_REQUESTS",
      message: expect.stringContaining("too many orders requests"),
    });
    expect(refused.header.x_gate_ratelimit_limit).toBe(4);
    expect(refused.header.x_gat_ratelimit_reset_timestamp as number).toBeGreaterThan(Date.now());
    expect(client.framesOf(reqId)).toHaveLength(1);
    // Reads are another class: still answered.
    ok(await client.call("spot.order_list", { currency_pair: "BTC_USDT", status: "open" }));
    expect((await rest.post("/spot/orders", order(5))).status).toBe(429);
    const open = await rest.get("/spot/orders", "currency_pair=BTC_USDT&status=open");
    expect((open.body as Obj[]).length).toBe(4);
  });
});
