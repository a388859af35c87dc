// An operator halts a market through the admin API (admin.markets.halt, as the seeded
// operator): within 2 s the trader's page shows the banner and its order form is disabled,
// and a notice that placing is paused, while the trader's open order can still be cancelled;
// resuming enables the form again, with a notice that placing is back.
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  expect,
  test,
} from "@playwright/test";
import { logIn } from "./console";
import { baseURL, demoDeposit, openMarket, placeLimitOrder, signUp } from "./trader";

/** The seeded operator, signed in (with a code: the console needs two factors). */
async function operator(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await logIn(context, "operator@spotx.dev", "operator-demo");
  return context;
}

async function adminCall(api: APIRequestContext, procedure: "halt" | "resume", reason: string) {
  const answer = await api.post(`${baseURL()}/api/trpc/admin.markets.${procedure}`, {
    headers: { "x-spotx-csrf": "1" },
    data: { json: { symbol: "BTC_USDT", reason } },
  });
  expect(answer.status(), await answer.text()).toBe(200);
}

test("a halt disables the form within 2 s, cancels still work, and a resume enables it", async ({
  page,
  browser,
}) => {
  test.setTimeout(60_000);
  const operatorContext = await operator(browser);
  const api = operatorContext.request;
  await signUp(page, "halted");
  await demoDeposit(page, "USDT", "1000");
  await openMarket(page, "BTC_USDT");
  await placeLimitOrder(page, {
    side: "Buy",
    base: "BTC",
    quote: "USDT",
    price: "29000",
    amount: "0.001",
  });
  const open = page.getByTestId("open-orders").getByTestId("open-order");
  await expect(open).toHaveCount(1);
  const submit = page.getByTestId("place-order");
  await expect(submit).toBeEnabled();

  try {
    await adminCall(api, "halt", "e2e: maintenance");
    await expect(page.getByTestId("halt-banner")).toContainText("BTC/USDT is halted", {
      timeout: 2_000,
    });
    await expect(page.getByTestId("halt-banner")).toContainText("e2e: maintenance");
    // A notice says so too.
    await expect(
      page.getByTestId("toast").filter({ hasText: "BTC/USDT halted: placing orders is paused" }),
    ).toContainText("e2e: maintenance");
    await expect(submit).toBeDisabled({ timeout: 2_000 });
    await expect(page.getByTestId("order-form").getByLabel("Price (USDT)")).toBeDisabled();

    // Existing orders stay cancellable.
    await open
      .first()
      .getByRole("button", { name: /Cancel order/ })
      .click();
    await expect(open).toHaveCount(0);
  } finally {
    await adminCall(api, "resume", "e2e: done");
  }
  await expect(page.getByTestId("halt-banner")).toBeHidden({ timeout: 2_000 });
  await expect(submit).toBeEnabled({ timeout: 2_000 });
  await expect(
    page.getByTestId("toast").filter({ hasText: "BTC/USDT resumed: placing orders is back" }),
  ).toBeVisible();
  await operatorContext.close();
});
