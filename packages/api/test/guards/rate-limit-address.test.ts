// The address a client's budget is kept under: IPv4 as it is, IPv6 by its /64, an IPv4-mapped
// IPv6 address as its IPv4 address, anything else unchanged.
import { describe, expect, it } from "vitest";
import { rateLimitAddress } from "../../src/guards/rate-limits";

describe("rateLimitAddress", () => {
  it("keeps an IPv4 address as it is", () => {
    expect(rateLimitAddress("203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts every address of one IPv6 /64 as one client", () => {
    const network = "2001:db8:1:2::/64";
    for (const address of [
      "2001:db8:1:2::1",
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0DB8:0001:0002:0a0b:0c0d:0e0f:1011",
      "2001:db8:1:2:aaaa::",
      "2001:db8:1:2::9%eth0",
    ]) {
      expect(rateLimitAddress(address), address).toBe(network);
    }
    expect(rateLimitAddress("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(rateLimitAddress("::1")).toBe("0:0:0:0::/64");
    expect(rateLimitAddress("2001:db8::")).toBe("2001:db8:0:0::/64");
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", () => {
    expect(rateLimitAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(rateLimitAddress("::FFFF:cb00:7107")).toBe("203.0.113.7");
    expect(rateLimitAddress("0:0:0:0:0:ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("leaves what is not an address alone", () => {
    expect(rateLimitAddress("unknown")).toBe("unknown");
    expect(rateLimitAddress("2001:db8::1::2")).toBe("2001:db8::1::2");
  });
});
