"use client";
// The account page's client side: balances kept live from the user's socket room, a demo
// deposit, the ledger history a page at a time, withdrawal requests and their status, API
// keys (created with permissions, the secret shown once with a copy button, revoked) and
// two-factor sign-in (with it on, new keys and withdrawals ask for a code).
import { useQuery } from "@tanstack/react-query";
import { useUserStreams } from "../../hooks/use-user-streams";
import { useTRPC } from "../../trpc/client";
import type { BalanceView } from "../../trpc/views";
import { Banner } from "../ui/banner";
import { ApiKeysPanel } from "./api-keys-panel";
import { BalancesPanel } from "./balances-panel";
import { LedgerPanel } from "./ledger-panel";
import { SecurityPanel, type SecurityStatus } from "./security-panel";
import { WithdrawalsPanel } from "./withdrawals-panel";

export function AccountView({
  initialBalances,
  decimals,
  frozen,
  security,
}: {
  initialBalances: BalanceView[] | null;
  decimals: Record<string, number>;
  frozen: boolean;
  security: SecurityStatus | null;
}) {
  const trpc = useTRPC();
  const balances = useQuery(
    trpc.account.balances.queryOptions(undefined, {
      initialData: initialBalances ?? undefined,
      staleTime: 30_000,
    }),
  );
  useUserStreams({ enabled: true });
  // With two-factor sign-in on, new keys and withdrawals ask for a code.
  const status = useQuery(
    trpc.auth.twoFactor.status.queryOptions(undefined, { initialData: security ?? undefined }),
  );
  const twoFactor = status.data?.enabled ?? false;
  return (
    <div className="account-grid">
      {frozen ? (
        <Banner tone="warning" title="This account is frozen">
          You can sign in and read, and revoke API keys; trading, deposits and withdrawals are
          refused.
        </Banner>
      ) : null}
      <BalancesPanel balances={balances} decimals={decimals} />
      <WithdrawalsPanel balances={balances.data ?? []} decimals={decimals} twoFactor={twoFactor} />
      <ApiKeysPanel twoFactor={twoFactor} />
      <SecurityPanel initialStatus={security} />
      <LedgerPanel decimals={decimals} />
    </div>
  );
}
