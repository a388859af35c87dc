// gate.io's Order object from an orders row. spotx has two states gate.io lacks: `pending` (not
// yet accepted by the engine) shows as `open` — the order is live and can be cancelled — and
// `rejected` (the engine refused it after the API accepted it) shows as `cancelled`, with the
// closest finish_as: `poc` for a post-only order that would have taken, `cancelled` otherwise.
import type { Order } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { averagePriceText } from "@spotx/protocol";
import type { GateMarket } from "./market-directory";

export type GateOrderStatus = "open" | "closed" | "cancelled";
export type GateFinishAs = "open" | "filled" | "cancelled" | "ioc" | "poc" | "fok" | "stp";

export type OrderObject = {
  id: string;
  text: string;
  amend_text: string;
  create_time: string;
  update_time: string;
  create_time_ms: number;
  update_time_ms: number;
  status: GateOrderStatus;
  currency_pair: string;
  type: "limit" | "market";
  account: "spot";
  side: "buy" | "sell";
  amount: string;
  price: string;
  time_in_force: "gtc" | "ioc" | "poc" | "fok";
  iceberg: string;
  left: string;
  filled_amount: string;
  fill_price: string;
  filled_total: string;
  avg_deal_price: string;
  fee: string;
  fee_currency: string;
  point_fee: string;
  gt_fee: string;
  gt_maker_fee: string;
  gt_taker_fee: string;
  gt_discount: boolean;
  rebated_fee: string;
  rebated_fee_currency: string;
  stp_act?: "cn" | "co" | "cb";
  finish_as: GateFinishAs;
};

export function gateStatus(status: Order["status"]): GateOrderStatus {
  if (status === "pending" || status === "open") return "open";
  return status === "closed" ? "closed" : "cancelled";
}

export function gateFinishAs(order: Pick<Order, "finishAs" | "rejectReason">): GateFinishAs {
  // gate.io has no finish_as for a delisting or a rules change: those orders show as cancelled.
  if (order.finishAs === "delisted" || order.finishAs === "market_rules") return "cancelled";
  if (order.finishAs !== "rejected") return order.finishAs;
  return order.rejectReason === "POC_FILL_IMMEDIATELY" ? "poc" : "cancelled";
}

const seconds = (date: Date) => String(Math.floor(date.getTime() / 1000));

export function orderObject(order: Order, m: GateMarket): OrderObject {
  const marketBuy = order.type === "market" && order.side === "buy";
  const base = (lots: bigint) => unitsToDecimal(lots, m.amountPrecision);
  const quote = (minor: bigint) => unitsToDecimal(minor, m.quoteDecimals);
  // A market buy's amount, and so what is left of it, is quote to spend (gate.io's rule).
  const amount = marketBuy ? quote(order.amount) : base(order.amount);
  const left = marketBuy ? order.amount - order.filledQuote : order.amount - order.filledBaseLots;
  const feeDecimals = order.feeAsset === m.base ? m.baseDecimals : m.quoteDecimals;
  const object: OrderObject = {
    id: String(order.id),
    text: order.text ?? "",
    amend_text: order.amendText ?? "-",
    create_time: seconds(order.createdAt),
    update_time: seconds(order.updatedAt),
    create_time_ms: order.createdAt.getTime(),
    update_time_ms: order.updatedAt.getTime(),
    status: gateStatus(order.status),
    currency_pair: order.market,
    type: order.type,
    account: "spot",
    side: order.side,
    amount,
    price: order.priceTicks === null ? "0" : unitsToDecimal(order.priceTicks, m.pricePrecision),
    time_in_force: order.timeInForce,
    iceberg: "0",
    left: marketBuy ? quote(left > 0n ? left : 0n) : base(left > 0n ? left : 0n),
    filled_amount: base(order.filledBaseLots),
    fill_price: quote(order.filledQuote),
    filled_total: quote(order.filledQuote),
    avg_deal_price: averagePriceText(order.filledQuote, order.filledBaseLots, m),
    fee: unitsToDecimal(order.fee, feeDecimals),
    fee_currency: order.feeAsset,
    point_fee: "0",
    gt_fee: "0",
    gt_maker_fee: "0",
    gt_taker_fee: "0",
    gt_discount: false,
    rebated_fee: "0",
    rebated_fee_currency: m.quote,
    finish_as: gateFinishAs(order),
  };
  if (order.stpAct) object.stp_act = order.stpAct;
  return object;
}
