// Group commit for cancels: the cancel requests that arrive while a batch commits are gathered,
// their orders found with one query, and the cancel commands of those still live written to the
// outbox with one multi-row insert — two round trips and one commit for the batch instead of
// three round trips and a commit per cancel. Each caller gets its own
// answer: the order as it stands, ORDER_NOT_FOUND (CLIENT_ID_NOT_FOUND for a client text) or
// ORDER_CLOSED. Cancel-alls' commands ride in the same insert.
import { type Database, jsonSafe, LedgerError, type Order, ordersByText } from "@spotx/db";
import { type OrderRow, orderFromRow } from "@spotx/db/order-rows";
import { executePrepared } from "@spotx/db/prepared";
import { processSingleton } from "@spotx/platform";
import { metrics, prometheus } from "@spotx/platform/metrics";
import { type CommandMessage, cancelCommand } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { GroupCommit, type GroupCommitOptions, type Outcome } from "./group-commit";
import type { RelayWakeup } from "./relay-wakeup";

export const cancelMetrics = processSingleton("cancel.metrics", () => ({
  batchSize: new prometheus.Histogram({
    name: "spotx_cancel_batch_size",
    help: "Cancel requests and cancel-all commands committed together",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [metrics.registry],
  }),
  batchSeconds: new prometheus.Histogram({
    name: "spotx_cancel_batch_seconds",
    help: "Time to find one cancel batch's orders and commit its commands",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [metrics.registry],
  }),
}));

/** A cancel of one order, named by id or by the client's text, owned by the user, in the market. */
export type CancelRequest = {
  userId: bigint;
  market: string;
  orderId: bigint | null;
  text: string | null;
};

type Input =
  | { kind: "cancel"; request: CancelRequest }
  | { kind: "command"; message: CommandMessage };

export type CancelBatcherOptions = GroupCommitOptions & {
  /** The orders topic the commands go to. */
  topic: string;
  /** Woken after each batch that wrote commands. */
  relay: RelayWakeup;
  /** The clock a client text's lookup window is measured on (ms; tests move it). */
  now?: () => number;
};

export class CancelBatcher {
  private readonly group: GroupCommit<Input, Order | null>;

  constructor(
    private readonly db: Database,
    private readonly options: CancelBatcherOptions,
  ) {
    // One batch at a time, like placements: the next gathers what arrived meanwhile.
    this.group = new GroupCommit((inputs) => this.commit(inputs), {
      maxBatch: 500,
      maxConcurrent: 1,
      ...options,
    });
  }

  /** Queues the order's cancel for the engine; answers with the order as it was found. */
  async cancel(request: CancelRequest): Promise<Order> {
    const order = await this.group.submit({ kind: "cancel", request });
    if (!order) throw new Error("a cancel was answered without its order");
    return order;
  }

  /** Queues a ready command (a cancel-all) in the next batch's insert. */
  async enqueue(message: CommandMessage): Promise<void> {
    await this.group.submit({ kind: "command", message });
  }

  private async commit(inputs: Input[]): Promise<Outcome<Order | null>[]> {
    const started = performance.now();
    const time = (this.options.now ?? Date.now)();
    // Orders named by their client text are found first (their ids go into the command): the
    // user's newest in the pair with that text, live or finished within the hour.
    const named = inputs.flatMap((input) =>
      input.kind === "cancel" && input.request.text !== null && input.request.orderId === null
        ? [input.request]
        : [],
    );
    const textOrders = await ordersByText(
      this.db,
      named.map((r) => ({ userId: r.userId, market: r.market, text: r.text ?? "" })),
      new Date(time),
    );
    const byText = new Map(named.map((r, i) => [r, textOrders[i]?.id]));
    const idOf = (r: CancelRequest): bigint | undefined => r.orderId ?? byText.get(r);

    const cancels: Array<{ n: number; request: CancelRequest; id: bigint }> = [];
    const commands: Array<{ n: number; message: CommandMessage }> = [];
    inputs.forEach((input, n) => {
      if (input.kind === "command") {
        commands.push({ n, message: input.message });
        return;
      }
      const id = idOf(input.request);
      if (id !== undefined) cancels.push({ n, request: input.request, id });
    });
    const found =
      cancels.length + commands.length > 0 ? await this.write(cancels, commands, time) : [];

    const outcomes = inputs.map((input, n): Outcome<Order | null> => {
      if (input.kind === "command") return { ok: true, value: null };
      const r = input.request;
      const order = found.find((f) => f.n === n)?.order;
      if (!order) {
        return {
          ok: false,
          error:
            r.orderId === null
              ? new LedgerError(
                  "CLIENT_ID_NOT_FOUND",
                  `Order with client ID ${r.text} not found in ${r.market}`,
                )
              : new LedgerError("ORDER_NOT_FOUND", `no order ${r.orderId} in ${r.market}`),
        };
      }
      if (!live(order)) {
        return {
          ok: false,
          error: new LedgerError("ORDER_CLOSED", `order ${order.id} is already ${order.status}`),
        };
      }
      return { ok: true, value: order };
    });
    if (commands.length > 0 || found.some((f) => live(f.order))) this.options.relay.wake();
    cancelMetrics.batchSize.observe(inputs.length);
    cancelMetrics.batchSeconds.observe((performance.now() - started) / 1000);
    return outcomes;
  }

  /**
   * One statement: finds each cancel's order (its id, owned by the user, in the market) and
   * queues a cancel command for every one still live, with the cancel-alls' commands, in the
   * batch's order; answers the orders found, as they stood.
   */
  private async write(
    cancels: Array<{ n: number; request: CancelRequest; id: bigint }>,
    commands: Array<{ n: number; message: CommandMessage }>,
    time: number,
  ): Promise<Array<{ n: number; order: Order }>> {
    const payload = (m: CommandMessage) => JSON.stringify(jsonSafe(m));
    const found = await executePrepared<OrderRow & { n: number }>(
      this.db,
      sql`
      WITH r AS MATERIALIZED (
        SELECT * FROM unnest(${sql.param(cancels.map((c) => c.n))}::int[],
                             ${sql.param(cancels.map((c) => c.request.userId))}::bigint[],
                             ${sql.param(cancels.map((c) => c.request.market))}::text[],
                             ${sql.param(cancels.map((c) => c.id))}::bigint[],
                             ${sql.param(
                               cancels.map((c) =>
                                 payload(
                                   cancelCommand({
                                     market: c.request.market,
                                     orderId: c.id,
                                     userId: c.request.userId,
                                     time,
                                   }),
                                 ),
                               ),
                             )}::jsonb[])
               AS r(n, user_id, market, id, payload)
      ), f AS MATERIALIZED (
        SELECT r.n, r.payload AS command, o.*
          FROM r JOIN orders o ON o.id = r.id AND o.user_id = r.user_id AND o.market = r.market
      ), q AS (
        INSERT INTO outbox (topic, key, payload)
        SELECT ${this.options.topic}, m.key, m.payload
          FROM (SELECT f.n, f.market AS key, f.command AS payload FROM f
                 WHERE f.status IN ('pending', 'open')
                UNION ALL
                SELECT c.n, c.key, c.payload
                  FROM unnest(${sql.param(commands.map((c) => c.n))}::int[],
                              ${sql.param(commands.map((c) => c.message.market))}::text[],
                              ${sql.param(commands.map((c) => payload(c.message)))}::jsonb[])
                       AS c(n, key, payload)) m
         ORDER BY m.n
        RETURNING 1
      )
      SELECT n, id, user_id, market, side, type, time_in_force, price_ticks, amount,
             filled_base_lots, filled_quote, fee, fee_asset, hold_asset, hold_amount,
             hold_remaining, status, finish_as, text, stp_act, reject_reason, created_at,
             updated_at
        FROM f`,
    );
    return found.rows.map((row) => ({ n: row.n, order: orderFromRow(row) }));
  }
}

const live = (order: Order) => order.status === "pending" || order.status === "open";
