// The announcement settlement makes on Redis pub/sub (topology().redis.settledChannel) after
// each applied batch: which orders it changed. Whoever waits for an order to reach a state (the
// gate.io API's DELETE, which answers once the engine's cancel is settled) re-reads those rows
// instead of polling the database.
import { z } from "zod";

export const settledOrdersMessage = z.object({
  market: z.string(),
  /** Order ids, as decimal strings. */
  orders: z.array(z.string().regex(/^\d{1,19}$/)),
});
export type SettledOrdersMessage = z.infer<typeof settledOrdersMessage>;

export function encodeSettledOrders(market: string, orderIds: readonly bigint[]): string {
  const message: SettledOrdersMessage = { market, orders: orderIds.map(String) };
  return JSON.stringify(message);
}

/** The message, or null for anything that is not one. */
export function decodeSettledOrders(text: string): SettledOrdersMessage | null {
  try {
    const parsed = settledOrdersMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
