// account.demoDeposit: credits the signed-in trader demo funds in any asset, so a fresh account
// can trade at once. It is a real ledger deposit (from the asset's external account), capped per
// deposit (DEMO_DEPOSIT_MAX whole units) and per user per hour (rate-limiter-flexible in Redis),
// and can be switched off (DEMO_DEPOSITS=off) on an exchange that holds real money.
import { randomUUID } from "node:crypto";
import { deposit } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { breakers } from "@spotx/platform/breakers";
import { RateLimiterRes } from "rate-limiter-flexible";
import { z } from "zod";
import { ApiError } from "../../errors";
import { activeProcedure } from "../../trpc";
import { assetField, decimalField } from "../fields";
import { assetAmount } from "./asset-amount";

export const demoDepositInput = z.strictObject({ asset: assetField, amount: decimalField });
export type DemoDepositInput = z.input<typeof demoDepositInput>;

export const demoDepositOutput = z.object({
  asset: z.string(),
  amount: z.string(),
  /** The balance after the deposit. */
  available: z.string(),
  locked: z.string(),
});

export const demoDeposit = activeProcedure
  .input(demoDepositInput)
  .output(demoDepositOutput)
  .mutation(async ({ ctx, input }) => {
    const { settings, demoDeposits } = ctx.services;
    if (!settings.demoDeposits.enabled) {
      throw new ApiError("FORBIDDEN", "demo deposits are switched off on this exchange");
    }
    const { asset, decimals, amount } = await assetAmount(ctx.db, input.asset, input.amount);
    const max = BigInt(settings.demoDeposits.maxWholeUnits) * 10n ** BigInt(decimals);
    if (amount > max) {
      throw new ApiError(
        "INVALID_PARAM_VALUE",
        `a demo deposit is at most ${settings.demoDeposits.maxWholeUnits} ${asset}`,
      );
    }
    const userId = ctx.session.userId;
    await breakers.redis
      .run(() => demoDeposits.consume(String(userId)))
      .catch((error: unknown) => {
        if (!(error instanceof RateLimiterRes)) throw error;
        const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new ApiError(
          "TOO_MANY_REQUESTS",
          `at most ${settings.demoDeposits.perHour} demo deposits an hour; try again in ${seconds} s`,
          { retryAfterSeconds: seconds },
        );
      });
    const outcome = await deposit(ctx.db, {
      userId,
      asset,
      amount,
      ref: `demo:${userId}:${randomUUID()}`,
    });
    const balance = outcome.balances.find((b) => b.asset === asset);
    // The user's open pages see the new balance at once, as they see settled trades.
    if (balance) {
      ctx.services.emitter?.to(ctx.services.names.rooms.user(userId)).emit("user.balances", [
        {
          currency: asset,
          available: unitsToDecimal(balance.available, decimals),
          locked: unitsToDecimal(balance.locked, decimals),
          update_id: Number(balance.updateId),
        },
      ]);
    }
    return {
      asset,
      amount: unitsToDecimal(amount, decimals),
      available: unitsToDecimal(balance?.available ?? 0n, decimals),
      locked: unitsToDecimal(balance?.locked ?? 0n, decimals),
    };
  });
