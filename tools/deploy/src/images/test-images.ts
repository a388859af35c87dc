// `npm run test:images`: builds spotx-worker, spotx-market-maker and spotx-web with podman on a
// Debian base, then runs them against the local stack as a deployment would — the worker image's
// migrations into an empty database, the worker, the web server — trades through the
// containerised web server's gate.io API, and runs the market maker's image against it. Too slow
// for every `npm test` (the builds take minutes), so a command of its own. Prints each phase's
// time; removes its containers, namespace and database whatever happens; exits 1 on a failure.
import { up } from "@spotx/stack/stack";
import { ensureBaseImage } from "./base-image";
import { buildImage, IMAGES } from "./build";
import { checkContents, processUids } from "./contents";
import { type ContainerExchange, type Role, startContainerExchange } from "./exchange";
import { ensureContainerTools } from "./podman";
import {
  BUYER_FUNDS,
  createTrader,
  listDemoMarkets,
  SELLER_FUNDS,
  tradeOnce,
  waitFor,
} from "./trade";

const print = (line: string) => console.log(line);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

async function waitReady(exchange: ContainerExchange, role: Role, url: string): Promise<void> {
  await waitFor(
    `${role} /ready`,
    async () => {
      await exchange.assertRunning(role);
      const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5_000) });
      return response.status === 200 ? true : undefined;
    },
    120_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; its last lines:\n${await exchange.logs(role)}`);
  });
}

function checkUid(pid: number, role: Role): string {
  const uids = processUids(pid);
  if (uids.real !== 10001 || uids.effective !== 10001) {
    throw new Error(`${role} runs as uid ${uids.real} (effective ${uids.effective}), not 10001`);
  }
  return `${role} process ${pid} runs as uid 10001`;
}

async function exerciseExchange(exchange: ContainerExchange, check: (what: string) => void) {
  const migrated = await exchange.runOnce("migrate", "spotx-worker", ["node", "/app/migrate.mjs"]);
  if (!migrated.includes("migrations applied")) {
    throw new Error(`node /app/migrate.mjs printed: ${migrated}`);
  }
  // The app role inserts what the seed would: the grants the migrations gave it are enough.
  await listDemoMarkets(exchange.db);
  check(`node /app/migrate.mjs migrated ${exchange.database} and granted the app role`);

  await exchange.start("worker", "spotx-worker");
  await exchange.start("web", "spotx-web");
  await waitReady(exchange, "worker", exchange.workerUrl);
  await waitReady(exchange, "web", exchange.webUrl);
  check("worker and web containers answer /ready 200");
  for (const page of ["/", "/login"]) {
    const response = await fetch(`${exchange.webUrl}${page}`, {
      signal: AbortSignal.timeout(30_000),
    });
    const html = await response.text();
    if (response.status !== 200 || !html.includes("<html")) {
      throw new Error(
        `GET ${page} from the web container answered ${response.status}: ${html.slice(0, 200)}`,
      );
    }
  }
  check("the web container serves the Next.js pages (/ and /login) from a read-only root");
  for (const role of ["worker", "web"] as const) check(checkUid(await exchange.pid(role), role));

  const apiUrl = `${exchange.webUrl}/api/v4`;
  const seller = await createTrader(exchange.db, exchange.serverKey, apiUrl, SELLER_FUNDS);
  const buyer = await createTrader(exchange.db, exchange.serverKey, apiUrl, BUYER_FUNDS);
  await tradeOnce(seller, buyer, print);
  check(
    "a limit sell and a crossing buy traded through the web container's /api/v4, fees and balances exact",
  );

  // Another market, so that its quotes never meet the trade above.
  await exchange.start("market-maker", "spotx-market-maker", {
    MARKET_MAKER_API_URL: apiUrl,
    MARKET_MAKER_MARKETS: "ETH_USDT",
  });
  await waitFor(
    "the market maker's bids and asks on ETH_USDT",
    async () => {
      await exchange.assertRunning("market-maker");
      const book = await seller.client.publicGet<{ bids: unknown[]; asks: unknown[] }>(
        "/spot/order_book",
        "currency_pair=ETH_USDT",
      );
      return book.bids.length > 0 && book.asks.length > 0 ? book : undefined;
    },
    60_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; its last lines:\n${await exchange.logs("market-maker")}`);
  });
  check("the market-maker container quotes ETH_USDT through the web container");
  check(checkUid(await exchange.pid("market-maker"), "market-maker"));
}

export async function testImages(): Promise<number> {
  const startedAll = Date.now();
  const timings: Array<[string, number]> = [];
  let checks = 0;
  const check = (what: string) => {
    checks += 1;
    print(`  ✓ ${what}`);
  };
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    print(`• ${name}`);
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings.push([name, Date.now() - started]);
    }
  };

  let exchange: ContainerExchange | undefined;
  let failure: unknown;
  // Ctrl-C still removes the containers: the failure path below runs the cleanup.
  const interrupted = new Promise<never>((_, reject) => {
    const stop = (signal: string) => reject(new Error(`interrupted (${signal})`));
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  const run = async () => {
    await phase("podman, runc, debootstrap", async () => {
      const installed = ensureContainerTools();
      print(installed.length > 0 ? `  installed ${installed.join(" ")}` : "  present");
    });
    await phase("the stack (PostgreSQL, Redis, etcd, Kafka)", () => up(print));
    await phase("base image (Debian trixie, nodejs, npm)", () => ensureBaseImage(print));
    for (const image of IMAGES) {
      await phase(`build ${image.name}`, () => buildImage(image));
    }
    await phase("image contents", async () => {
      for (const image of IMAGES) await checkContents(image.name, check);
    });
    exchange = await phase("exchange from the images", () => startContainerExchange(print));
    const running = exchange;
    await phase("migrate, run, trade", () => exerciseExchange(running, check));
  };
  try {
    await Promise.race([run(), interrupted]);
  } catch (error) {
    failure = error;
  } finally {
    const started = exchange;
    if (started) await phase("cleanup", () => started.stop());
  }

  print("\ntimings:");
  for (const [name, ms] of timings) print(`  ${seconds(ms).padStart(7)}  ${name}`);
  print(`  ${seconds(Date.now() - startedAll).padStart(7)}  total`);
  if (failure !== undefined) {
    print(`✗ ${failure instanceof Error ? failure.message : String(failure)}`);
    print(`images: ${checks} checks passed, 1 failed`);
    return 1;
  }
  print(`images: ${checks} checks passed, 0 failed`);
  return 0;
}
