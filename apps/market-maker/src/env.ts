// The market maker's own settings; the database address and server key come from
// @spotx/platform's env (it provisions its account and key there at start).
import { parseEnv } from "@spotx/platform";
import { z } from "zod";

/** Its variables (the README's configuration table is checked against this). */
export const marketMakerEnvSchema = z.object({
  /** The exchange's gate.io-compatible REST API. */
  MARKET_MAKER_API_URL: z
    .url()
    .default(`http://127.0.0.1:${process.env.WEB_PORT ?? "3000"}/api/v4`),
  /** Markets to quote, comma-separated; empty: every tradable market. */
  MARKET_MAKER_MARKETS: z
    .string()
    .regex(
      /^([A-Z0-9]{2,12}_[A-Z0-9]{2,12})?(,[A-Z0-9]{2,12}_[A-Z0-9]{2,12})*$/,
      "pairs like BTC_USDT,ETH_USDT",
    )
    .default(""),
  /** How often each market's quotes are refreshed (ms). */
  MARKET_MAKER_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(1_500),
  /** Price levels quoted on each side. */
  MARKET_MAKER_LEVELS: z.coerce.number().int().min(1).max(20).default(10),
});

export const marketMakerEnv = parseEnv(marketMakerEnvSchema);
