// The per-address connection count behind the WebSocket servers' caps: the limit is served, the
// next is refused, a release frees one place (once, however often it is called), and an IPv6
// client's /64 counts as one address.
import { describe, expect, it } from "vitest";
import { ConnectionsPerAddress } from "../../src/guards/connections-per-address";

describe("connections per address", () => {
  it("admits up to the limit, refuses the next, and admits again once one is released", () => {
    const caps = new ConnectionsPerAddress(2);
    const first = caps.admit("203.0.113.7");
    const second = caps.admit("203.0.113.7");
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(caps.admit("203.0.113.7")).toBeNull();
    // Another address has places of its own.
    expect(caps.admit("203.0.113.8")).not.toBeNull();
    first?.release();
    first?.release();
    expect(caps.count("203.0.113.7")).toBe(1);
    expect(caps.admit("203.0.113.7")).not.toBeNull();
    expect(caps.admit("203.0.113.7")).toBeNull();
  });

  it("counts an IPv6 /64 as one address and an IPv4-mapped address as IPv4", () => {
    const caps = new ConnectionsPerAddress(2);
    expect(caps.admit("2001:db8:5:6::1")).not.toBeNull();
    expect(caps.admit("2001:db8:5:6:ffff::2")).not.toBeNull();
    expect(caps.admit("2001:db8:5:6:1:2:3:4")).toBeNull();
    expect(caps.admit("2001:db8:5:7::1")).not.toBeNull();
    expect(caps.admit("198.51.100.1")).not.toBeNull();
    expect(caps.admit("::ffff:198.51.100.1")).not.toBeNull();
    expect(caps.admit("198.51.100.1")).toBeNull();
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new ConnectionsPerAddress(0)).toThrow(/positive integer/);
    expect(new ConnectionsPerAddress(3).refusal()).toEqual({
      label: "TOO_MANY_CONNECTIONS",
      message: "at most 3 connections per client address; close one first",
    });
  });
});
