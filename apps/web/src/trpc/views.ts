// The shapes the pages receive from tRPC, named once: inferred from the router's outputs, so
// they follow the API without a copy (type-only: nothing of the server reaches the browser).
import type { AppRouter } from "@spotx/api";
import type { inferRouterOutputs } from "@trpc/server";

type Outputs = inferRouterOutputs<AppRouter>;

export type AccountView = NonNullable<Outputs["auth"]["me"]>;
export type MarketView = Outputs["markets"]["get"];
export type TickerView = Outputs["markets"]["ticker"];
export type DepthView = Outputs["markets"]["depth"];
export type PublicTradeView = Outputs["markets"]["trades"]["items"][number];
export type CandleView = Outputs["markets"]["candles"][number];
export type OrderView = Outputs["orders"]["open"]["items"][number];
export type FillView = Outputs["orders"]["fills"]["items"][number];
export type BalanceView = Outputs["account"]["balances"][number];
export type LedgerTransferView = Outputs["account"]["ledger"]["items"][number];
export type WithdrawalView = Outputs["account"]["withdrawals"]["items"][number];
export type ApiKeyView = Outputs["account"]["apiKeys"]["list"][number];
