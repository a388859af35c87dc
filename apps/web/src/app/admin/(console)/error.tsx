"use client";
// A console page whose server-side load failed (a server down, a refused call): what happened,
// in the server's words, and a way to try again. Nothing of the failure's internals is shown.
import { Button } from "../../../components/ui/button";
import { StateMessage } from "../../../components/ui/state-message";

export default function ConsoleError({ reset }: { error: Error; reset: () => void }) {
  return (
    <StateMessage
      kind="error"
      minHeight={240}
      action={
        <Button size="sm" onClick={reset}>
          Try again
        </Button>
      }
    >
      This page could not be loaded. A server the console needs may be down; the Services page shows
      which.
    </StateMessage>
  );
}
