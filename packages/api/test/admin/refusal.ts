// What an admin procedure refused with, as the caller sees it: the label, and the HTTP status
// the label answers with.

import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";

export async function refusal(call: Promise<unknown>): Promise<{ label: string; status: number }> {
  const error = await call.then(
    (value) =>
      new Error(
        `expected a refusal, got ${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`,
      ),
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw error;
  const label = "label" in error && typeof error.label === "string" ? error.label : error.code;
  return { label, status: getHTTPStatusCodeFromError(error) };
}
