// Reading what market data keeps in Redis (books, tickers). Redis being unreachable is not an
// error here: the caller falls back to the settled figures in PostgreSQL, so public market
// pages keep answering through a Redis outage (its breaker open, each read failing fast).
import { breakers, isServiceUnavailable } from "@spotx/platform/breakers";
import type { ApiServices } from "../../services";

/** The JSON value at `key`, or null when there is none (expired) or Redis cannot be reached. */
export async function cachedMarketData<T>(services: ApiServices, key: string): Promise<T | null> {
  try {
    const value = await breakers.redis.run(() => services.redis.get(key));
    return value === null ? null : (JSON.parse(value) as T);
  } catch (error) {
    if (isServiceUnavailable(error)) return null;
    throw error;
  }
}
