// The public reference endpoints: server time, currencies, currency pairs, and the margin pairs
// clients load beside the spot pairs (spotx has no margin: an empty list, not an error).
import { z } from "zod";
import { type GateCall, ok } from "./call";
import { pairParam, parseParams } from "./request-params";

export async function serverTime() {
  return ok({ server_time: Date.now() });
}

export async function listCurrencies({ services }: GateCall) {
  const assets = [...(await services.markets.assets()).values()];
  return ok(await Promise.all(assets.map((a) => services.markets.currencyObject(a))));
}

const currencyPath = z.object({ currency: z.string().max(40) });

export async function getCurrency({ services, params }: GateCall) {
  const { currency } = parseParams(currencyPath, params);
  const asset = await services.markets.asset(currency, "NOT_FOUND");
  return ok(await services.markets.currencyObject(asset));
}

export async function listCurrencyPairs({ services }: GateCall) {
  const markets = [...(await services.markets.markets()).values()];
  return ok(markets.map((m) => services.markets.pairObject(m)));
}

const pairPath = z.object({ currency_pair: pairParam });

export async function getCurrencyPair({ services, params }: GateCall) {
  const { currency_pair } = parseParams(pairPath, params);
  return ok(services.markets.pairObject(await services.markets.market(currency_pair)));
}

export async function listMarginPairs() {
  return ok([]);
}
