"use client";
// The console's end of the operator feed: joins the operators room on the page's socket (again
// after every reconnect: the server forgets rooms with the connection) and keeps the latest
// services list, the pipeline's last hour (the history every instance recorded, sent on joining,
// then the live samples, kept by the same rule as the server's: thinHistory) and the latest
// guards for the pages below. `state` says whether the figures are live, and why not.
import type {
  OperatorGuardsMessage,
  OperatorPipelineMessage,
  OperatorServicesMessage,
  PipelineSample,
} from "@spotx/protocol";
// The subpath: the package's index would bring the engine's command schemas into the bundle.
import { thinHistory } from "@spotx/protocol/pipeline-history";
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from "react";
import { useSocketConnection } from "../../hooks/socket-connection";
import { consoleTime } from "./console-format";

export type FeedState =
  | { kind: "connecting" }
  | { kind: "live" }
  | { kind: "refused"; message: string }
  | { kind: "offline" };

type FeedValue = {
  state: FeedState;
  services: OperatorServicesMessage | null;
  samples: PipelineSample[];
  guards: OperatorGuardsMessage | null;
};

const FeedContext = createContext<FeedValue | null>(null);

export function OperatorFeedProvider({ children }: { children: ReactNode }) {
  const { socket, state: connection } = useSocketConnection();
  const [state, setState] = useState<FeedState>({ kind: "connecting" });
  const [services, setServices] = useState<OperatorServicesMessage | null>(null);
  const [samples, setSamples] = useState<PipelineSample[]>([]);
  const [guards, setGuards] = useState<OperatorGuardsMessage | null>(null);

  useEffect(() => {
    if (!socket) return;
    const join = () => {
      socket.emit("operator.join", {}, (reply) => {
        if (reply.ok) setState({ kind: "live" });
        else setState({ kind: "refused", message: reply.error.message });
      });
    };
    const onServices = (message: OperatorServicesMessage) => setServices(message);
    const onPipeline = (message: OperatorPipelineMessage) =>
      setSamples((kept) => {
        // On joining the server sends the history: it replaces what was kept.
        const all = message.history ? message.samples : [...kept, ...message.samples];
        const latest = all.at(-1)?.time;
        return latest === undefined ? all : thinHistory(all, latest);
      });
    const onGuards = (message: OperatorGuardsMessage) => setGuards(message);
    socket.on("operator.services", onServices);
    socket.on("operator.pipeline", onPipeline);
    socket.on("operator.guards", onGuards);
    socket.on("connect", join);
    if (socket.connected) join();
    return () => {
      socket.off("operator.services", onServices);
      socket.off("operator.pipeline", onPipeline);
      socket.off("operator.guards", onGuards);
      socket.off("connect", join);
      if (socket.connected) socket.emit("operator.leave", {}, () => {});
    };
  }, [socket]);

  const shown = useMemo<FeedState>(
    () =>
      connection === "live" || state.kind === "refused"
        ? state
        : connection === "offline"
          ? { kind: "offline" }
          : { kind: "connecting" },
    [connection, state],
  );
  const value = useMemo(
    () => ({ state: shown, services, samples, guards }),
    [shown, services, samples, guards],
  );
  return <FeedContext.Provider value={value}>{children}</FeedContext.Provider>;
}

export function useOperatorFeed(): FeedValue {
  const value = useContext(FeedContext);
  if (!value) throw new Error("the console's live views need an <OperatorFeedProvider> above them");
  return value;
}

/** A line under a live view's title: whether what it shows is current. */
export function FeedStatus({ at }: { at?: number | null }) {
  const { state } = useOperatorFeed();
  const text =
    state.kind === "live"
      ? at
        ? `Live · updated ${consoleTime(at).slice(11)}`
        : "Live · waiting for the first figures…"
      : state.kind === "refused"
        ? `Live feed refused: ${state.message}`
        : state.kind === "offline"
          ? "Offline: the figures shown are not current"
          : "Connecting to the live feed…";
  return (
    <span
      className={`muted feed-status ${state.kind === "refused" ? "down" : ""}`}
      data-testid="feed-status"
      data-state={state.kind}
      role="status"
    >
      {text}
    </span>
  );
}
