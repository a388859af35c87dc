// The root layout: theme (from its cookie, so the first paint is already right), the header
// with who is signed in, and the providers client components share.
import type { Metadata, Viewport } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { AppProviders } from "../components/app-providers";
import { SiteHeader } from "../components/site-header";
import { serverCaller } from "../trpc/server";
import "./globals.css";
import "../components/ui/kit.css";
import "./site.css";

export const metadata: Metadata = {
  title: "spotx",
  description: "A spot crypto exchange you can run yourself",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const jar = await cookies();
  const theme = jar.get("spotx_theme")?.value === "light" ? "light" : "dark";
  const caller = serverCaller();
  // The header must render even when a server is down: it then shows a visitor.
  const [me, markets] = await Promise.all([
    caller.auth.me().catch(() => null),
    caller.markets.list().catch(() => []),
  ]);
  const first = markets.find((m) => m.status === "trading") ?? markets[0];
  return (
    <html lang="en" data-theme={theme}>
      <body>
        <AppProviders>
          <SiteHeader me={me} tradeHref={first ? `/trade/${first.symbol}` : "/"} />
          <main id="main" className="site-main">
            {children}
          </main>
        </AppProviders>
      </body>
    </html>
  );
}
