// Formatting at the market's precision, exactly (strings only), and the live-data helpers:
// the tape's merge by trade id, pushed balances by update id, safe redirects after sign-in.
import { describe, expect, it } from "vitest";
import { mergeTrades } from "../../src/hooks/use-trades";
import { applyBalanceUpdates } from "../../src/hooks/use-user-streams";
import {
  formatChange,
  formatDecimal,
  formatIn,
  formatPrice,
  formatTotal,
} from "../../src/lib/market-format";
import { nextPath } from "../../src/lib/next-path";

const btc = {
  symbol: "BTC_USDT",
  base: "BTC",
  quote: "USDT",
  pricePrecision: 2,
  amountPrecision: 4,
  baseDecimals: 8,
  quoteDecimals: 6,
};

describe("formatting", () => {
  it("pads to the precision and groups thousands, never rounding an exact value", () => {
    expect(formatPrice("30000", btc)).toBe("30,000.00");
    expect(formatPrice("1234567.5", btc)).toBe("1,234,567.50");
    expect(formatDecimal("0.123456789", 2)).toBe("0.123456789");
    expect(formatTotal("369.000123", btc)).toBe("369.000123");
    expect(formatTotal("300.000000", btc)).toBe("300.00");
    expect(formatIn("0.01", "BTC", btc)).toBe("0.0100");
    expect(formatDecimal("", 2)).toBe("—");
  });

  it("signs the 24 h change and says its direction", () => {
    expect(formatChange("2")).toEqual({ text: "+2.00%", direction: "up" });
    expect(formatChange("-2.03")).toEqual({ text: "-2.03%", direction: "down" });
    expect(formatChange("0")).toEqual({ text: "0.00%", direction: "flat" });
  });
});

describe("live data", () => {
  it("merges trades newest first by id, once each, keeping the newest few", () => {
    const t = (id: string) => ({ id, time: 0, side: "buy" as const, price: "1", amount: "1" });
    expect(mergeTrades([t("9"), t("8")], [t("10"), t("9")], 3).map((x) => x.id)).toEqual([
      "10",
      "9",
      "8",
    ]);
    expect(mergeTrades([t("100"), t("99")], [t("98")], 2).map((x) => x.id)).toEqual(["100", "99"]);
  });

  it("applies pushed balances by update id, never an older one over a newer", () => {
    const list = [
      { asset: "BTC", name: "Bitcoin", available: "1", locked: "0", updateId: "5" },
      { asset: "USDT", name: "Tether USD", available: "10", locked: "0", updateId: "7" },
    ];
    const next = applyBalanceUpdates(list, [
      { currency: "BTC", available: "0.9", locked: "0.1", update_id: 6 },
      { currency: "USDT", available: "99", locked: "0", update_id: 6 },
    ]);
    expect(next).toEqual([
      { asset: "BTC", name: "Bitcoin", available: "0.9", locked: "0.1", updateId: "6" },
      list[1],
    ]);
  });

  it("sends a signed-in visitor only to a path of this site", () => {
    expect(nextPath("/trade/BTC_USDT")).toBe("/trade/BTC_USDT");
    expect(nextPath("//evil.example/x")).toBe("/");
    expect(nextPath("https://evil.example")).toBe("/");
    expect(nextPath(["/account", "/x"])).toBe("/account");
    expect(nextPath(undefined, "/account")).toBe("/account");
  });
});
