"use client";
// The console's sections, the current one marked (aria-current), with the live feed's state.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useOperatorFeed } from "./operator-feed";

export const CONSOLE_SECTIONS = [
  { href: "/admin", label: "Services" },
  { href: "/admin/pipeline", label: "Pipeline" },
  { href: "/admin/guards", label: "Locks, breakers, limits" },
  { href: "/admin/markets", label: "Markets" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/orders", label: "Orders and trades" },
  { href: "/admin/withdrawals", label: "Withdrawals" },
  { href: "/admin/reconciliation", label: "Reconciliation" },
  { href: "/admin/audit", label: "Audit log" },
] as const;

export function ConsoleNav() {
  const pathname = usePathname();
  const { state } = useOperatorFeed();
  const current = (href: string) =>
    href === "/admin"
      ? pathname === "/admin"
      : pathname === href || pathname.startsWith(`${href}/`);
  return (
    <nav className="console-nav" aria-label="Console">
      <div className="console-nav-title">
        Console
        <span
          className="console-feed"
          data-state={state.kind}
          data-testid="console-feed"
          title={state.kind === "live" ? "Live feed on" : "Live feed not connected"}
        >
          <span className="connection-dot" aria-hidden="true" />
          {state.kind === "live" ? "live" : state.kind}
        </span>
      </div>
      <ul>
        {CONSOLE_SECTIONS.map((section) => (
          <li key={section.href}>
            <Link
              href={section.href}
              aria-current={current(section.href) ? "page" : undefined}
              className="console-nav-link"
            >
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
