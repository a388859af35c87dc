// orders.cancel and orders.cancelAll: ask the engine to cancel, through the same path as
// placements (every ending of an order comes from the engine's event stream). They answer with
// the orders as they stand now — still open; `cancelled` arrives with the engine's event.
import { z } from "zod";
import { cancelAllRequest, cancelOrderRequest } from "../../trading/order-request";
import { activeProcedure } from "../../trpc";
import { orderView, toOrderViews } from "./order-view";

export const cancelInput = cancelOrderRequest.strict();
export const cancelAllInput = cancelAllRequest.strict();

export const cancel = activeProcedure
  .input(cancelInput)
  .output(orderView)
  .mutation(async ({ ctx, input }) => {
    const order = await ctx.services.trading.cancelOrder(ctx.session.userId, input);
    const [view] = await toOrderViews(ctx.db, [order]);
    if (!view) throw new Error(`order ${order.id} could not be presented`);
    return view;
  });

export const cancelAll = activeProcedure
  .input(cancelAllInput)
  .output(z.array(orderView))
  .mutation(async ({ ctx, input }) => {
    const orders = await ctx.services.trading.cancelAll(ctx.session.userId, input);
    return toOrderViews(ctx.db, orders);
  });
