// The messages on the orders topic: one engine command each, keyed by market symbol. They are
// written to the outbox in the transaction that records the request (placeOrders, a cancel)
// and published by the outbox relay, which adds the row id as the `outbox-id` header — the
// command's identity, by which the engine host drops a command published twice.
import type { Command, Side } from "@spotx/engine";
import { z } from "zod";

export const COMMAND_MESSAGE_VERSION = 1;

/** Kafka headers of a command message. */
export const COMMAND_HEADERS = {
  /** The outbox row id (decimal string): unique per command, the engine host's dedupe key. */
  outboxId: "outbox-id",
  /** The request that caused the command, for following one order through the logs. */
  requestId: "request-id",
} as const;

/** The command types that may travel on the orders topic. */
export const LOGGED_COMMAND_TYPES = [
  "place",
  "cancel",
  "cancelAll",
  "amend",
  "arm",
  "disarm",
  "halt",
  "resume",
  "delist",
  "rules",
] as const;

export type CommandMessage = {
  v: typeof COMMAND_MESSAGE_VERSION;
  market: string;
  command: Command;
};

// The engine validates every field of a command itself (and rejects a bad one with an event),
// so decoding only checks the envelope and that the command is an object with a known type.
const envelope = z.object({
  v: z.literal(COMMAND_MESSAGE_VERSION),
  market: z.string().min(1).max(40),
  command: z.object({ type: z.enum(LOGGED_COMMAND_TYPES), time: z.number() }).catchall(z.unknown()),
});

export type DecodedCommand =
  | { ok: true; message: CommandMessage }
  | { ok: false; problem: string; market: string | null };

/** Parses a command message's value; never throws. */
export function decodeCommand(value: Buffer | string | null): DecodedCommand {
  if (value === null) return { ok: false, problem: "empty message", market: null };
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch {
    return { ok: false, problem: "not JSON", market: null };
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) {
    const market =
      typeof json === "object" &&
      json !== null &&
      "market" in json &&
      typeof json.market === "string"
        ? json.market
        : null;
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`,
      market,
    };
  }
  return {
    ok: true,
    message: { v: 1, market: parsed.data.market, command: parsed.data.command as Command },
  };
}

export function encodeCommand(message: CommandMessage): string {
  return JSON.stringify(message);
}

/** What an order row must carry to become a `place` command. */
export type PlaceableOrder = {
  id: bigint;
  userId: bigint;
  market: string;
  side: Side;
  type: "limit" | "market";
  timeInForce: "gtc" | "ioc" | "poc" | "fok";
  priceTicks: bigint | null;
  /** Lots, or quote minor units for a market buy. */
  amount: bigint;
  text: string | null;
  stpAct: "cn" | "co" | "cb" | null;
  createdAt: Date;
};

/**
 * The engine command for a placed order. Ids, prices and amounts were checked against the
 * market's engine bounds at placement, so they are safe integers here.
 */
export function placeCommand(order: PlaceableOrder): CommandMessage {
  const marketBuy = order.type === "market" && order.side === "buy";
  const command: Command = {
    type: "place",
    time: order.createdAt.getTime(),
    orderId: Number(order.id),
    userId: Number(order.userId),
    side: order.side,
    orderType: order.type,
    timeInForce: order.type === "market" ? "ioc" : order.timeInForce,
    ...(order.priceTicks !== null ? { price: Number(order.priceTicks) } : {}),
    ...(marketBuy ? { quoteAmount: Number(order.amount) } : { quantity: Number(order.amount) }),
    ...(order.stpAct !== null ? { stpAct: order.stpAct } : {}),
    ...(order.text !== null ? { text: order.text } : {}),
  };
  return { v: COMMAND_MESSAGE_VERSION, market: order.market, command };
}

export function cancelCommand(input: {
  market: string;
  orderId: bigint;
  userId: bigint;
  time: number;
}): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market: input.market,
    command: {
      type: "cancel",
      time: input.time,
      orderId: Number(input.orderId),
      userId: Number(input.userId),
    },
  };
}

/**
 * gate.io's amend: a new limit price (ticks) and/or a new WHOLE amount (lots; the engine leaves
 * amount − filled, and cancels the order when that is nothing). Checked at the edge, so safe
 * integers here.
 */
export function amendCommand(input: {
  market: string;
  orderId: bigint;
  userId: bigint;
  time: number;
  priceTicks: bigint | null;
  amount: bigint | null;
}): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market: input.market,
    command: {
      type: "amend",
      time: input.time,
      orderId: Number(input.orderId),
      userId: Number(input.userId),
      ...(input.priceTicks !== null ? { price: Number(input.priceTicks) } : {}),
      ...(input.amount !== null ? { amount: Number(input.amount) } : {}),
    },
  };
}

/** Arms a price-triggered order's trigger (its id is the price order's id). */
export function armCommand(input: {
  market: string;
  priceOrderId: bigint;
  userId: bigint;
  priceTicks: bigint;
  rule: "gte" | "lte";
  time: number;
}): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market: input.market,
    command: {
      type: "arm",
      time: input.time,
      triggerId: Number(input.priceOrderId),
      userId: Number(input.userId),
      price: Number(input.priceTicks),
      trigger: input.rule,
    },
  };
}

/** Forgets a price-triggered order's trigger (cancelled or expired). */
export function disarmCommand(input: {
  market: string;
  priceOrderId: bigint;
  userId: bigint;
  time: number;
}): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market: input.market,
    command: {
      type: "disarm",
      time: input.time,
      triggerId: Number(input.priceOrderId),
      userId: Number(input.userId),
    },
  };
}

export function cancelAllCommand(input: {
  market: string;
  userId: bigint;
  side?: Side | undefined;
  time: number;
}): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market: input.market,
    command: {
      type: "cancelAll",
      time: input.time,
      userId: Number(input.userId),
      ...(input.side ? { side: input.side } : {}),
    },
  };
}

export function haltCommand(market: string, halted: boolean, time: number): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market,
    command: halted ? { type: "halt", time } : { type: "resume", time },
  };
}

/**
 * Closes a market for good (admin.markets.delist): written to the outbox with the operator's
 * audit row, so it reaches the engine in the market's order like any cancel.
 */
export function delistCommand(market: string, time: number): CommandMessage {
  return { v: COMMAND_MESSAGE_VERSION, market, command: { type: "delist", time } };
}

/**
 * Changes a listed market's rules (admin.markets.changeRules): written to the outbox with the
 * operator's audit row, so the change takes its place in the market's log like any command.
 * Steps, minimums and band are engine integers (ticks, lots, quote minor units, bps), checked
 * at the edge; the fees (ppm) ride along for settlement to switch at the same sequence point.
 */
export function rulesCommand(
  market: string,
  rules: {
    priceStepTicks: bigint;
    amountStepLots: bigint;
    minBaseLots: bigint;
    minQuoteAmount: bigint;
    priceBandBps: number;
    makerFeePpm: number;
    takerFeePpm: number;
  },
  time: number,
): CommandMessage {
  return {
    v: COMMAND_MESSAGE_VERSION,
    market,
    command: {
      type: "rules",
      time,
      rules: {
        priceStep: Number(rules.priceStepTicks),
        quantityStep: Number(rules.amountStepLots),
        minQuantity: Number(rules.minBaseLots),
        minNotional: Number(rules.minQuoteAmount),
        priceBandBps: rules.priceBandBps,
        makerFeePpm: rules.makerFeePpm,
        takerFeePpm: rules.takerFeePpm,
      },
    },
  };
}
