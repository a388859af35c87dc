// The header on every page: the exchange's name, where to go (markets, trade, account, and the
// console for operators), the live-feed state, the theme switch, and who is signed in.

import Link from "next/link";
import type { AccountView } from "../trpc/views";
import { ConnectionBadge } from "./connection-badge";
import { LogOutButton } from "./log-out-button";
import { ThemeSwitch } from "./theme-switch";

export function SiteHeader({ me, tradeHref }: { me: AccountView | null; tradeHref: string }) {
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link href="/" className="brand" aria-label="spotx home">
        spot<span>x</span>
      </Link>
      <nav aria-label="Main" className="site-nav">
        <Link href="/">Markets</Link>
        <Link href={tradeHref}>Trade</Link>
        {me ? <Link href="/account">Account</Link> : null}
        {me?.role === "operator" ? <Link href="/admin">Console</Link> : null}
      </nav>
      <div className="site-tools">
        <ConnectionBadge />
        <ThemeSwitch />
        {me ? (
          <>
            <span className="site-user muted" data-testid="signed-in-as" title={me.email}>
              {me.email}
            </span>
            <LogOutButton />
          </>
        ) : (
          <>
            <Link className="btn btn-sm btn-ghost" href="/login">
              Log in
            </Link>
            <Link className="btn btn-sm btn-primary" href="/signup">
              Sign up
            </Link>
          </>
        )}
      </div>
    </header>
  );
}
