// admin.orders.cancel: asks the engine to cancel any user's live order, with the operator's
// reason. It goes the way the owner's own cancel goes — a cancel command through the outbox to
// the market's engine, as the order's owner — because every ending of an order comes from the
// engine's event stream; the answer is the order as it stands (still open until the engine's
// `cancelled` event settles, moments later). The audit row is written in a transaction that
// commits only once the cancel command is recorded, so a refused cancel (the order already
// ended) leaves no row.
import { LedgerError, schema } from "@spotx/db";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { entityId, reason } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";
import { adminOrder, presentOrder } from "./search";

export const cancelOrderInput = z.object({ orderId: entityId, reason });

export const cancelOrderOutput = z.object({
  order: adminOrder,
  /** The cancel command is on its way to the engine. */
  cancelRequested: z.literal(true),
  auditId: z.bigint(),
});

export const cancelOrderProcedure = operatorProcedure
  .input(cancelOrderInput)
  .output(cancelOrderOutput)
  .mutation(async ({ ctx, input }) => {
    const found = await ctx.db
      .select()
      .from(schema.orders)
      .where(eq(schema.orders.id, input.orderId));
    const order = found[0];
    if (!order) throw new LedgerError("ORDER_NOT_FOUND", `no order ${input.orderId}`);
    const { current, auditId } = await ctx.db.transaction(async (tx) => {
      const auditId = await auditOperatorAction(tx, ctx, {
        action: "order.cancel",
        subject: `order:${order.id}`,
        reason: input.reason,
        before: { status: order.status, userId: order.userId, market: order.market },
        after: { cancelRequested: true },
      });
      // Refuses an order that already ended (ORDER_CLOSED): the transaction, and its row, roll back.
      const current = await ctx.services.trading.cancelOrder(order.userId, {
        market: order.market,
        orderId: order.id.toString(),
      });
      return { current, auditId };
    });
    return {
      order: presentOrder(current, await MarketUnits.load(ctx.db)),
      cancelRequested: true as const,
      auditId,
    };
  });
