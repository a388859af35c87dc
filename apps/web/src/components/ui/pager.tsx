"use client";
// Pager: moves through a server-side list a page at a time (keyset cursors: the server gives the
// next page's cursor, the caller keeps the ones it came through to go back). Says which page
// this is; the buttons are disabled where there is nowhere to go.
import { useCallback, useState } from "react";
import { Button } from "./button";

/**
 * The cursor of the page shown and the ones before it. `next(cursor)` goes on with the cursor
 * the server gave; `previous()` goes back; `reset()` returns to the first page (new filters).
 */
export function useCursorPages() {
  const [trail, setTrail] = useState<string[]>([]);
  const next = useCallback((cursor: string) => setTrail((t) => [...t, cursor]), []);
  const previous = useCallback(() => setTrail((t) => t.slice(0, -1)), []);
  const reset = useCallback(() => setTrail([]), []);
  return { cursor: trail.at(-1), page: trail.length + 1, next, previous, reset };
}

export type PagerProps = {
  /** 1 for the first page. */
  page: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  /** Disables both while a page loads. */
  busy?: boolean;
  label?: string;
};

export function Pager({ page, hasNext, onPrevious, onNext, busy, label = "Pages" }: PagerProps) {
  return (
    <nav className="pager" aria-label={label}>
      <span className="muted">Page {page}</span>
      <Button size="sm" onClick={onPrevious} disabled={busy || page <= 1}>
        ← Previous
      </Button>
      <Button size="sm" onClick={onNext} disabled={busy || !hasNext}>
        Next →
      </Button>
    </nav>
  );
}
