// How the console words a refused or failed call: the server's stable label and its message
// (tRPC carries the label in `data.label`), or a plain network failure.
export type ConsoleRefusal = { label: string; message: string };

export function refusalOf(error: unknown): ConsoleRefusal {
  if (typeof error === "object" && error !== null) {
    const data = "data" in error ? error.data : undefined;
    const label =
      typeof data === "object" && data !== null && "label" in data && typeof data.label === "string"
        ? data.label
        : null;
    const message = "message" in error && typeof error.message === "string" ? error.message : "";
    if (label) return { label, message };
  }
  return { label: "NETWORK_ERROR", message: "could not reach the exchange; try again" };
}

/** "LABEL: message", for a table's error row or a toast. */
export function refusalText(error: unknown): string {
  const refusal = refusalOf(error);
  return `${refusal.label}: ${refusal.message}`;
}
