// Reconciliation from the console: "Run now" on a consistent ledger shows a clean run; a
// balance changed directly in PostgreSQL (behind the ledger's back) is found by the next run,
// shown on the page with the user, the asset and the amounts in USDT; repaired, it is clean
// again.
import { expect, test } from "@playwright/test";
import { sql } from "drizzle-orm";
import { exchangeDb, operatorPage, userIdOf } from "./console";
import { demoDeposit, signUp } from "./trader";

test("run now is clean; a balance corrupted in SQL is found and shown; repaired, clean again", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const trader = await (await browser.newContext()).newPage();
  const email = await signUp(trader, "reconciled");
  await demoDeposit(trader, "USDT", "500");
  const id = await userIdOf(email);
  const db = exchangeDb();

  const console = await operatorPage(browser, "/admin/reconciliation");
  const run = console.getByTestId("run-reconciliation");
  const result = console.getByTestId("reconciliation-result");
  await run.click();
  await expect(result).toContainText("Clean");

  // 0.25 USDT appears from nowhere: no ledger entry explains it.
  await db.execute(
    sql`UPDATE balances SET available = available + 250000 WHERE user_id = ${id} AND asset = 'USDT'`,
  );
  try {
    await run.click();
    await expect(result).toContainText("1 findings");
    const finding = console.getByTestId("reconciliation-findings").getByTestId("finding").first();
    await expect(finding).toContainText("available_mismatch");
    await expect(finding).toContainText(id.toString());
    await expect(finding).toContainText("USDT");
    await expect(finding).toContainText("500");
    await expect(finding.getByTestId("finding-actual")).toHaveText("500.25");
    const runs = console.getByTestId("reconciliation-runs");
    await expect(runs.getByTestId("run-status").first()).toHaveText("1 findings");
  } finally {
    await db.execute(
      sql`UPDATE balances SET available = available - 250000 WHERE user_id = ${id} AND asset = 'USDT'`,
    );
  }
  await run.click();
  await expect(result).toContainText("Clean");
  await trader.context().close();
  await console.context().close();
});
