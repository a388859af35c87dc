// Random command sequences for the property tests: a small price range, few users and a
// small pool of order ids, so that crossing, STP, duplicates, stops, limits and every
// rejection reason happen often.
import fc from "fast-check";
import { resolveMarket } from "../src/market";
import type { Command, MarketConfig } from "../src/types";
import type { ModelLimits } from "./reference-model";

export const PROPERTY_MARKET: MarketConfig = {
  symbol: "TST_USD",
  tickSize: "0.03",
  lotSize: "1",
  baseDecimals: 0,
  quoteDecimals: 2,
  minNotional: 500,
  maxPrice: 200,
  maxQuantity: 40,
  priceBandBps: 1000,
  maxOpenOrdersPerUser: 7,
  maxOrders: 20,
};

export function modelLimits(config: MarketConfig): ModelLimits {
  const m = resolveMarket(config);
  return {
    quotePerTickLot: m.quotePerTickLot,
    minQuantity: m.minQuantity,
    minNotional: m.minNotional,
    maxPrice: m.maxPrice,
    maxQuantity: m.maxQuantity,
    maxQuoteAmount: m.maxQuoteAmount,
    priceBandBps: m.priceBandBps,
    maxOpenOrdersPerUser: m.maxOpenOrdersPerUser,
    maxOrders: m.maxOrders,
  };
}

const orderId = fc.integer({ min: 1, max: 32 });
// Most commands come from the order id's "owner", so cancels and amends usually find it.
const userId = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) },
);
const ownerOf = (orderId: number, user: number) => (user === 0 ? (orderId % 4) + 1 : user);
// Cancels and amends mostly aim at one of the last few orders placed (likely still open).
const recent = fc.oneof(
  { weight: 4, arbitrary: fc.nat(7) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const side = fc.constantFrom("buy" as const, "sell" as const);
// Mostly a distance from 100 away from the other side (negative: crossing), sometimes an
// absolute price, far or malformed.
const price = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: -2, max: 8 }).map((depth) => ({ depth })) },
  { weight: 2, arbitrary: fc.integer({ min: 80, max: 125 }).map((at) => ({ at })) },
  { weight: 1, arbitrary: fc.constantFrom(0, -3, 100.5, 201, Number.NaN).map((at) => ({ at })) },
);
const quantity = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2.5, 41, 2 ** 53) },
);
const tif = fc.constantFrom(
  undefined,
  "gtc" as const,
  "gtc" as const,
  "gtc" as const,
  "ioc" as const,
  "poc" as const,
  "fok" as const,
);
const stpAct = fc.constantFrom(undefined, undefined, "cn" as const, "co" as const, "cb" as const);
const stpGroup = fc.constantFrom(undefined, 0, 1, 2);

const limitOrder = fc.record(
  {
    orderId,
    userId,
    side,
    price,
    quantity,
    timeInForce: tif,
    stpAct,
    stpGroup,
    stop: fc.option(
      fc.record({
        stopPrice: fc.integer({ min: 94, max: 106 }),
        trigger: fc.constantFrom(undefined, "gte" as const, "lte" as const),
      }),
      { freq: 6 },
    ),
  },
  { requiredKeys: ["orderId", "userId", "side", "price", "quantity"] },
);

const marketOrder = fc.record({
  orderId,
  userId,
  side,
  quantity: fc.integer({ min: 1, max: 14 }),
  quoteAmount: fc.integer({ min: 100, max: 5000 }),
  stpAct,
  stpGroup,
});

interface Mix {
  limit: number;
  market: number;
  cancel: number;
  amend: number;
}

/** Churn keeps the book small and busy; build-up fills it to the per-user and book limits. */
const CHURN: Mix = { limit: 40, market: 8, cancel: 14, amend: 18 };
const BUILD_UP: Mix = { limit: 60, market: 3, cancel: 3, amend: 10 };

const draftFor = (mix: Mix) =>
  fc.oneof(
    {
      weight: mix.limit,
      arbitrary: limitOrder.map((value) => ({ kind: "limit", value }) as const),
    },
    {
      weight: mix.market,
      arbitrary: marketOrder.map(
        (m) =>
          ({
            kind: "market",
            value: m,
          }) as const,
      ),
    },
    {
      weight: mix.cancel,
      arbitrary: fc
        .record({ orderId, userId, recent })
        .map((v) => ({ kind: "cancel", value: v }) as const),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          userId: fc.integer({ min: 1, max: 4 }),
          side: fc.constantFrom(undefined, "buy" as const, "sell" as const),
        })
        .map((v) => ({ kind: "cancelAll", value: v }) as const),
    },
    {
      weight: mix.amend,
      arbitrary: fc
        .record({
          orderId,
          userId,
          recent,
          price: fc.option(fc.integer({ min: 90, max: 110 }), { freq: 3 }),
          quantity: fc.option(fc.integer({ min: 1, max: 10 }), { freq: 3 }),
          // gate.io's whole-amount form (sometimes at or below what filled: a cancel).
          amount: fc.option(fc.integer({ min: 1, max: 12 }), { freq: 4 }),
        })
        .map((v) => ({ kind: "amend", value: v }) as const),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "halt" } as const) },
    { weight: 6, arbitrary: fc.constant({ kind: "resume" } as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { kind: "raw", value: { type: "place", time: 1, orderId: 1, userId: 1 } },
        { kind: "raw", value: { type: "bogus", time: 1 } },
        {
          kind: "raw",
          value: {
            type: "place",
            time: -5,
            orderId: 3,
            userId: 1,
            side: "buy",
            orderType: "limit",
            price: 100,
            quantity: 2,
          },
        },
        {
          kind: "raw",
          value: {
            type: "place",
            time: 1,
            orderId: 3,
            userId: 1,
            side: "buy",
            orderType: "market",
            quantity: 2,
          },
        },
        {
          kind: "raw",
          value: {
            type: "place",
            time: 1,
            orderId: 3,
            userId: 1,
            side: "buy",
            orderType: "limit",
            price: 100,
            quantity: 2,
            timeInForce: "day",
          },
        },
        { kind: "raw", value: { type: "cancel", time: 1, orderId: 0, userId: 1 } },
        { kind: "raw", value: { type: "amend", time: 1, orderId: 3, userId: 1 } },
        { kind: "raw", value: { type: "cancelAll", time: 1, userId: 2, side: "up" } },
      ),
    },
  );

export type CommandDraft = ReturnType<typeof draftFor> extends fc.Arbitrary<infer T> ? T : never;

/** Turns drafts into commands with increasing times. */
export function toCommands(drafts: readonly CommandDraft[]): Command[] {
  const placed: number[] = [];
  const target = (orderId: number, pick: number | null) => {
    if (pick === null || placed.length === 0) return orderId;
    return placed[placed.length - 1 - (pick % Math.min(8, placed.length))] ?? orderId;
  };
  return drafts.map((draft, i) => {
    const time = 1_700_000_000_000 + i;
    switch (draft.kind) {
      case "limit": {
        const v = draft.value;
        placed.push(v.orderId);
        const command: Record<string, unknown> = {
          type: "place",
          time,
          orderId: v.orderId,
          userId: ownerOf(v.orderId, v.userId),
          side: v.side,
          orderType: "limit",
          price: "at" in v.price ? v.price.at : 100 + (v.side === "buy" ? -1 : 1) * v.price.depth,
          quantity: v.quantity,
        };
        if (v.timeInForce !== undefined) command.timeInForce = v.timeInForce;
        if (v.stpAct !== undefined) command.stpAct = v.stpAct;
        if (v.stpGroup !== undefined) command.stpGroup = v.stpGroup;
        if (v.stop !== undefined && v.stop !== null) {
          command.stopPrice = v.stop.stopPrice;
          if (v.stop.trigger !== undefined) command.trigger = v.stop.trigger;
        }
        return command as unknown as Command;
      }
      case "market": {
        const v = draft.value;
        const command: Record<string, unknown> = {
          type: "place",
          time,
          orderId: v.orderId,
          userId: ownerOf(v.orderId, v.userId),
          side: v.side,
          orderType: "market",
        };
        if (v.side === "buy") command.quoteAmount = v.quoteAmount;
        else command.quantity = v.quantity;
        if (v.stpAct !== undefined) command.stpAct = v.stpAct;
        if (v.stpGroup !== undefined) command.stpGroup = v.stpGroup;
        return command as unknown as Command;
      }
      case "cancel": {
        const orderId = target(draft.value.orderId, draft.value.recent);
        return { type: "cancel", time, orderId, userId: ownerOf(orderId, draft.value.userId) };
      }
      case "cancelAll": {
        const v = draft.value;
        return v.side === undefined
          ? { type: "cancelAll", time, userId: v.userId }
          : { type: "cancelAll", time, userId: v.userId, side: v.side };
      }
      case "amend": {
        const v = draft.value;
        const orderId = target(v.orderId, v.recent);
        const command: Record<string, unknown> = {
          type: "amend",
          time,
          orderId,
          userId: ownerOf(orderId, v.userId),
        };
        if (v.price !== null) command.price = v.price;
        if (v.quantity !== null) command.quantity = v.quantity;
        else if (v.amount !== null) command.amount = v.amount;
        return command as unknown as Command;
      }
      case "halt":
        return { type: "halt", time };
      case "resume":
        return { type: "resume", time };
      case "raw":
        return { ...draft.value } as unknown as Command;
      default:
        throw new Error("unknown command draft");
    }
  });
}

const churnDraft = draftFor(CHURN);
const buildUpDraft = draftFor(BUILD_UP);

export const commandSequence = (maxLength: number) =>
  fc
    .boolean()
    .chain((buildUp) =>
      fc.array(buildUp ? buildUpDraft : churnDraft, {
        minLength: Math.min(10, maxLength),
        maxLength,
        size: "max",
      }),
    )
    .map(toCommands);
