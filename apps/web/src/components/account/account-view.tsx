"use client";
// The account page's client side: balances kept live from the user's socket room, a demo
// deposit, the ledger history a page at a time, withdrawal requests and their status, and API
// keys (created with permissions, the secret shown once with a copy button, revoked).
import { useQuery } from "@tanstack/react-query";
import { useUserStreams } from "../../hooks/use-user-streams";
import { useTRPC } from "../../trpc/client";
import type { BalanceView } from "../../trpc/views";
import { Banner } from "../ui/banner";
import { ApiKeysPanel } from "./api-keys-panel";
import { BalancesPanel } from "./balances-panel";
import { LedgerPanel } from "./ledger-panel";
import { WithdrawalsPanel } from "./withdrawals-panel";

export function AccountView({
  initialBalances,
  decimals,
  frozen,
}: {
  initialBalances: BalanceView[] | null;
  decimals: Record<string, number>;
  frozen: boolean;
}) {
  const trpc = useTRPC();
  const balances = useQuery(
    trpc.account.balances.queryOptions(undefined, {
      initialData: initialBalances ?? undefined,
      staleTime: 30_000,
    }),
  );
  useUserStreams({ enabled: true });
  return (
    <div className="account-grid">
      {frozen ? (
        <Banner tone="warning" title="This account is frozen">
          You can sign in and read, and revoke API keys; trading, deposits and withdrawals are
          refused.
        </Banner>
      ) : null}
      <BalancesPanel balances={balances} decimals={decimals} />
      <WithdrawalsPanel balances={balances.data ?? []} decimals={decimals} />
      <ApiKeysPanel />
      <LedgerPanel decimals={decimals} />
    </div>
  );
}
