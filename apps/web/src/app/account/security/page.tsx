// Security on its own page (two-factor sign-in, and changing the password): where the console sends an operator who has not turned two-factor
// sign-in on (the console opens once it is), and where `next` leads after enrolling. The same
// panel is on the account page.
import { redirect } from "next/navigation";
import { ChangePasswordPanel } from "../../../components/account/change-password-panel";
import { SecurityPanel } from "../../../components/account/security-panel";
import { nextPath } from "../../../lib/next-path";
import { serverCaller } from "../../../trpc/server";

export const dynamic = "force-dynamic";
export const metadata = { title: "Security · spotx" };

export default async function SecurityPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = nextPath((await searchParams).next, "/account");
  const caller = serverCaller();
  const me = await caller.auth.me().catch(() => null);
  if (!me) {
    redirect(
      `/login?next=${encodeURIComponent(`/account/security?next=${encodeURIComponent(next)}`)}`,
    );
  }
  const status = await caller.auth.twoFactor.status().catch(() => null);
  return (
    <div className="page page-security">
      <div className="page-head">
        <h1>Security</h1>
        <span className="muted">{me.email}</span>
      </div>
      <SecurityPanel initialStatus={status} next={next} />
      <ChangePasswordPanel />
    </div>
  );
}
