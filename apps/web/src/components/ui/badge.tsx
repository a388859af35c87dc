// Badge: a short status word in a pill. `tone`: up (green), down (red), warn, info, or neutral.
import type { HTMLAttributes } from "react";

export type BadgeTone = "neutral" | "up" | "down" | "warn" | "info";

export function Badge({
  tone = "neutral",
  className,
  ...props
}: HTMLAttributes<HTMLSpanElement> & { tone?: BadgeTone }) {
  return (
    <span
      className={`badge ${tone === "neutral" ? "" : `badge-${tone}`} ${className ?? ""}`}
      {...props}
    />
  );
}
