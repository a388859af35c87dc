"use client";
// Ends the session (auth.logOut), reconnects the socket without the user's room, and shows
// the site as a visitor.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useSocketConnection } from "../hooks/socket-connection";
import { useTRPC } from "../trpc/client";
import { Button } from "./ui/button";
import { useToast } from "./ui/toast";

export function LogOutButton() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const toast = useToast();
  const { reconnect } = useSocketConnection();
  const logOut = useMutation(
    trpc.auth.logOut.mutationOptions({
      onSuccess: () => {
        queryClient.clear();
        reconnect();
        router.push("/");
        router.refresh();
      },
      onError: (error) =>
        toast({ tone: "error", title: "Could not log out", message: error.message }),
    }),
  );
  return (
    <Button size="sm" variant="ghost" disabled={logOut.isPending} onClick={() => logOut.mutate()}>
      Log out
    </Button>
  );
}
