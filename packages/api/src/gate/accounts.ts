// GET /spot/accounts: the caller's balances, one per currency they hold (or the one asked for,
// zero when they hold none), at the currency's decimals.
import { schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { callerOf, type GateCall, ok } from "./call";
import { parseParams } from "./request-params";

const accountsQuery = z.strictObject({ currency: z.string().min(1).max(40).optional() });

export async function listAccounts(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(accountsQuery, call.query);
  const asked = q.currency === undefined ? null : await services.markets.asset(q.currency);
  const { balances } = schema;
  const rows = await services.db
    .select()
    .from(balances)
    .where(and(eq(balances.userId, userId), asked ? eq(balances.asset, asked.symbol) : undefined))
    .orderBy(asc(balances.asset));
  const assets = await services.markets.assets();
  const accounts = rows.map((row) => {
    const decimals = assets.get(row.asset)?.decimals ?? 0;
    return {
      currency: row.asset,
      available: unitsToDecimal(row.available, decimals),
      locked: unitsToDecimal(row.locked, decimals),
      update_id: Number(row.updateId),
    };
  });
  if (asked && accounts.length === 0) {
    return ok([{ currency: asked.symbol, available: "0", locked: "0", update_id: 0 }]);
  }
  return ok(accounts);
}
