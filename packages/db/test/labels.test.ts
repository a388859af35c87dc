// The inputs issue 11 found answered with raw PostgreSQL or JavaScript errors (22003, 22P02,
// 23503, "Cannot mix BigInt"), each now a LedgerError with a label and nothing written.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLedgerError, type LedgerLabel } from "../src/errors";
import { deposit, holdFunds } from "../src/ledger";
import { placeOrderHold } from "../src/placement";
import { balanceOf, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
});

async function label(work: () => Promise<unknown>): Promise<LedgerLabel | string> {
  try {
    await work();
    return "accepted";
  } catch (error) {
    return isLedgerError(error) ? error.label : `unlabelled: ${String(error)}`;
  }
}

describe("inputs that once surfaced raw errors", () => {
  it("refuses amounts at 2^63 and past it, and a user id of 2^64", async () => {
    const user = await createUser(f.db);
    const base = { userId: user, asset: "USDT", ref: randomUUID() };
    expect(await label(() => deposit(f.db, { ...base, amount: 2n ** 63n }))).toBe(
      "INVALID_PARAM_VALUE",
    );
    expect(await label(() => deposit(f.db, { ...base, amount: 2n ** 64n }))).toBe(
      "INVALID_PARAM_VALUE",
    );
    expect(await label(() => deposit(f.db, { ...base, userId: 2n ** 64n, amount: 1n }))).toBe(
      "INVALID_PARAM_VALUE",
    );
  });

  it("refuses a deposit that would push a balance past the largest amount it holds", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", 2n ** 63n - 10n);
    expect(
      await label(() =>
        deposit(f.db, { userId: user, asset: "USDT", amount: 11n, ref: randomUUID() }),
      ),
    ).toBe("INVALID_PARAM_VALUE");
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: 2n ** 63n - 10n, locked: 0n });
  });

  it("refuses a limit order whose price × amount overflows, a number or float amount, a bad side", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("1000"));
    const order = {
      userId: user,
      market: "BTC_USDT",
      side: "buy" as const,
      type: "limit" as const,
      priceTicks: 2n ** 40n,
      amount: 2n ** 40n, // price × amount = 2^80 micro-USDT
    };
    expect(await label(() => placeOrderHold(f.db, order))).toBe("INVALID_PARAM_VALUE");
    expect(
      await label(() => placeOrderHold(f.db, { ...order, amount: 1 as unknown as bigint })),
    ).toBe("INVALID_PARAM_VALUE");
    expect(
      await label(() => placeOrderHold(f.db, { ...order, priceTicks: 1.5 as unknown as bigint })),
    ).toBe("INVALID_PARAM_VALUE");
    expect(
      await label(() => placeOrderHold(f.db, { ...order, side: "short" as unknown as "buy" })),
    ).toBe("INVALID_PARAM_VALUE");
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("1000"), locked: 0n });
  });

  it("refuses an unknown user or asset in holdFunds", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("10"));
    const hold = (input: { userId: bigint; asset: string }) =>
      label(() =>
        f.db.transaction((tx) => holdFunds(tx, { ...input, amount: 1n, ref: randomUUID() })),
      );
    expect(await hold({ userId: 987_654_321n, asset: "USDT" })).toBe("NOT_FOUND");
    expect(await hold({ userId: user, asset: "DOGE" })).toBe("INVALID_PARAM_VALUE");
    expect(await hold({ userId: user, asset: "USDT" })).toBe("accepted");
  });
});
