// The operator console's frame, and its door: a visitor who is not signed in is sent to log in
// (and back here after); a signed-in trader — or a frozen operator — gets 403; an operator
// without two-factor sign-in is sent to turn it on (and back here after); a browser whose short
// access token ran out renews its session first. Every page below is an active
// operator's, and shares the live feed (one operators-room membership per page).
import { requestIsHttps, sessionCookieNames } from "@spotx/api";
import { cookies, headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import type { ReactNode } from "react";
import { ConsoleNav } from "../../../components/admin/console-nav";
import { OperatorFeedProvider } from "../../../components/admin/operator-feed";
import { SessionResume } from "../../../components/admin/session-resume";
import { serverCaller } from "../../../trpc/server";
import "../console.css";

export const dynamic = "force-dynamic";
export const metadata = { title: "Console · spotx" };

const LOGIN = "/login?next=%2Fadmin";
const ENROL = "/account/security?next=%2Fadmin";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const me = await serverCaller()
    .auth.me()
    .catch(() => null);
  if (!me) {
    const [jar, requestHeaders] = await Promise.all([cookies(), headers()]);
    const refresh = sessionCookieNames(requestIsHttps(requestHeaders)).refresh;
    if (jar.has(refresh)) return <SessionResume loginHref={LOGIN} />;
    redirect(LOGIN);
  }
  if (me.role !== "operator" || me.status !== "active") forbidden();
  // Operators need two-factor sign-in: one without it enrols first, then comes back here.
  if (!me.twoFactor) redirect(ENROL);
  return (
    <OperatorFeedProvider>
      <div className="console">
        <ConsoleNav />
        <div className="console-main">{children}</div>
      </div>
    </OperatorFeedProvider>
  );
}
