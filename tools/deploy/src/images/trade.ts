// A trade through the containerised web server, as a gate.io trading program makes one: two
// traders, each with an API key made the way the market maker makes its own (a user, ledger
// deposits, a sealed key with read and trade permissions), sign their requests to /api/v4; one
// sells 0.01 BTC at 30,000 USDT, the other buys it, and both balances must move to the unit.
import { randomBytes } from "node:crypto";
import {
  createApiKey,
  type Database,
  DEMO_ASSETS,
  DEMO_MARKETS,
  deposit,
  hashPassword,
  parseDecimal,
  schema,
} from "@spotx/db";
import { apiKeySealingKey } from "@spotx/platform/secrets";
import { GateClient } from "../../../../apps/market-maker/src/gate-client";

const MARKET = "BTC_USDT";
const DECIMALS = { BTC: 8, USDT: 6 } as const;
type Asset = keyof typeof DECIMALS;

type Account = { currency: string; available: string; locked: string };
type Order = { id: string; status: string };
type Fill = { side: string; role: string; amount: string; price: string; fee: string };

export type Trader = { userId: bigint; client: GateClient };

/** What the two traders are given: 1 BTC to sell from, 1,000 USDT to buy with. */
export const SELLER_FUNDS = { BTC: 100_000_000n };
export const BUYER_FUNDS = { USDT: 1_000_000_000n };

/** The demo assets and markets, as `npm start`'s seed makes them (BTC_USDT: 0.1 % maker, 0.2 % taker). */
export async function listDemoMarkets(db: Database): Promise<void> {
  await db.insert(schema.assets).values([...DEMO_ASSETS]);
  await db.insert(schema.markets).values([...DEMO_MARKETS]);
}

export async function createTrader(
  db: Database,
  serverKey: Buffer,
  apiUrl: string,
  funds: Partial<Record<Asset, bigint>>,
): Promise<Trader> {
  const email = `images-${randomBytes(5).toString("hex")}@spotx.dev`;
  const passwordHash = await hashPassword(randomBytes(24).toString("base64url"));
  const [user] = await db
    .insert(schema.users)
    .values({ email, passwordHash, role: "trader", status: "active" })
    .returning({ id: schema.users.id });
  if (!user) throw new Error(`${email} was not created`);
  for (const [asset, amount] of Object.entries(funds)) {
    await deposit(db, { userId: user.id, asset, amount, ref: `images-test:${email}:${asset}` });
  }
  const key = await createApiKey(db, apiKeySealingKey(serverKey), {
    userId: user.id,
    permissions: ["read", "trade"],
    label: "images test",
  });
  return { userId: user.id, client: new GateClient(apiUrl, { key: key.key, secret: key.secret }) };
}

/** Polls `check` until it returns a value, or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function expectEqual(what: string, actual: bigint | string, expected: bigint | string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`);
}

/**
 * The seller's order rests first (the public book shows it), then the buyer's crosses it: one
 * trade, the seller the maker. Checks each side's GET /spot/my_trades and GET /spot/accounts,
 * given that they started with SELLER_FUNDS and BUYER_FUNDS.
 */
export async function tradeOnce(
  seller: Trader,
  buyer: Trader,
  print: (line: string) => void,
): Promise<void> {
  const order = { currency_pair: MARKET, type: "limit", amount: "0.01", price: "30000" };
  const sell = await seller.client.post<Order>("/spot/orders", { ...order, side: "sell" });
  await waitFor("the sell order on the public book", async () => {
    const book = await seller.client.publicGet<{ asks: string[][] }>(
      "/spot/order_book",
      `currency_pair=${MARKET}`,
    );
    return book.asks.length > 0 ? true : undefined;
  });
  const buy = await buyer.client.post<Order>("/spot/orders", { ...order, side: "buy" });
  print(`  sell order ${sell.id} resting, buy order ${buy.id} placed`);
  for (const [trader, placed] of [
    [seller, sell],
    [buyer, buy],
  ] as const) {
    await waitFor(`order ${placed.id} to be filled and settled`, async () => {
      const seen = await trader.client.get<Order>(
        `/spot/orders/${placed.id}`,
        `currency_pair=${MARKET}`,
      );
      return seen.status === "closed" ? true : undefined;
    });
  }

  const [sold] = await seller.client.get<Fill[]>("/spot/my_trades", `currency_pair=${MARKET}`);
  const [bought] = await buyer.client.get<Fill[]>("/spot/my_trades", `currency_pair=${MARKET}`);
  if (!sold || !bought) throw new Error("GET /spot/my_trades shows no trade");
  print(
    `  trade: ${bought.amount} BTC at ${bought.price}; buyer (${bought.role}) fee ${bought.fee} BTC, seller (${sold.role}) fee ${sold.fee} USDT`,
  );
  expectEqual("seller's fill", `${sold.side} ${sold.role}`, "sell maker");
  expectEqual("buyer's fill", `${bought.side} ${bought.role}`, "buy taker");
  expectEqual("amount (satoshi)", parseDecimal(bought.amount, DECIMALS.BTC), 1_000_000n);
  expectEqual("price (cents)", parseDecimal(bought.price, 2), 3_000_000n);
  // Fees come out of what each receives: the taker 0.2 % of 0.01 BTC, the maker 0.1 % of 300 USDT.
  expectEqual("buyer's fee (satoshi)", parseDecimal(bought.fee, DECIMALS.BTC), 2_000n);
  expectEqual("seller's fee (micro-USDT)", parseDecimal(sold.fee, DECIMALS.USDT), 300_000n);

  // Settled in the same statement as the orders' fills, so final now.
  // The seller: 1 − 0.01 BTC, 300 − 0.3 USDT; the buyer: 0.01 − 0.00002 BTC, 1000 − 300 USDT.
  await checkBalances(seller, "seller", { BTC: 99_000_000n, USDT: 299_700_000n });
  await checkBalances(buyer, "buyer", { BTC: 998_000n, USDT: 700_000_000n });
}

async function checkBalances(trader: Trader, who: string, expected: Record<Asset, bigint>) {
  for (const asset of ["BTC", "USDT"] as const) {
    const [account] = await trader.client.get<Account[]>("/spot/accounts", `currency=${asset}`);
    if (!account) throw new Error(`no ${asset} account in GET /spot/accounts`);
    const available = parseDecimal(account.available, DECIMALS[asset]);
    expectEqual(`${who}'s ${asset} available`, available, expected[asset]);
    expectEqual(`${who}'s ${asset} locked`, parseDecimal(account.locked, DECIMALS[asset]), 0n);
  }
}
