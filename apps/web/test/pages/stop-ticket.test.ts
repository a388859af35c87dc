// The stop-limit ticket's words with BTC_USDT's rules (prices to 0.01 USDT): the trigger rule as
// a person reads it, following the side and the trigger as typed; the trigger checked with the
// server's labels; and the one-line summary of what placing it does.
import { describe, expect, it } from "vitest";
import type { MarketPrecision } from "../../src/lib/market-format";
import {
  defaultRule,
  ruleInWords,
  ruleWhen,
  stopSummary,
  triggerProblem,
} from "../../src/lib/stop-ticket";

const btc: MarketPrecision = {
  symbol: "BTC_USDT",
  base: "BTC",
  quote: "USDT",
  pricePrecision: 2,
  amountPrecision: 4,
  baseDecimals: 8,
  quoteDecimals: 6,
};

describe("the trigger rule in words", () => {
  it("is the classic stop by side: a buy fires on the way up, a sell on the way down", () => {
    expect(defaultRule("buy")).toBe(">=");
    expect(defaultRule("sell")).toBe("<=");
    expect(ruleInWords("buy", defaultRule("buy"), "70000", btc)).toBe(
      "Buy when last price ≥ 70,000.00",
    );
    expect(ruleInWords("sell", defaultRule("sell"), "68500.5", btc)).toBe(
      "Sell when last price ≤ 68,500.50",
    );
  });

  it("reads the trigger as typed, and says 'the trigger price' until there is one", () => {
    expect(ruleWhen(">=", "70000.", btc)).toBe("when last price ≥ 70,000.00");
    expect(ruleWhen(">=", ".5", btc)).toBe("when last price ≥ 0.50");
    expect(ruleWhen("<=", "", btc)).toBe("when last price ≤ the trigger price");
    expect(ruleWhen("<=", "1.2.3", btc)).toBe("when last price ≤ the trigger price");
  });
});

describe("the trigger price check", () => {
  it("asks for one, refuses a finer price than the tick, non-numbers and zero", () => {
    expect(triggerProblem("", btc)).toMatchObject({ label: "MISSING_REQUIRED_PARAM" });
    expect(triggerProblem("70000.001", btc)).toEqual({
      field: "trigger",
      label: "INVALID_PRECISION",
      message: "Trigger price has at most 2 decimals",
    });
    expect(triggerProblem("7e4", btc)).toMatchObject({ label: "INVALID_PARAM_VALUE" });
    expect(triggerProblem("0.00", btc)).toMatchObject({
      label: "INVALID_PARAM_VALUE",
      message: "Trigger price must be more than 0",
    });
    expect(triggerProblem("70000.25", btc)).toBeNull();
  });
});

describe("the summary", () => {
  it("says what fires and what is placed, once the three numbers are there", () => {
    expect(
      stopSummary({ side: "buy", trigger: "70000", price: "70100", amount: "0.5000" }, btc),
    ).toBe("When last price ≥ 70,000.00, a limit buy of 0.5 BTC at 70,100.00 USDT is placed.");
    expect(stopSummary({ side: "sell", trigger: "65000", price: "64900", amount: "2" }, btc)).toBe(
      "When last price ≤ 65,000.00, a limit sell of 2 BTC at 64,900.00 USDT is placed.",
    );
    expect(stopSummary({ side: "buy", trigger: "70000", price: "", amount: "1" }, btc)).toBeNull();
  });
});
