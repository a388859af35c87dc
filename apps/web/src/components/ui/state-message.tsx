// StateMessage: what a panel shows instead of content — loading (with a spinner), empty, or an
// error (announced to screen readers). Spinner: the small spinning ring on its own.
import type { ReactNode } from "react";

/** Decorative: the message beside it says what is loading. */
export function Spinner() {
  return <span className="spinner" aria-hidden="true" />;
}

export type StateMessageProps = {
  kind: "loading" | "empty" | "error";
  children?: ReactNode;
  action?: ReactNode;
  minHeight?: number;
};

export function StateMessage({ kind, children, action, minHeight }: StateMessageProps) {
  return (
    <div
      className={`state ${kind === "error" ? "state-error" : ""}`}
      role={kind === "error" ? "alert" : kind === "loading" ? "status" : undefined}
      style={minHeight ? { minHeight } : undefined}
    >
      {kind === "loading" ? <Spinner /> : null}
      <span>
        {children ??
          (kind === "loading"
            ? "Loading…"
            : kind === "empty"
              ? "Nothing here yet."
              : "Something went wrong.")}
      </span>
      {action}
    </div>
  );
}
