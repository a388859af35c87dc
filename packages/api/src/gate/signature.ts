// gate.io's API v4 signatures, exactly as its clients compute them. REST:
//   SIGN = hex(HMAC_SHA512(secret, METHOD \n PATH \n QUERY \n hex(SHA512(BODY)) \n Timestamp))
// over the raw query string and the raw body bytes; WebSocket channels:
//   SIGN = hex(HMAC_SHA512(secret, "channel=<channel>&event=<event>&time=<time>"));
// the WebSocket trading API (event "api"): see signApiRequest.
// Pure functions: the server verifies with them and the tests (and any client) sign with them.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** hex(SHA512("")): the body hash of a request without a body. */
export const EMPTY_BODY_HASH = createHash("sha512").update("").digest("hex");

export type RequestToSign = {
  method: string;
  /** The path with the prefix, e.g. /api/v4/spot/orders. */
  path: string;
  /** The query string as sent, without "?"; "" when there is none. */
  query: string;
  /** The body's bytes as sent (a string is taken as UTF-8); empty for none. */
  body: Uint8Array | string;
  /** The Timestamp header as sent (seconds, possibly with a fraction). */
  timestamp: string;
};

export function bodyHash(body: Uint8Array | string): string {
  return createHash("sha512").update(body).digest("hex");
}

/** The string a REST request's SIGN is the HMAC of. */
export function signaturePayload(request: RequestToSign): string {
  return [
    request.method.toUpperCase(),
    request.path,
    request.query,
    bodyHash(request.body),
    request.timestamp,
  ].join("\n");
}

export function signRequest(secret: string, request: RequestToSign): string {
  return createHmac("sha512", secret).update(signaturePayload(request)).digest("hex");
}

/** A WebSocket channel request's SIGN. */
export function signChannel(secret: string, channel: string, event: string, time: number): string {
  return createHmac("sha512", secret)
    .update(`channel=${channel}&event=${event}&time=${time}`)
    .digest("hex");
}

/**
 * A WebSocket API request's signature (`spot.login`, or any request signed in its payload):
 * hex(HMAC_SHA512(secret, "api\n<channel>\n<req_param>\n<timestamp>")), where `req_param` is
 * the payload's `req_param` JSON text exactly as sent ("" when the payload has none).
 */
export function signApiRequest(
  secret: string,
  channel: string,
  reqParam: string,
  timestamp: string,
): string {
  return createHmac("sha512", secret)
    .update(`api\n${channel}\n${reqParam}\n${timestamp}`)
    .digest("hex");
}

const HEX_SIGNATURE = /^[0-9a-fA-F]{128}$/;

/**
 * Whether `given` is the expected signature, compared in constant time: no early exit on the
 * first differing byte, and a malformed one is compared against a same-length stand-in.
 */
export function signaturesMatch(expected: string, given: string): boolean {
  const wanted = Buffer.from(expected, "hex");
  const wellFormed = HEX_SIGNATURE.test(given);
  const got = wellFormed ? Buffer.from(given.toLowerCase(), "hex") : Buffer.alloc(wanted.length);
  return timingSafeEqual(wanted, got) && wellFormed;
}
