// orders.place: a limit or market order, through the trading service (checked against the
// market's rules, funds held, recorded and queued for the engine in one transaction). Answers at
// once with the order, `pending` until the engine accepts it; the fills arrive on the user's
// socket room and in orders.open / orders.fills. A post-only order that would take at the live
// book is refused up front with POC_FILL_IMMEDIATELY, as the gate.io API does; the engine checks
// again and ends one that slips through with finish_as `poc`.
import { type Database, loadMarket } from "@spotx/db";
import { decimalToUnits } from "@spotx/engine";
import type { BookSnapshot } from "@spotx/protocol";
import { z } from "zod";
import { ApiError } from "../../errors";
import type { ApiServices } from "../../services";
import { placeOrderRequest } from "../../trading/order-request";
import { activeProcedure } from "../../trpc";
import { cachedMarketData } from "../markets/market-data-cache";
import { orderView, toOrderView } from "./order-view";

export const placeInput = placeOrderRequest.strict();
export type PlaceInput = z.input<typeof placeInput>;

export const placeOutput = z.object({ order: orderView });

/** Refuses a post-only limit order whose price reaches the best opposite level of the live book. */
async function refuseTakingPostOnly(db: Database, services: ApiServices, input: PlaceInput) {
  if (input.timeInForce !== "poc" || input.type === "market" || input.price === undefined) return;
  const market = await loadMarket(db, input.market).catch(() => null);
  // An unknown market or a malformed price: the trading service names what is wrong.
  if (market === null) return;
  const price = decimalToUnits(input.price, market.pricePrecision);
  if (!price.ok) return;
  const book = await cachedMarketData<BookSnapshot>(
    services,
    services.names.redis.book(market.symbol),
  );
  const best = input.side === "buy" ? book?.asks[0] : book?.bids[0];
  if (!best) return;
  const bestTicks = decimalToUnits(best[0], market.pricePrecision);
  if (!bestTicks.ok) return;
  const takes =
    input.side === "buy" ? price.value >= bestTicks.value : price.value <= bestTicks.value;
  if (takes) {
    throw new ApiError(
      "POC_FILL_IMMEDIATELY",
      `a post-only ${input.side} at ${input.price} would take the best ${input.side === "buy" ? "ask" : "bid"} ${best[0]}`,
    );
  }
}

export const place = activeProcedure
  .input(placeInput)
  .output(placeOutput)
  .mutation(async ({ ctx, input }) => {
    await refuseTakingPostOnly(ctx.db, ctx.services, input);
    const placed = await ctx.services.trading.placeOrder(ctx.session.userId, input);
    const market = await loadMarket(ctx.db, placed.order.market);
    return { order: toOrderView(placed.order, market) };
  });
