// The flow's commands through the placement service in this process (TradingService, the code
// the web server's front doors call): no HTTP, no signature check, no rate limit.
import type { TradingService } from "@spotx/api";
import { isLedgerError } from "@spotx/db";
import type { Transport } from "./traders";

export function inProcessTransport(trading: TradingService): Transport {
  return {
    async place(userId, order) {
      try {
        const placed = await trading.placeOrder(userId, { type: "limit", ...order });
        return { orderId: placed.order.id };
      } catch (error) {
        return { error: label(error) };
      }
    },
    async cancel(userId, market, orderId) {
      try {
        await trading.cancelOrder(userId, { market, orderId });
        return { error: null };
      } catch (error) {
        return { error: label(error) };
      }
    },
  };
}

function label(error: unknown): string {
  if (isLedgerError(error)) return error.label;
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 80)}` : String(error);
}
