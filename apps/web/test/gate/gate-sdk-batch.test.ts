// gate.io's own Node SDK (`gate-api`), unchanged, on the batch, amend and countdown endpoints —
// with a worker really matching and settling, so an amend's hold, an amend that cancels, a batch's
// refused items and a countdown that fires are the exchange's, checked to the minor unit and
// reconciled at the end.
import { runReconciliation } from "@spotx/db";
import {
  BatchAmendItem,
  CancelBatchOrder,
  CountdownCancelAllSpotTask,
  Order,
  OrderPatch,
} from "gate-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GateExchange, type GateKey, startGateExchange, waitFor } from "./gate-exchange";
import { orderWhen, refusal, sdkBalances, sdkSpotApi } from "./sdk-client";

let gx: GateExchange;

const spotApi = (key: GateKey) => sdkSpotApi(gx.baseUrl, key);
const balances = sdkBalances;
const settledOrder = orderWhen;

const order = (fields: Partial<Order>) => Object.assign(new Order(), fields);

beforeAll(async () => {
  gx = await startGateExchange();
});
afterAll(async () => {
  await gx?.stop();
});

describe("gate.io's SDK: batch, amend and countdown", () => {
  it("creates a batch: 200, one line per order in request order, refusals on their own line", async () => {
    const seller = await gx.trader({ funds: { BTC: 3_000_000n } }); // 0.03 BTC
    const api = spotApi(seller);
    const answer = await api.createBatchOrders([
      order({
        currencyPair: "BTC_USDT",
        side: Order.Side.Sell,
        amount: "0.01",
        price: "31000",
        text: "t-b1",
      }),
      order({
        currencyPair: "BTC_USDT",
        side: Order.Side.Sell,
        amount: "0.05",
        price: "31000",
        text: "t-b2",
      }),
      order({ currencyPair: "BTC_USDT", side: Order.Side.Sell, amount: "0.01", price: "31000" }),
      order({
        currencyPair: "BTC_USDT",
        side: Order.Side.Sell,
        amount: "0.02",
        price: "31500",
        text: "t-b4",
      }),
    ]);
    expect(answer.response.status).toBe(200);
    const lines = answer.body.map((b) => [b.text, b.succeeded, b.label ?? ""]);
    expect(lines).toEqual([
      ["t-b1", true, ""],
      ["t-b2", false, "BALANCE_NOT_ENOUGH"],
      ["", false, "MISSING_REQUIRED_PARAM"],
      ["t-b4", true, ""],
    ]);
    const first = answer.body[0];
    expect(first?.orderId).toBe(first?.id);
    expect(first).toMatchObject({ status: "open", amount: "0.01", price: "31000" });
    // The two placed hold 0.03 BTC; the refused ones nothing.
    expect(await balances(api)).toEqual({ BTC: ["0", "0.03"] });

    // Batch shapes refused as a whole.
    const tooMany = await api
      .createBatchOrders(
        Array.from({ length: 11 }, (_, i) =>
          order({
            currencyPair: "BTC_USDT",
            side: Order.Side.Sell,
            amount: "0.0001",
            price: "40000",
            text: `t-m${i}`,
          }),
        ),
      )
      .then(() => null, refusal);
    expect(tooMany).toMatchObject({ status: 400, data: { label: "TOO_MANY_ORDERS" } });
    const expired = await api
      .createBatchOrders(
        [
          order({
            currencyPair: "BTC_USDT",
            side: Order.Side.Sell,
            amount: "0.0001",
            price: "40000",
            text: "t-x",
          }),
        ],
        { xGateExptime: String(Date.now() - 1_000) },
      )
      .then(() => null, refusal);
    expect(expired).toMatchObject({ status: 400, data: { label: "REQUEST_EXPIRED" } });
    expect(await balances(api)).toEqual({ BTC: ["0", "0.03"] });

    // Cancel by id and by text, and an order that is not there, in one batch.
    const cancelled = await api.cancelBatchOrders([
      Object.assign(new CancelBatchOrder(), { currencyPair: "BTC_USDT", id: first?.id }),
      Object.assign(new CancelBatchOrder(), { currencyPair: "BTC_USDT", id: "t-b4" }),
      Object.assign(new CancelBatchOrder(), { currencyPair: "BTC_USDT", id: "999999999" }),
    ]);
    expect(cancelled.response.status).toBe(200);
    expect(cancelled.body.map((c) => [c.succeeded, c.label ?? "", c.text])).toEqual([
      [true, "", "t-b1"],
      [true, "", "t-b4"],
      [false, "ORDER_NOT_FOUND", ""],
    ]);
    await waitFor(async () => (await balances(api)).BTC?.[1] === "0", {
      what: "the batch cancel's holds released",
    });
    expect(await balances(api)).toEqual({ BTC: ["0.03", "0"] });
  });

  it("amends: the hold follows the price and amount; a refused amend changes nothing", async () => {
    const buyer = await gx.trader({ funds: { USDT: 1_000_000_000n } }); // 1000 USDT
    const api = spotApi(buyer);
    const placed = await api.createOrder(
      order({
        currencyPair: "BTC_USDT",
        side: Order.Side.Buy,
        amount: "0.01",
        price: "20000",
        text: "t-amend",
      }),
    );
    const id = placed.body.id ?? "";
    await settledOrder(api, id, (o) => o.status === Order.Status.Open, "the buy to rest");
    expect(await balances(api)).toEqual({ USDT: ["800", "200"] });

    // A higher price needs 10 USDT more: locked first, then exactly what the order needs.
    const repriced = await api.amendOrder(
      "t-amend",
      Object.assign(new OrderPatch(), { price: "21000", amendText: "reprice-1" }),
      { currencyPair: "BTC_USDT" },
    );
    expect(repriced.response.status).toBe(200);
    expect(repriced.body).toMatchObject({
      id,
      price: "21000",
      amount: "0.01",
      left: "0.01",
      amendText: "reprice-1",
    });
    expect(await balances(api)).toEqual({ USDT: ["790", "210"] });

    // A smaller amount returns the difference.
    const smaller = await api.amendOrder(
      id,
      Object.assign(new OrderPatch(), { amount: "0.005", currencyPair: "BTC_USDT" }),
    );
    expect(smaller.body).toMatchObject({ price: "21000", amount: "0.005", left: "0.005" });
    expect(await balances(api)).toEqual({ USDT: ["895", "105"] });

    // More than the balance can pay for: refused, the order and balances as they were.
    const tooBig = await api
      .amendOrder(id, Object.assign(new OrderPatch(), { amount: "1" }), {
        currencyPair: "BTC_USDT",
      })
      .then(() => null, refusal);
    expect(tooBig).toMatchObject({ status: 400, data: { label: "BALANCE_NOT_ENOUGH" } });
    const neither = await api
      .amendOrder(id, new OrderPatch(), { currencyPair: "BTC_USDT" })
      .then(() => null, refusal);
    expect(neither).toMatchObject({ status: 400, data: { label: "MISSING_REQUIRED_PARAM" } });
    expect((await api.getOrder(id, "BTC_USDT", {})).body).toMatchObject({
      price: "21000",
      amount: "0.005",
    });
    expect(await balances(api)).toEqual({ USDT: ["895", "105"] });

    // amend_batch_orders: one line per item; an item changing both is refused on its line.
    const batch = await api.amendBatchOrders([
      Object.assign(new BatchAmendItem(), {
        orderId: id,
        currencyPair: "BTC_USDT",
        price: "20000",
      }),
      Object.assign(new BatchAmendItem(), {
        orderId: id,
        currencyPair: "BTC_USDT",
        price: "1",
        amount: "1",
      }),
    ]);
    expect(batch.body.map((b) => [b.succeeded, b.label ?? "", b.price])).toEqual([
      [true, "", "20000"],
      [false, "INVALID_PARAM_VALUE", undefined],
    ]);
    expect(await balances(api)).toEqual({ USDT: ["900", "100"] });
  });

  it("an amount at or below what filled cancels the order; the rest of its hold comes back", async () => {
    const seller = await gx.trader({ funds: { BTC: 2_000_000n } }); // 0.02 BTC
    const buyer = await gx.trader({ funds: { USDT: 1_000_000_000n } });
    const sellerApi = spotApi(seller);
    const sell = await sellerApi.createOrder(
      order({ currencyPair: "BTC_USDT", side: Order.Side.Sell, amount: "0.02", price: "45000" }),
    );
    const id = sell.body.id ?? "";
    await settledOrder(sellerApi, id, (o) => o.status === Order.Status.Open, "the sell to rest");
    await spotApi(buyer).createOrder(
      order({
        currencyPair: "BTC_USDT",
        side: Order.Side.Buy,
        amount: "0.01",
        price: "45000",
        timeInForce: Order.TimeInForce.Ioc,
      }),
    );
    await settledOrder(sellerApi, id, (o) => o.left === "0.01", "half of the sell to fill");
    // 0.01 filled: a new amount of 0.015 leaves 0.005 …
    const amended = await sellerApi.amendOrder(
      id,
      Object.assign(new OrderPatch(), { amount: "0.015" }),
      {
        currencyPair: "BTC_USDT",
      },
    );
    expect(amended.body).toMatchObject({
      status: "open",
      amount: "0.015",
      left: "0.005",
      filledAmount: "0.01",
    });
    expect((await balances(sellerApi)).BTC).toEqual(["0.005", "0.005"]);
    // … and 0.01 leaves nothing: the order ends, cancelled, its hold released.
    const ended = await sellerApi.amendOrder(
      id,
      Object.assign(new OrderPatch(), { amount: "0.01" }),
      {
        currencyPair: "BTC_USDT",
      },
    );
    expect(ended.body).toMatchObject({ status: "cancelled", finishAs: "cancelled", left: "0.005" });
    expect((await balances(sellerApi)).BTC).toEqual(["0.01", "0"]);
  });

  it("countdown cancel-all: armed, disarmed, and when it runs out every open order goes", async () => {
    const trader = await gx.trader({ funds: { BTC: 1_000_000n } });
    const api = spotApi(trader);
    const task = (timeout: number, currencyPair?: string) =>
      Object.assign(new CountdownCancelAllSpotTask(), { timeout, currencyPair });
    const tooShort = await api.countdownCancelAllSpot(task(3)).then(() => null, refusal);
    expect(tooShort).toMatchObject({ status: 400, data: { label: "INVALID_PARAM_VALUE" } });

    const before = Date.now();
    const armed = await api.countdownCancelAllSpot(task(30, "BTC_USDT"));
    expect(armed.response.status).toBe(200);
    expect(typeof armed.response.data.triggerTime).toBe("number");
    expect(armed.body.triggerTime).toBeGreaterThanOrEqual(before + 30_000);
    const disarmed = await api.countdownCancelAllSpot(task(0, "BTC_USDT"));
    expect(disarmed.body.triggerTime).toBe(0);
    expect(
      await gx.redis.zscore(gx.exchange.names.redis.countdowns, `${trader.userId}:BTC_USDT`),
    ).toBeNull();

    const placed = await api.createOrder(
      order({ currencyPair: "BTC_USDT", side: Order.Side.Sell, amount: "0.01", price: "45500" }),
    );
    const id = placed.body.id ?? "";
    await api.countdownCancelAllSpot(task(5));
    const cancelled = await waitFor(
      async () => {
        const o = (await api.getOrder(id, "BTC_USDT", {})).body;
        return o.status === Order.Status.Cancelled && o;
      },
      { what: "the countdown to cancel the order", timeoutMs: 20_000 },
    );
    expect(cancelled.finishAs).toBe("cancelled");
    expect(await balances(api)).toEqual({ BTC: ["0.01", "0"] });
  });

  it("leaves the ledger reconciled", async () => {
    const run = await runReconciliation(gx.db);
    expect(run.findings).toEqual([]);
    expect(run.status).toBe("clean");
  });
});
