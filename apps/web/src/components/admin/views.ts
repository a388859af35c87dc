// The shapes the console's pages receive from the admin router, named once: inferred from its
// outputs (type-only: nothing of the server reaches the browser).
import type { AppRouter } from "@spotx/api";
import type { inferRouterOutputs } from "@trpc/server";

type Admin = inferRouterOutputs<AppRouter>["admin"];

export type KafkaView = Admin["kafka"];
export type BreakersView = Admin["breakers"];
export type RateLimitsView = Admin["rateLimits"];
export type LocksView = Admin["locks"];
export type AdminMarketView = Admin["markets"]["list"][number];
export type AdminUserView = Admin["users"]["search"]["items"][number];
export type UserDetailView = Admin["users"]["detail"];
export type AdminSessionView = Admin["users"]["sessions"]["sessions"][number];
export type AdminApiKeyView = Admin["users"]["apiKeys"]["keys"][number];
export type AdminOrderView = Admin["orders"]["search"]["items"][number];
export type AdminTradeView = Admin["trades"]["search"]["items"][number];
export type AdminWithdrawalView = Admin["withdrawals"]["queue"]["items"][number];
export type ReconciliationRunView = Admin["reconciliation"]["runs"]["items"][number];
export type ReconciliationFindingView = Admin["reconciliation"]["findings"]["items"][number];
export type AuditEntryView = Admin["audit"]["search"]["items"][number];
