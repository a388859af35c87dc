"use client";
// Shown instead of the console when the page was rendered without a session but the browser
// still holds a refresh cookie (the short-lived access token ran out): renews the session
// through tRPC and renders the page again, or sends the visitor to log in if it has ended.
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useTRPC } from "../../trpc/client";
import { StateMessage } from "../ui/state-message";

export function SessionResume({ loginHref }: { loginHref: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const refresh = useMutation(
    trpc.auth.refresh.mutationOptions({
      onSuccess: () => router.refresh(),
      onError: () => router.replace(loginHref),
    }),
  );
  const { mutate } = refresh;
  useEffect(() => mutate(), [mutate]);
  return (
    <div className="page">
      <StateMessage kind="loading">Resuming your session…</StateMessage>
    </div>
  );
}
