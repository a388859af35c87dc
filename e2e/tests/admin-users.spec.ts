// Users and withdrawals from the console: freezing a trader stops their next order with
// FORBIDDEN, and the audit log shows the freeze with its before and after; approving a
// withdrawal pays out exactly the held amount (available unchanged, locked down by it), and
// rejecting one returns the hold to available — checked on the page and in PostgreSQL.
import { expect, type Page, test } from "@playwright/test";
import { balanceRow, confirmWithReason, operatorPage, userIdOf } from "./console";
import { baseURL, demoDeposit, openMarket, placeLimitOrder, signUp } from "./trader";

/** Opens the user's detail page from a search, as an operator would. */
async function openUser(console: Page, email: string) {
  await console.goto(`${baseURL()}/admin/users`);
  await console.getByTestId("user-query").fill(email);
  await console.getByRole("button", { name: "Search" }).click();
  await console.getByTestId(`user-${email}`).getByRole("link", { name: email }).click();
  await expect(console.getByTestId("user-email")).toHaveText(email);
}

async function requestWithdrawal(trader: Page, amount: string) {
  const answer = await trader.request.post(`${baseURL()}/api/trpc/account.requestWithdrawal`, {
    headers: { "x-spotx-csrf": "1" },
    data: { json: { asset: "USDT", amount, address: "e2e-wallet-0001" } },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  const body = (await answer.json()) as {
    result: { data: { json: { withdrawal: { id: string } } } };
  };
  return body.result.data.json.withdrawal.id;
}

test("a frozen trader's next order is refused FORBIDDEN; the audit log shows before and after", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const trader = await (await browser.newContext()).newPage();
  const email = await signUp(trader, "to-freeze");
  await demoDeposit(trader, "USDT", "1000");
  const console = await operatorPage(browser);
  await openUser(console, email);
  await expect(console.getByTestId("user-status")).toHaveText("active");

  await console.getByRole("button", { name: "Freeze" }).click();
  await confirmWithReason(console, "e2e: suspicious activity");
  await expect(console.getByTestId("user-status")).toHaveText("frozen");

  await openMarket(trader, "BTC_USDT");
  await placeLimitOrder(trader, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "29000",
    amount: "0.001",
  });
  await expect(trader.getByTestId("order-error")).toContainText("FORBIDDEN");

  const id = await userIdOf(email);
  await console.goto(`${baseURL()}/admin/audit?subject=user:${id}`);
  const row = console.getByTestId("audit").getByTestId("audit-row").first();
  await expect(row).toHaveAttribute("data-action", "user.freeze");
  await expect(row).toContainText("e2e: suspicious activity");
  await expect(row).toContainText("operator@spotx.dev");
  await expect(row.getByTestId("audit-before")).toContainText('"status": "active"');
  await expect(row.getByTestId("audit-after")).toContainText('"status": "frozen"');

  // Unfrozen, the trader trades again.
  await openUser(console, email);
  await console.getByRole("button", { name: "Unfreeze" }).click();
  await confirmWithReason(console, "e2e: cleared");
  await expect(console.getByTestId("user-status")).toHaveText("active");
  await placeLimitOrder(trader, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "29000",
    amount: "0.001",
  });
  await expect(trader.getByTestId("open-orders").getByTestId("open-order")).toHaveCount(1);
  await trader.context().close();
  await console.context().close();
});

test("approving a withdrawal pays out the held amount exactly; rejecting returns the hold", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const trader = await (await browser.newContext()).newPage();
  const email = await signUp(trader, "withdrawing");
  await demoDeposit(trader, "USDT", "1000");
  const id = await userIdOf(email);
  // USDT has 6 decimals in the ledger: 1000 USDT is 1,000,000,000 minor units.
  expect(await balanceRow(id, "USDT")).toEqual({ available: "1000000000", locked: "0" });

  const approved = await requestWithdrawal(trader, "123.456789");
  const rejected = await requestWithdrawal(trader, "200");
  expect(await balanceRow(id, "USDT")).toEqual({ available: "676543211", locked: "323456789" });

  const console = await operatorPage(browser, "/admin/withdrawals");
  const queue = console.getByTestId("withdrawals");
  const first = queue.getByTestId(`withdrawal-${approved}`);
  await expect(first).toContainText("123.456789 USDT");
  await expect(first).toContainText("676.543211 · 323.456789");
  await first.getByRole("button", { name: "Approve" }).click();
  await console.getByTestId("confirm-action").click();
  await expect(first).toHaveCount(0);
  expect(await balanceRow(id, "USDT")).toEqual({ available: "676543211", locked: "200000000" });

  const second = queue.getByTestId(`withdrawal-${rejected}`);
  await second.getByRole("button", { name: "Reject" }).click();
  await confirmWithReason(console, "e2e: address not verified");
  await expect(second).toHaveCount(0);
  expect(await balanceRow(id, "USDT")).toEqual({ available: "876543211", locked: "0" });

  // The user's page shows the same, and both decisions.
  await openUser(console, email);
  const usdt = console.getByTestId("user-balance-USDT");
  await expect(usdt.getByTestId("available")).toHaveAttribute("data-value", "876.543211");
  await expect(usdt.getByTestId("locked")).toHaveAttribute("data-value", "0");
  await console.getByRole("tab", { name: "Withdrawals" }).click();
  await expect(console.getByText("completed")).toBeVisible();
  await expect(console.getByText("rejected")).toBeVisible();
  await trader.context().close();
  await console.context().close();
});
