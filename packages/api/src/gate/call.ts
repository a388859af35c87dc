// What a gate.io API endpoint is given: the services it may use, the request's path parameters,
// query and parsed body, and — for signed endpoints — the authenticated caller.
import type { Database } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import type { TradingService } from "../trading/trading-service";
import type { ApiCaller } from "./authenticate";
import type { CountdownCancels } from "./countdown";
import { GateError } from "./errors";
import type { MarketDirectory } from "./market-directory";
import type { SettledOrders } from "./settled-orders";

export type GateServices = {
  db: Database;
  /** Reads the market-data snapshots (book, ticker) market data keeps in Redis. */
  redis: Redis;
  names: Topology;
  trading: TradingService;
  markets: MarketDirectory;
  settled: SettledOrders;
  /** gate.io's countdown cancel-all timers (kept in Redis). */
  countdowns: CountdownCancels;
  log: Logger;
  /** How long a DELETE waits for the engine's cancel to be settled. */
  cancelWaitMs: number;
};

export type GateCall = {
  services: GateServices;
  params: Readonly<Record<string, string>>;
  /** The query's parameters, the first value of each name. */
  query: Readonly<Record<string, string>>;
  /** The parsed JSON body (POST), else undefined. */
  body: unknown;
  caller: ApiCaller | null;
};

export type GateAnswer = { status: number; body: unknown };

export const ok = (body: unknown): GateAnswer => ({ status: 200, body });

/** The caller of a signed endpoint (the router authenticated it before the call). */
export function callerOf(call: GateCall): ApiCaller {
  if (!call.caller) throw new GateError("MISSING_REQUIRED_HEADER", "this endpoint is signed");
  return call.caller;
}
