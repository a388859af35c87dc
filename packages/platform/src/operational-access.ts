// Who may read a process's operational detail — /metrics, and what /health and /ready say
// beyond up or down (versions, errors, stages, identity): the internal networks
// (SPOTX_INTERNAL_NETWORKS: loopback and the private ranges by default) and whoever presents
// SPOTX_METRICS_TOKEN as a bearer token. Anyone else learns only whether the process is up and
// ready, which is all a load balancer needs.
//
// A request that arrived through a proxy spotx was not told to trust (X-Forwarded-For present
// while SPOTX_TRUSTED_PROXIES is 0) is not internal, even from a private address: a reverse
// proxy on the same host would otherwise make every outside client look like loopback.
import { createHash, timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { BlockList, isIP } from "node:net";

export type OperationalAccess = {
  /** CIDRs whose clients are internal. */
  internalNetworks: readonly string[];
  /** The bearer token that opens the detail from anywhere; undefined: none does. */
  metricsToken: string | undefined;
  /** SPOTX_TRUSTED_PROXIES. */
  trustedProxies: number;
  /**
   * The request's forwarding headers were already removed because no proxy is trusted (see
   * `dropForwardingHeaders` in service-process.ts): it was relayed, so it is not internal.
   */
  relayed?: boolean;
};

function networks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [base = "", prefix = ""] = cidr.split("/");
    list.addSubnet(base, Number(prefix), isIP(base) === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

/** Whether `address` (as the client's address resolves) is in one of `cidrs`. */
export function isInternalAddress(address: string | null, cidrs: readonly string[]): boolean {
  if (address === null) return false;
  const plain =
    address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain);
  if (family === 0) return false;
  return networks(cidrs).check(plain, family === 4 ? "ipv4" : "ipv6");
}

function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || header === undefined) return false;
  const match = /^Bearer (\S+)$/i.exec(header.trim());
  if (!match?.[1]) return false;
  // Digests of equal length, compared in constant time: the token's length leaks nothing either.
  const given = createHash("sha256").update(match[1]).digest();
  const wanted = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, wanted);
}

/**
 * Whether the request may read operational detail. `clientAddress` is the client's address as
 * the server resolves it (after trusted proxies).
 */
export function mayReadOperationalDetail(
  req: http.IncomingMessage,
  clientAddress: string | null,
  access: OperationalAccess,
): boolean {
  if (bearerMatches(req.headers.authorization, access.metricsToken)) return true;
  const viaUntrustedProxy =
    access.trustedProxies === 0 &&
    (access.relayed === true ||
      req.headers["x-forwarded-for"] !== undefined ||
      req.headers.forwarded !== undefined);
  return !viaUntrustedProxy && isInternalAddress(clientAddress, access.internalNetworks);
}

/**
 * Headers for asking another spotx process for its operational detail (the operator console's
 * probes and metric scrapes): the bearer token when one is set, so the ask works from outside
 * the internal networks too.
 */
export function operationalRequestHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
