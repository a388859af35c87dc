// Services, live: a worker started next to the suite's appears in the operator's table as soon
// as it registers; killed with SIGKILL, its row is gone within its lease's TTL + 2 s (the feed
// pushes etcd's lease expiry; nothing reloads the page); started again, it reappears. The
// suite's own worker keeps — or takes back — every market afterwards.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { sql } from "drizzle-orm";
import { exchangeSettings } from "../exchange";
import { exchangeDb, exchangeEtcd, operatorPage } from "./console";

const LEASE_TTL_SECONDS = 3;
const workerDir = path.resolve(import.meta.dirname, "../../apps/worker");

function startWorker(id: string): ChildProcess {
  const settings = exchangeSettings();
  return spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      SPOTX_SECRET_KEY: settings.secretKey,
      DATABASE_URL: settings.databaseUrl,
      SPOTX_NAMESPACE: settings.namespace,
      WORKER_PORT: "0",
      WORKER_INSTANCE_ID: id,
      WORKER_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      RECONCILIATION_INTERVAL_MS: "3600000",
      LOG_LEVEL: "error",
    },
    stdio: "ignore",
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });

test("a worker's row vanishes within its lease TTL + 2 s of kill -9 and returns on restart", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const id = `e2e-extra-worker-${process.pid}`;
  const page = await operatorPage(browser);
  const table = page.getByTestId("services");
  const row = table.getByTestId(`service-${id}`);
  // The suite's own web and worker are listed, ready.
  await expect(table.locator("tr[data-testid^='service-']")).toHaveCount(2);
  await expect(table.getByText("ready", { exact: true })).toHaveCount(2);

  let worker = startWorker(id);
  try {
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row).toContainText("worker");
    await expect(row.getByTestId("health")).toHaveText("ready", { timeout: 30_000 });

    const killedAt = Date.now();
    worker.kill("SIGKILL");
    await exited(worker);
    await expect(row).toHaveCount(0, { timeout: (LEASE_TTL_SECONDS + 2) * 1000 });
    const gone = (Date.now() - killedAt) / 1000;
    test.info().annotations.push({ type: "row gone after kill -9", description: `${gone} s` });
    expect(gone).toBeLessThanOrEqual(LEASE_TTL_SECONDS + 2);

    worker = startWorker(id);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.getByTestId("health")).toHaveText("ready", { timeout: 30_000 });
  } finally {
    worker.kill("SIGTERM");
    await exited(worker);
  }
  await expect(row).toHaveCount(0, { timeout: 10_000 });

  // The suite's worker owns every market again before the next spec trades.
  const markets = await exchangeDb().execute<{ symbol: string }>(sql`SELECT symbol FROM markets`);
  const { etcd, names } = exchangeEtcd();
  try {
    await expect
      .poll(
        async () => {
          const owners = await Promise.all(
            markets.rows.map((m) => etcd.get(names.etcd.marketOwner(m.symbol)).string()),
          );
          return owners.every((owner) => owner !== null && !owner.includes(id));
        },
        { timeout: 30_000 },
      )
      .toBe(true);
  } finally {
    etcd.close();
  }
  await page.context().close();
});
