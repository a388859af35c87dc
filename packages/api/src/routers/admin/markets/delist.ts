// admin.markets.delist: closes a market for good, keeping its history. One PostgreSQL transaction
// marks it `closed` (placement, amends and price orders are refused from that commit on, with
// MARKET_CLOSED), queues a `delist` command through the outbox — so the engine applies it in the
// market's own order, after every command before it, and a replay delists at the same point —
// halts it in etcd for good (browsers and every process see it at once; resume is refused), and
// writes the audit row with what was live. The engine then cancels every resting order and stop
// (finish_as `delisted`) and forgets the price triggers; settlement releases the holds as for any
// cancel, confirms `closed` and ends the market's waiting price orders. Orders, trades, candles
// and ledger entries stay, readable as before.
import { delistMarket } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { COMMAND_HEADERS, delistCommand } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import {
  type LiveHaltWrite,
  parseLive,
  undoLiveHalt,
  writeLiveHalt,
} from "../../../admin/market-halts";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { marketSymbol, reason } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";

const log = logger("admin");

export const delistInput = z.object({ symbol: marketSymbol, reason });

export const delistOutput = z.object({
  symbol: z.string(),
  status: z.literal("closed"),
  /** Orders live when it was delisted: the engine cancels each (finish_as `delisted`). */
  liveOrders: z.number().int(),
  /** Price-triggered orders waiting when it was delisted: settlement ends each `cancelled`. */
  openPriceOrders: z.number().int(),
  auditId: z.bigint(),
});

export const delistMarketProcedure = operatorProcedure
  .input(delistInput)
  .output(delistOutput)
  .mutation(async ({ ctx, input }) => {
    const { etcd, names } = ctx.services;
    const state: { write?: LiveHaltWrite } = {};
    let result: z.infer<typeof delistOutput>;
    try {
      result = await ctx.db.transaction(async (tx) => {
        const delisting = await delistMarket(tx, input.symbol, {
          topic: names.kafka.orders.topic,
          payload: delistCommand(input.symbol, Date.now()),
          headers: { [COMMAND_HEADERS.requestId]: ctx.request.requestId },
        });
        const write = await writeLiveHalt(etcd, names, input.symbol, {
          halted: true,
          reason: `delisted: ${input.reason}`,
          by: `operator:${ctx.session.userId}`,
        });
        state.write = write;
        const auditId = await auditOperatorAction(tx, ctx, {
          action: "market.delist",
          subject: `market:${input.symbol}`,
          reason: input.reason,
          before: {
            status: delisting.previous,
            live: parseLive(write.previous),
            liveOrders: delisting.liveOrders,
            openPriceOrders: delisting.openPriceOrders,
          },
          after: { status: "closed", live: write.written },
        });
        return {
          symbol: input.symbol,
          status: "closed" as const,
          liveOrders: delisting.liveOrders,
          openPriceOrders: delisting.openPriceOrders,
          auditId,
        };
      });
    } catch (error) {
      if (state.write) await undoLiveHalt(etcd, names, input.symbol, state.write, log);
      throw error;
    }
    // The relay also polls every second; this only saves the wait.
    await ctx.db
      .execute(sql`SELECT pg_notify(${names.postgres.outboxChannel}, '')`)
      .catch(() => undefined);
    return result;
  });
