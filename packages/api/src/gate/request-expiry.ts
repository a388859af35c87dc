// gate.io's `x-gate-exptime`: the time (Unix ms) after which a request must not be carried out.
// One that arrives later is refused 400 REQUEST_EXPIRED with nothing done (GATE_API_MORE.md:
// spotx's choice of status — a stale Timestamp is 401, but this is the client's own deadline,
// not a credential fault). REST reads it from the header, the WebSocket trading API from the
// payload's `req_header`.
import { GateError } from "./errors";

/** REQUEST_EXPIRED answered 400: the client's deadline passed. */
export class RequestExpiredError extends GateError {
  override readonly status = 400;

  constructor(message: string) {
    super("REQUEST_EXPIRED", message);
  }
}

/**
 * Refuses a request whose `x-gate-exptime` (`value`, ms as text or a JSON number; undefined when
 * the request has none) is before `nowMs`, and one whose value is not a time.
 */
export function checkRequestExpiry(value: unknown, nowMs: number): void {
  if (value === undefined) return;
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,16}$/.test(text)) {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      "invalid x-gate-exptime: must be Unix time in milliseconds",
    );
  }
  if (Number(text) < nowMs) {
    throw new RequestExpiredError(
      `the request expired at ${text} (x-gate-exptime); nothing was done`,
    );
  }
}
