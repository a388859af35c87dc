// Sign up: a new trader account, signed in at once; demo funds are one click away on the
// account page.
import { redirect } from "next/navigation";
import { AuthForm } from "../../components/account/auth-form";
import { nextPath } from "../../lib/next-path";
import { serverCaller } from "../../trpc/server";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign up · spotx" };

export default async function SignUpPage({
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
      <h1>Create an account</h1>
      <AuthForm mode="signup" next={next} />
    </div>
  );
}
