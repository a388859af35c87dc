// orders.amend: a resting limit order's new price and/or new WHOLE amount (gate.io's meaning: an
// amount at or below what already filled cancels the order), through the same trading service
// as gate.io's PATCH /spot/orders/{id} — checked against the market's rules, the difference
// locked first when the amended order could spend more (BALANCE_NOT_ENOUGH, nothing changed, when
// it is not there), and queued for the engine. A new price or a larger amount sends the order to
// the back of its (new) level; a smaller amount keeps its place.
//
// Answers at once with the order as it stands, the amend queued (`amendPending`): the engine's
// answer arrives on the user's socket room like every other order change, and orders.open reads
// the settled result. The REST door instead waits for settlement on the gate API's SettledOrders
// (Redis announcements); the tRPC context has no such listener, and a browser does not need one —
// it is told by its socket. For the same reason a second amend of an order whose first amend is
// still with the engine (`busy`) is not waited on here: it is refused with TOO_MANY_REQUESTS (HTTP
// 429, retry after a second), nothing changed, and the page may ask again once the first settled.
import { loadMarket } from "@spotx/db";
import { z } from "zod";
import { ApiError } from "../../errors";
import { amendOrderRequest } from "../../trading/order-request";
import { activeProcedure } from "../../trpc";
import { orderView, toOrderView } from "./order-view";

export const amendInput = amendOrderRequest.strict();

export const amendOutput = z.object({
  order: orderView,
  /** The amend is with the engine: price and amount above are still the old ones until it settles. */
  amendPending: z.boolean(),
});

export const amend = activeProcedure
  .input(amendInput)
  .output(amendOutput)
  .mutation(async ({ ctx, input }) => {
    const outcome = await ctx.services.trading.amendOrder(ctx.session.userId, input);
    if (outcome.status === "busy") {
      throw new ApiError(
        "TOO_MANY_REQUESTS",
        `an earlier amend of order ${outcome.order.id} is still with the matching engine; try again shortly`,
        { retryAfterSeconds: 1 },
      );
    }
    const market = await loadMarket(ctx.db, outcome.order.market);
    return {
      order: toOrderView(outcome.order, market),
      amendPending: outcome.order.amendPending,
    };
  });
