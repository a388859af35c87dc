// The messages on the events topic: everything one command did to one market's book, keyed
// by market symbol. The engine host writes them in a Kafka transaction with the command's
// offset; settlement and market data read them (read_committed). Each carries the owner's
// epoch (the etcd revision of its ownership key), so a consumer can drop a zombie's output.
import type { CancelledEvent, EngineEvent } from "@spotx/engine";
import { z } from "zod";

export const EVENT_MESSAGE_VERSION = 1;

/** gate.io's finish_as for an order the engine ended without (or before) filling it fully. */
export type CancelFinishAs =
  | "cancelled"
  | "ioc"
  | "fok"
  | "poc"
  | "stp"
  | "filled"
  /** spotx's own: the market was delisted (gate.io's wire shows "cancelled"). */
  | "delisted"
  /** spotx's own: a rules change left the order off the new tick or lot (gate.io: "cancelled"). */
  | "market_rules";

/**
 * A `cancelled` event as published: the engine's event plus the finish_as settlement records.
 * A market buy that stopped with less than one lot's worth left is `filled` (it spent all it
 * could), not `ioc`; everything else maps through the engine's FINISH_AS.
 */
export type PublishedCancelled = CancelledEvent & { finishAs: CancelFinishAs };
export type PublishedEvent = Exclude<EngineEvent, CancelledEvent> | PublishedCancelled;

/** An answer to a command that produced no sequenced event (a cancel-all with nothing to cancel). */
export type CommandReply = { type: "cancelAll"; userId: number; cancelled: number };

export type EventMessage = {
  v: typeof EVENT_MESSAGE_VERSION;
  market: string;
  /** The owner's epoch, a decimal string (etcd revisions are int64). */
  epoch: string;
  /** The outbox id of the command, or null for a command without one (an engine-made halt, junk). */
  commandId: string | null;
  /** Where the command was read: the orders topic's partition and offset (decimal string). */
  input: { partition: number; offset: string };
  /** The command's time (ms). */
  time: number;
  /** The command's events in sequence order, seq strictly +1; may be empty. */
  events: PublishedEvent[];
  reply: CommandReply | null;
};

const message = z.object({
  v: z.literal(EVENT_MESSAGE_VERSION),
  market: z.string().min(1),
  epoch: z.string().regex(/^\d+$/),
  commandId: z.string().nullable(),
  input: z.object({ partition: z.number().int().min(0), offset: z.string().regex(/^\d+$/) }),
  time: z.number(),
  events: z.array(
    z.object({ type: z.string(), seq: z.number().int().positive() }).catchall(z.unknown()),
  ),
  reply: z
    .object({ type: z.literal("cancelAll"), userId: z.number(), cancelled: z.number() })
    .nullable(),
});

export type DecodedEvents = { ok: true; message: EventMessage } | { ok: false; problem: string };

/**
 * Parses an events message. Only the envelope and the sequence numbers are checked: the
 * payload was written by the engine host from engine events, and settlement checks every
 * trade against the orders it names anyway.
 */
export function decodeEvents(value: Buffer | string | null): DecodedEvents {
  if (value === null) return { ok: false, problem: "empty message" };
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch {
    return { ok: false, problem: "not JSON" };
  }
  const parsed = message.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `${issue?.path.join(".") || "message"}: ${issue?.message}` };
  }
  const events = parsed.data.events;
  for (let i = 1; i < events.length; i++) {
    const previous = events[i - 1];
    const current = events[i];
    if (previous && current && current.seq !== previous.seq + 1) {
      return { ok: false, problem: `events out of sequence at ${current.seq}` };
    }
  }
  return { ok: true, message: parsed.data as unknown as EventMessage };
}

export function encodeEvents(message: EventMessage): string {
  return JSON.stringify(message);
}

/** The first and last sequence numbers a message carries, or null when it has none. */
export function seqRange(message: EventMessage): { first: number; last: number } | null {
  const first = message.events[0];
  const last = message.events[message.events.length - 1];
  return first && last ? { first: first.seq, last: last.seq } : null;
}
