// POST /spot/countdown_cancel_all: gate.io's dead man's switch. A call arms (or re-arms) a timer
// of `timeout` seconds for one pair or every pair; unless called again before it runs out, every
// open order of the user there is cancelled. `timeout: 0` disarms it.
//
// The timers live in Redis, not in a process: a sorted set of `userId:pair` ("*" for every pair)
// scored by the deadline. Every web instance polls it; the instance whose ZREM takes a due member
// runs its cancel-all (one ZREM of a member succeeds once), so a timer survives a restart of the
// web instance that armed it and fires once however many instances run. A cancel-all is the
// trading service's: the engine cancels, settlement records it.

import type { Database } from "@spotx/db";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { TradingService } from "../trading/trading-service";
import { callerOf, type GateCall, ok } from "./call";
import { GateError } from "./errors";
import { noQuery, pairParam, parseParams } from "./request-params";

/** gate.io refuses shorter timers (other than 0, which disarms). */
export const MIN_COUNTDOWN_SECONDS = 5;
/** A day: a dead man's switch set further out is a mistake. */
export const MAX_COUNTDOWN_SECONDS = 86_400;
const ALL_PAIRS = "*";

/** Removes a timer only while it is due; 1 when this call removed it. */
const TAKE_IF_DUE = `
local score = redis.call("ZSCORE", KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call("ZREM", KEYS[1], ARGV[1])
end
return 0`;

const countdownBody = z.strictObject({
  timeout: z.number().int().min(0).max(MAX_COUNTDOWN_SECONDS),
  currency_pair: pairParam.optional(),
});

export type CountdownOptions = {
  redis: Redis;
  names: Topology;
  db: Database;
  trading: TradingService;
  log: Logger;
  /** How often due timers are looked for (ms). */
  pollMs?: number;
  now?: () => number;
};

export class CountdownCancels {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<unknown> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: CountdownOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Arms the timer of a user and pair (null: every pair); answers its deadline in ms. */
  async arm(userId: bigint, pair: string | null, timeoutSeconds: number): Promise<number> {
    const member = `${userId}:${pair ?? ALL_PAIRS}`;
    const key = this.options.names.redis.countdowns;
    if (timeoutSeconds === 0) {
      await this.options.redis.zrem(key, member);
      return 0;
    }
    const deadline = this.now() + timeoutSeconds * 1_000;
    await this.options.redis.zadd(key, deadline, member);
    return deadline;
  }

  start(): void {
    const every = this.options.pollMs ?? 500;
    this.timer = setInterval(() => {
      this.polling ??= this.fireDue()
        .catch((error: unknown) =>
          this.options.log.warn({ err: error }, "countdown cancel-all poll failed"),
        )
        .finally(() => {
          this.polling = undefined;
        });
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** Runs the cancel-all of every timer due now that this instance takes; answers how many. */
  async fireDue(): Promise<number> {
    const { redis, names } = this.options;
    const key = names.redis.countdowns;
    const due = await redis.zrangebyscore(key, "-inf", this.now(), "LIMIT", 0, 100);
    let fired = 0;
    for (const member of due) {
      // Taken by another instance, or re-armed since it was read (then it is not due yet): the
      // check and the removal are one script, so a re-arm in between is never lost.
      const taken = await redis.eval(TAKE_IF_DUE, 1, key, member, this.now());
      if (taken !== 1) continue;
      const [user = "", pair = ALL_PAIRS] = member.split(":");
      await this.cancelAll(BigInt(user), pair === ALL_PAIRS ? null : pair);
      fired += 1;
    }
    return fired;
  }

  private async cancelAll(userId: bigint, pair: string | null): Promise<void> {
    const markets =
      pair !== null
        ? [pair]
        : (
            await this.options.db.execute<{ market: string }>(sql`
              SELECT DISTINCT market FROM orders
               WHERE user_id = ${userId} AND status IN ('pending', 'open')`)
          ).rows.map((r) => r.market);
    for (const market of markets) {
      await this.options.trading.cancelAll(userId, { market });
    }
    this.options.log.info(
      { userId: String(userId), pair: pair ?? "all" },
      "countdown cancel-all fired",
    );
  }
}

export async function countdownCancelAll(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  parseParams(noQuery, call.query);
  if (typeof call.body !== "object" || call.body === null || Array.isArray(call.body)) {
    throw new GateError("INVALID_PARAM_VALUE", "the body must be a JSON object");
  }
  const body = parseParams(countdownBody, call.body as Record<string, unknown>);
  if (body.timeout !== 0 && body.timeout < MIN_COUNTDOWN_SECONDS) {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      `timeout must be 0 (disarm) or at least ${MIN_COUNTDOWN_SECONDS} seconds`,
    );
  }
  const m =
    body.currency_pair === undefined ? null : await services.markets.market(body.currency_pair);
  const triggerTime = await services.countdowns.arm(userId, m?.symbol ?? null, body.timeout);
  return ok({ triggerTime });
}
