// admin.markets.halt / admin.markets.resume: stops or restarts trading in a market, with the
// operator's reason. Both halt records change together (see admin/market-halts.ts): etcd, which
// every process watches (placement refuses within a second, the engine owner appends the halt to
// the market's log, browsers get `market.status`), and markets.status with the audit row, in one
// transaction. Cancels stay possible while halted.
import { LedgerError, schema } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import {
  type LiveHaltWrite,
  parseLive,
  undoLiveHalt,
  unknownMarket,
  writeLiveHalt,
} from "../../../admin/market-halts";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { marketSymbol, reason } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";

const log = logger("admin");

export const haltInput = z.object({ symbol: marketSymbol, reason });

export const haltOutput = z.object({
  symbol: z.string(),
  status: z.enum(["trading", "halted"]),
  halted: z.boolean(),
  reason: z.string().nullable(),
  by: z.string().nullable(),
  updatedAt: z.string(),
  auditId: z.bigint(),
});

const changeHalt = (halted: boolean) =>
  operatorProcedure
    .input(haltInput)
    .output(haltOutput)
    .mutation(async ({ ctx, input }) => {
      const { etcd, names } = ctx.services;
      const status = halted ? ("halted" as const) : ("trading" as const);
      const state: { write?: LiveHaltWrite } = {};
      try {
        return await ctx.db.transaction(async (tx) => {
          const found = await tx.execute<{ status: "trading" | "halted" | "closed" }>(
            sql`SELECT status FROM markets WHERE symbol = ${input.symbol} FOR UPDATE`,
          );
          const row = found.rows[0];
          if (!row) throw unknownMarket(input.symbol);
          if (row.status === "closed") {
            // Delisted for good: halted in etcd forever, never resumed (admin.markets.delist).
            throw new LedgerError("MARKET_CLOSED", `${input.symbol} was delisted; it stays closed`);
          }
          await tx
            .update(schema.markets)
            .set({ status })
            .where(eq(schema.markets.symbol, input.symbol));
          const write = await writeLiveHalt(etcd, names, input.symbol, {
            halted,
            reason: input.reason,
            by: `operator:${ctx.session.userId}`,
          });
          state.write = write;
          const auditId = await auditOperatorAction(tx, ctx, {
            action: halted ? "market.halt" : "market.resume",
            subject: `market:${input.symbol}`,
            reason: input.reason,
            before: { status: row.status, live: parseLive(write.previous) },
            after: { status, live: write.written },
          });
          return {
            symbol: input.symbol,
            status,
            halted: write.written.halted,
            reason: write.written.reason,
            by: write.written.by,
            updatedAt: write.written.updatedAt,
            auditId,
          };
        });
      } catch (error) {
        if (state.write) await undoLiveHalt(etcd, names, input.symbol, state.write, log);
        throw error;
      }
    });

export const haltMarketProcedure = changeHalt(true);
export const resumeMarketProcedure = changeHalt(false);
