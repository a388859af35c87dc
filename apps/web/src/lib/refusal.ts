// A refused call as the pages show it: the server's stable label and its message (tRPC puts
// the label in `data.label`); anything without one is a network failure, said as such.
export type Refusal = { label: string; message: string };

export function refusalOf(error: unknown): Refusal {
  if (typeof error === "object" && error !== null) {
    const data = "data" in error ? error.data : undefined;
    const label =
      typeof data === "object" && data !== null && "label" in data && typeof data.label === "string"
        ? data.label
        : null;
    const message = "message" in error && typeof error.message === "string" ? error.message : "";
    if (label) return { label, message };
    if (message)
      return { label: "NETWORK_ERROR", message: "Could not reach the exchange; try again." };
  }
  return { label: "NETWORK_ERROR", message: "Could not reach the exchange; try again." };
}
