// The announcement made on Redis pub/sub (topology().redis.priceOrdersChannel) whenever a
// price-triggered order changes — created or cancelled by the API; triggered, finished, failed or
// expired by a worker. The gate.io WebSocket API re-reads the rows and pushes each to its user's
// `spot.priceorders` subscriptions.
import { z } from "zod";

const id = z.string().regex(/^\d{1,19}$/);

export const priceOrderChangesMessage = z.object({
  /** [user id, price order id] pairs, as decimal strings. */
  changed: z.array(z.tuple([id, id])).max(10_000),
});
export type PriceOrderChangesMessage = z.infer<typeof priceOrderChangesMessage>;

export function encodePriceOrderChanges(
  changed: readonly { userId: bigint; id: bigint }[],
): string {
  const message: PriceOrderChangesMessage = {
    changed: changed.map((c) => [String(c.userId), String(c.id)]),
  };
  return JSON.stringify(message);
}

/** The message, or null for anything that is not one. */
export function decodePriceOrderChanges(text: string): PriceOrderChangesMessage | null {
  try {
    const parsed = priceOrderChangesMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
