"use client";
// Renders a live stream at most once per animation frame: messages are folded into a ref as
// they arrive (so nothing is lost, and a hidden tab holds one state, not a queue), and React
// sees the latest state on the next frame.
import { useCallback, useEffect, useRef, useState } from "react";

export function useFrameState<S>(initial: S | (() => S)) {
  const [rendered, setRendered] = useState<S>(initial);
  const latest = useRef<S>(rendered);
  const frame = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );
  /** Folds a change into the state now; the render follows on the next frame. */
  const update = useCallback((change: (state: S) => S) => {
    latest.current = change(latest.current);
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setRendered(latest.current);
    });
  }, []);
  return [rendered, update, latest] as const;
}
