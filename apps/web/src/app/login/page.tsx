// Log in: email and password; a visitor already signed in goes straight on.
import { redirect } from "next/navigation";
import { AuthForm } from "../../components/account/auth-form";
import { nextPath } from "../../lib/next-path";
import { serverCaller } from "../../trpc/server";

export const dynamic = "force-dynamic";
export const metadata = { title: "Log in · spotx" };

export default async function LogInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = nextPath((await searchParams).next, "/account");
  if (
    await serverCaller()
      .auth.me()
      .catch(() => null)
  )
    redirect(next);
  return (
    <div className="page page-narrow">
      <h1>Log in</h1>
      <AuthForm mode="login" next={next} />
    </div>
  );
}
