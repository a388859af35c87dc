"use client";
// What a page shows when its server render failed (a server down, an unexpected error): a
// plain sentence and a retry, never the error's internals.
import { Button } from "../components/ui/button";
import { StateMessage } from "../components/ui/state-message";

export default function PageError({ reset }: { error: Error; reset: () => void }) {
  return (
    <div className="page">
      <StateMessage kind="error" action={<Button onClick={() => reset()}>Try again</Button>}>
        This page could not be loaded. The exchange may be restarting; try again in a moment.
      </StateMessage>
    </div>
  );
}
