// Where an operator's action came from — the client address, user agent and request id of the
// console request — recorded in the action's audit row beside who did it and what changed, so
// that the row alone answers "who, what, when, from where".
import { requireObject, requireString } from "./input";

export type AuditOrigin = {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
};

const optionalString = (value: unknown, what: string, max: number): string | null =>
  value === undefined || value === null ? null : requireString(value, what, max);

/** Checks an origin given to a ledger operation (absent is allowed: scripts, jobs). */
export function parseAuditOrigin(value: unknown): AuditOrigin | null {
  if (value === undefined || value === null) return null;
  const o = requireObject(value, "origin");
  return {
    ip: optionalString(o.ip, "origin.ip", 100),
    userAgent: optionalString(o.userAgent, "origin.userAgent", 500),
    requestId: optionalString(o.requestId, "origin.requestId", 100),
  };
}
