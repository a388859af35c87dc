"use client";
// The header's live-feed indicator: whether this page's socket.io connection is up, so a
// trader knows whether the book and balances they see are current.
import { type ConnectionState, useConnectionState } from "../hooks/socket-connection";

const LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

export function ConnectionBadge() {
  const state = useConnectionState();
  return (
    <span
      className="connection"
      data-state={state}
      data-testid="connection-state"
      role="status"
      title={
        state === "live" ? "Live updates are on" : "Live updates are paused; figures may be stale"
      }
    >
      <span className="connection-dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
