"use client";
// CopyButton: copies `text` to the clipboard and says so ("Copied") for two seconds; when the
// clipboard is refused (an insecure origin, a denied permission) it says so instead of failing
// silently, and the text stays selectable beside it.
import { useState } from "react";
import { Button } from "./button";

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <Button
      size="sm"
      aria-live="polite"
      onClick={() => {
        navigator.clipboard
          .writeText(text)
          .then(() => setState("copied"))
          .catch(() => setState("failed"))
          .finally(() => window.setTimeout(() => setState("idle"), 2_000));
      }}
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select it" : label}
    </Button>
  );
}
