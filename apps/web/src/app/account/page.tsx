// The account page: balances (with demo deposits), ledger history, withdrawals, API keys and
// security (two-factor sign-in).
// Loaded on the server; a visitor who is not signed in is sent to log in first.
import { redirect } from "next/navigation";
import { AccountView } from "../../components/account/account-view";
import { serverCaller } from "../../trpc/server";

export const dynamic = "force-dynamic";
export const metadata = { title: "Account · spotx" };

export default async function AccountPage() {
  const caller = serverCaller();
  const me = await caller.auth.me().catch(() => null);
  if (!me) redirect("/login?next=/account");
  const [balances, assets, security] = await Promise.all([
    caller.account.balances().catch(() => null),
    caller.markets.list().catch(() => []),
    caller.auth.twoFactor.status().catch(() => null),
  ]);
  // Asset decimals, from the markets that list them (balances carry exact strings already).
  const decimals: Record<string, number> = {};
  for (const m of assets) {
    decimals[m.base] = m.baseDecimals;
    decimals[m.quote] = m.quoteDecimals;
  }
  return (
    <div className="page">
      <div className="page-head">
        <h1>Account</h1>
        <span className="muted">{me.email}</span>
      </div>
      <AccountView
        initialBalances={balances}
        decimals={decimals}
        frozen={me.status === "frozen"}
        security={security}
      />
    </div>
  );
}
