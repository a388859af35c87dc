// The operator console's frame, and its door: a visitor who is not signed in is sent to log in
// (and back here after); a signed-in trader — or a frozen operator — gets 403; a browser whose
// short access token ran out renews its session first. Every page below is an active
// operator's, and shares the live feed (one operators-room membership per page).
import { REFRESH_COOKIE } from "@spotx/api";
import { cookies } from "next/headers";
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

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const me = await serverCaller()
    .auth.me()
    .catch(() => null);
  if (!me) {
    const jar = await cookies();
    if (jar.has(REFRESH_COOKIE)) return <SessionResume loginHref={LOGIN} />;
    redirect(LOGIN);
  }
  if (me.role !== "operator" || me.status !== "active") forbidden();
  return (
    <OperatorFeedProvider>
      <div className="console">
        <ConsoleNav />
        <div className="console-main">{children}</div>
      </div>
    </OperatorFeedProvider>
  );
}
