"use client";
// Everything client components share, once per page: tRPC with TanStack Query, the socket.io
// connection, and toasts.
import type { ReactNode } from "react";
import { SocketProvider } from "../hooks/socket-connection";
import { TRPCReactProvider } from "../trpc/client";
import { ToastProvider } from "./ui/toast";

export function AppProviders({ children }: { children: ReactNode }) {
  return (
    <TRPCReactProvider>
      <SocketProvider>
        <ToastProvider>{children}</ToastProvider>
      </SocketProvider>
    </TRPCReactProvider>
  );
}
