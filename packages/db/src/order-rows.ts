// An orders row as a raw SQL query returns it (snake_case, timestamps possibly as text), and the
// Order it stands for. Placement and the API's cancel batcher both read orders with raw SQL.
// A subpath of its own, so the ledger's public surface (what its fuzz test covers) stays as it is.
import type { Order, OrderType, TimeInForce } from "./orders";
import type { Side } from "./settlement";

/** An orders row as a raw query returns it. */
export type OrderRow = {
  id: bigint;
  user_id: bigint;
  market: string;
  side: Side;
  type: OrderType;
  time_in_force: TimeInForce;
  price_ticks: bigint | null;
  amount: bigint;
  filled_base_lots: bigint;
  filled_quote: bigint;
  fee: bigint;
  fee_asset: string;
  hold_asset: string;
  hold_amount: bigint;
  hold_remaining: bigint;
  status: Order["status"];
  finish_as: Order["finishAs"];
  text: string | null;
  stp_act: Order["stpAct"];
  reject_reason: string | null;
  amend_text: string | null;
  amends: number;
  amend_pending: boolean;
  amend_reserved: bigint;
  // drizzle's node-postgres driver hands timestamps of raw queries back as strings.
  created_at: Date | string;
  updated_at: Date | string;
};

export function orderFromRow(r: OrderRow): Order {
  return {
    id: r.id,
    userId: r.user_id,
    market: r.market,
    side: r.side,
    type: r.type,
    timeInForce: r.time_in_force,
    priceTicks: r.price_ticks,
    amount: r.amount,
    filledBaseLots: r.filled_base_lots,
    filledQuote: r.filled_quote,
    fee: r.fee,
    feeAsset: r.fee_asset,
    holdAsset: r.hold_asset,
    holdAmount: r.hold_amount,
    holdRemaining: r.hold_remaining,
    status: r.status,
    finishAs: r.finish_as,
    text: r.text,
    stpAct: r.stp_act,
    rejectReason: r.reject_reason,
    amendText: r.amend_text,
    amends: r.amends,
    amendPending: r.amend_pending,
    amendReserved: r.amend_reserved,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}
