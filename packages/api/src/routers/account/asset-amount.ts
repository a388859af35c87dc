// An amount a trader typed for an asset, in that asset's minor units: the asset must exist, the
// amount be positive and have no more decimals than the asset has (INVALID_PRECISION).
import { type Database, schema } from "@spotx/db";
import { decimalToUnits } from "@spotx/engine";
import { eq } from "drizzle-orm";
import { ApiError } from "../../errors";

export type AssetAmount = { asset: string; decimals: number; amount: bigint };

export async function assetAmount(db: Database, asset: string, text: string): Promise<AssetAmount> {
  const found = await db
    .select({ decimals: schema.assets.decimals })
    .from(schema.assets)
    .where(eq(schema.assets.symbol, asset))
    .limit(1);
  const decimals = found[0]?.decimals;
  if (decimals === undefined) throw new ApiError("INVALID_PARAM_VALUE", `unknown asset ${asset}`);
  const converted = decimalToUnits(text, decimals);
  if (!converted.ok) {
    throw converted.error === "INVALID_PRECISION"
      ? new ApiError("INVALID_PRECISION", `amount ${text} has more than ${decimals} decimals`)
      : new ApiError("INVALID_PARAM_VALUE", `amount "${text}" is not a decimal number`);
  }
  if (converted.value <= 0n) throw new ApiError("INVALID_PARAM_VALUE", "amount must be positive");
  return { asset, decimals, amount: converted.value };
}
