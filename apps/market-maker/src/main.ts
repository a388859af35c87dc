// The demo market maker: a trading program that keeps spotx's markets alive for people trying
// it. It provisions its own account and API key (src/account.ts), then trades only through
// the public gate.io-compatible REST API, HMAC-signed like any client: every cycle it moves a
// wandering reference price, re-quotes a ladder of bids and asks around it (src/quoting.ts),
// and now and then sends a market order that trades against the ladder. It keeps to each
// market's rules (tick, lot, minimums, from /spot/currency_pairs) and to a modest request rate,
// skips halted markets, backs off when told to (429/503), and cancels its quotes on exit.
import { createDatabase } from "@spotx/db";
import { decimalToUnits } from "@spotx/engine";
import { platformEnv } from "@spotx/platform";
import { logger } from "@spotx/platform/logger";
import { createPostgresPool } from "@spotx/platform/postgres";
import { apiKeySealingKey, serverSecretKey } from "@spotx/platform/secrets";
import { provisionMarketMaker } from "./account";
import { marketMakerEnv } from "./env";
import { GateClient, GateRefusal } from "./gate-client";
import {
  gridTicks,
  ladder,
  lotsText,
  mathRandomInt,
  notionalText,
  priceText,
  type QuotedMarket,
  quoteChanges,
  quotedMarket,
  type RestingQuote,
  takerFlow,
  wander,
} from "./quoting";

type Pair = {
  id: string;
  base: string;
  precision: number;
  amount_precision: number;
  min_base_amount: string;
  min_quote_amount: string;
  trade_status: string;
};
type Order = { id: string; currency_pair: string; side: "buy" | "sell"; price: string };

/** Where a market with no trade and an empty book starts, by base asset (quote units). */
const STARTING_PRICES: Record<string, string> = { BTC: "65000", ETH: "3200" };
const CHANGES_PER_CYCLE = 6;

type MarketState = {
  market: QuotedMarket;
  base: string;
  reference: bigint;
  anchor: bigint;
  tradable: boolean;
};

const log = logger("market-maker");

async function startingPrice(client: GateClient, pair: Pair): Promise<bigint | null> {
  const toTicks = (text: string | undefined) => {
    if (!text) return null;
    const converted = decimalToUnits(text, pair.precision);
    return converted.ok && converted.value > 0n ? converted.value : null;
  };
  const [ticker] = await client.publicGet<{ last: string }[]>(
    "/spot/tickers",
    `currency_pair=${pair.id}`,
  );
  const last = toTicks(ticker?.last);
  if (last !== null) return last;
  const book = await client.publicGet<{ bids: [string, string][]; asks: [string, string][] }>(
    "/spot/order_book",
    `currency_pair=${pair.id}&limit=1`,
  );
  const bid = toTicks(book.bids[0]?.[0]);
  const ask = toTicks(book.asks[0]?.[0]);
  if (bid !== null && ask !== null) return (bid + ask) / 2n;
  return toTicks(STARTING_PRICES[pair.base]) ?? bid ?? ask;
}

/** Our open orders per market, prices in the market's ticks. */
async function restingQuotes(
  client: GateClient,
  states: Map<string, MarketState>,
): Promise<Map<string, RestingQuote[]>> {
  const groups = await client.get<{ currency_pair: string; orders: Order[] }[]>(
    "/spot/open_orders",
    "limit=100",
  );
  const byMarket = new Map<string, RestingQuote[]>();
  for (const group of groups) {
    const state = states.get(group.currency_pair);
    if (!state) continue;
    byMarket.set(
      group.currency_pair,
      group.orders.flatMap((o) => {
        const ticks = decimalToUnits(o.price, state.market.pricePrecision);
        return ticks.ok ? [{ id: o.id, side: o.side, priceTicks: ticks.value }] : [];
      }),
    );
  }
  return byMarket;
}

async function cycle(client: GateClient, state: MarketState, resting: RestingQuote[]) {
  const { market } = state;
  state.reference = wander(state.reference, state.anchor, mathRandomInt);
  const wanted = ladder(
    state.reference,
    market,
    marketMakerEnv.MARKET_MAKER_LEVELS,
    mathRandomInt,
    {
      grid: gridTicks(state.anchor),
    },
  );
  const { cancel, place } = quoteChanges(resting, wanted, CHANGES_PER_CYCLE);
  const pair = `currency_pair=${market.symbol}`;
  // Cancels first (one that would cross the new ladder must be gone before it is placed).
  await Promise.all(
    cancel.map((q) =>
      client.delete(`/spot/orders/${q.id}`, pair).catch((error: unknown) => {
        // Filled or cancelled meanwhile: nothing to do.
        if (
          error instanceof GateRefusal &&
          (error.label === "ORDER_NOT_FOUND" || error.label === "ORDER_CLOSED")
        )
          return;
        throw error;
      }),
    ),
  );
  await Promise.all(
    place.map((q) =>
      client
        .post("/spot/orders", {
          currency_pair: market.symbol,
          type: "limit",
          side: q.side,
          amount: lotsText(q.lots, market),
          price: priceText(q.priceTicks, market),
          // Post-only: a quote never takes; one that would is refused, and the next cycle re-quotes.
          time_in_force: "poc",
        })
        .catch((error: unknown) => {
          if (error instanceof GateRefusal && error.label === "POC_FILL_IMMEDIATELY") return;
          throw error;
        }),
    ),
  );
  const taker = takerFlow(state.reference, market, mathRandomInt);
  if (taker) {
    await client.post("/spot/orders", {
      currency_pair: market.symbol,
      type: "market",
      side: taker.side,
      amount:
        taker.side === "buy" ? notionalText(taker.spend, market) : lotsText(taker.lots, market),
      time_in_force: "ioc",
    });
  }
}

async function loadMarkets(client: GateClient, states: Map<string, MarketState>) {
  const wanted = marketMakerEnv.MARKET_MAKER_MARKETS.split(",").filter(Boolean);
  const pairs = await client.publicGet<Pair[]>("/spot/currency_pairs");
  for (const pair of pairs) {
    if (wanted.length > 0 && !wanted.includes(pair.id)) continue;
    const known = states.get(pair.id);
    const tradable = pair.trade_status === "tradable";
    if (known) {
      known.tradable = tradable;
      continue;
    }
    const price = await startingPrice(client, pair);
    if (price === null) {
      log.warn(
        { market: pair.id },
        "no price to start from (no trade, empty book, no default): not quoting it",
      );
      continue;
    }
    states.set(pair.id, {
      market: quotedMarket(pair),
      base: pair.base,
      reference: price,
      anchor: price,
      tradable,
    });
  }
}

async function main() {
  const env = platformEnv();
  const pool = createPostgresPool(env.DATABASE_URL, {
    max: 2,
    applicationName: "spotx-market-maker",
  });
  const { credentials } = await provisionMarketMaker(
    createDatabase(pool),
    apiKeySealingKey(serverSecretKey(env)),
  ).finally(() => pool.end());
  const client = new GateClient(marketMakerEnv.MARKET_MAKER_API_URL, credentials);

  const states = new Map<string, MarketState>();
  await loadMarkets(client, states);
  let stopping = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The start script and the e2e tests wait for this line.
  console.log(
    `market maker quoting ${[...states.keys()].join(", ") || "nothing"} through ${marketMakerEnv.MARKET_MAKER_API_URL}`,
  );

  for (let round = 1; !stopping; round++) {
    const started = Date.now();
    let pauseMs = marketMakerEnv.MARKET_MAKER_INTERVAL_MS;
    try {
      if (round % 20 === 0) await loadMarkets(client, states);
      const resting = await restingQuotes(client, states);
      for (const state of states.values()) {
        if (stopping) break;
        if (!state.tradable) continue;
        await cycle(client, state, resting.get(state.market.symbol) ?? []);
      }
    } catch (error) {
      if (error instanceof GateRefusal) {
        if (error.retryAfterSeconds !== null)
          pauseMs = Math.max(pauseMs, error.retryAfterSeconds * 1000);
        // A market halted since the last look: refresh the list next round.
        if (error.label === "INVALID_CURRENCY_PAIR")
          await loadMarkets(client, states).catch(() => undefined);
        log.warn({ label: error.label, status: error.status }, error.message);
      } else {
        log.warn({ err: error }, "cycle failed; trying again next round");
        pauseMs = Math.max(pauseMs, 3_000);
      }
    }
    const wait = Math.max(100, pauseMs - (Date.now() - started));
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, wait);
    });
  }

  // Leave no quotes behind: cancel all of ours in every market. (Any that cannot be cancelled
  // now — the exchange already down — are off the ladder at the next start and cancelled then.)
  const outcomes = await Promise.all(
    [...states.keys()].map((symbol) =>
      client.delete("/spot/orders", `currency_pair=${symbol}`).then(
        () => true,
        (error: unknown) => {
          log.warn({ err: error, market: symbol }, "could not cancel the quotes at exit");
          return false;
        },
      ),
    ),
  );
  console.log(
    outcomes.every(Boolean)
      ? "market maker stopped; its quotes are cancelled"
      : "market maker stopped; some quotes could not be cancelled (the next start cancels them)",
  );
  process.exit(0);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`✗ market maker: ${message}`);
  process.exit(1);
});
