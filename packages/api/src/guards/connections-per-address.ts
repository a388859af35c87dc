// How many live connections (gate.io WebSocket API, socket.io) one client address holds on this
// web instance: beyond the limit a new one is refused at its upgrade or handshake, so one client
// cannot pin an instance's memory and file descriptors with idle sockets. Counted in memory, per
// instance: a client spread over N instances may hold N × the limit, which bounds each instance
// all the same. Addresses are counted as the rate limits count them (IPv6 by its /64).
import { rateLimitAddress } from "./rate-limits";

/** The default of WS_MAX_CONNECTIONS_PER_ADDRESS. */
export const DEFAULT_CONNECTIONS_PER_ADDRESS = 50;

/** The label a refused connection is answered with (HTTP 429). */
export const TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS";

/** One admitted connection's place; releasing it twice releases it once. */
export type ConnectionSeat = { readonly address: string; release(): void };

export class ConnectionsPerAddress {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new Error(`connections per address must be a positive integer, not ${limit}`);
    }
  }

  /** A seat for one more connection from `ip`, or null when the address holds `limit` already. */
  admit(ip: string | null): ConnectionSeat | null {
    // No address at all (the socket already closed): such clients share one count.
    const address = ip === null ? "unknown" : rateLimitAddress(ip);
    const count = this.held.get(address) ?? 0;
    if (count >= this.limit) return null;
    this.held.set(address, count + 1);
    let released = false;
    return {
      address,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.held.get(address) ?? 1) - 1;
        if (left > 0) this.held.set(address, left);
        else this.held.delete(address);
      },
    };
  }

  /** Connections `ip`'s address holds now. */
  count(ip: string | null): number {
    return this.held.get(ip === null ? "unknown" : rateLimitAddress(ip)) ?? 0;
  }

  /** The refusal's words, for the 429 body. */
  refusal(): { label: typeof TOO_MANY_CONNECTIONS; message: string } {
    return {
      label: TOO_MANY_CONNECTIONS,
      message: `at most ${this.limit} connections per client address; close one first`,
    };
  }
}
