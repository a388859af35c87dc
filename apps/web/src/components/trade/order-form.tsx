"use client";
// The order form: Limit / Market / Stop-limit tabs; buy or sell, time in force (GTC, IOC, FOK,
// post-only), amount typed, or as a value in quote, or as a share of the balance; the total, the
// fee and what will be held, previewed in integers (lib/order-ticket); the market's rules checked
// before submitting, and a refusal shown by its label. A stop-limit adds its trigger price with
// the rule in words ("Buy when last price ≥ 70,000.00", lib/stop-ticket) and is placed through
// orders.placeStop: nothing is held until it fires. Disabled while the market is halted.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useEffect, useId, useMemo, useState } from "react";
import type { LiveBook } from "../../hooks/use-order-book";
import { formatAsset, formatIn, formatPrice } from "../../lib/market-format";
import {
  amountForShare,
  amountForValue,
  normaliseTyped,
  previewTicket,
  type TicketField,
  type TicketSide,
  type TicketTimeInForce,
  type TicketType,
} from "../../lib/order-ticket";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { defaultRule, ruleInWords, stopSummary, triggerProblem } from "../../lib/stop-ticket";
import { useTRPC } from "../../trpc/client";
import type { BalanceView, MarketView } from "../../trpc/views";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { AmountInput } from "../ui/input";
import { Segmented } from "../ui/segmented";
import { Select } from "../ui/select";
import { TabStrip, tabIdOf } from "../ui/tab-strip";
import { useToast } from "../ui/toast";
import { AdvancedOrderOptions, stpActOf, useStpChoice } from "./stp-choice";

/** A price picked in the book; the nonce makes picking the same price twice count. */
export type PickedPrice = { price: string; nonce: number };

const TIME_IN_FORCE: { value: TicketTimeInForce; label: string }[] = [
  { value: "gtc", label: "Good till cancelled (GTC)" },
  { value: "ioc", label: "Immediate or cancel (IOC)" },
  { value: "fok", label: "Fill or kill (FOK)" },
  { value: "poc", label: "Post only (maker only)" },
];

const SHARES = [25, 50, 75, 100] as const;

/** The form's tabs: a stop-limit is a limit ticket with a trigger in front of it. */
type FormKind = TicketType | "stop";
const KINDS: { value: FormKind; label: string }[] = [
  { value: "limit", label: "Limit" },
  { value: "market", label: "Market" },
  { value: "stop", label: "Stop-limit" },
];

export function OrderForm({
  market,
  signedIn,
  halted,
  balances,
  book,
  picked,
  className,
}: {
  market: MarketView;
  signedIn: boolean;
  halted: boolean;
  balances: BalanceView[] | null;
  book: LiveBook;
  picked: PickedPrice | null;
  className?: string;
}) {
  const id = useId();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [side, setSide] = useState<TicketSide>("buy");
  const [kind, setKind] = useState<FormKind>("limit");
  const type: TicketType = kind === "market" ? "market" : "limit";
  const stop = kind === "stop";
  const [trigger, setTrigger] = useState("");
  const [timeInForce, setTimeInForce] = useState<TicketTimeInForce>("gtc");
  const [price, setPrice] = useState("");
  const [amount, setAmount] = useState("");
  const [total, setTotal] = useState("");
  const [attempted, setAttempted] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [stp, setStp] = useStpChoice();

  useEffect(() => {
    if (!picked) return;
    setKind((k) => (k === "market" ? "limit" : k));
    setPrice(picked.price);
    setRefusal(null);
  }, [picked]);

  const available = useMemo(() => {
    const of = (asset: string) => balances?.find((b) => b.asset === asset)?.available ?? null;
    return { base: of(market.base), quote: of(market.quote) };
  }, [balances, market]);
  const input = {
    side,
    type,
    timeInForce: type === "market" ? "ioc" : stop ? "gtc" : timeInForce,
    price,
    amount,
  } as const;
  // Cheap (a few bigint operations): computed on every render.
  const preview = previewTicket(input, market, signedIn ? available : { base: null, quote: null });
  const stopTriggerProblem = stop ? triggerProblem(trigger, market) : null;
  const problems = stopTriggerProblem
    ? [stopTriggerProblem, ...preview.problems]
    : preview.problems;
  const problemOf = (field: TicketField) => {
    const problem = problems.find((p) => p.field === field);
    if (!problem) return undefined;
    // An empty field is only a problem once the trader tries to submit.
    if (problem.label === "MISSING_REQUIRED_PARAM" && !attempted) return undefined;
    return problem.message;
  };

  const place = useMutation(
    trpc.orders.place.mutationOptions({
      onSuccess: ({ order }) => {
        setRefusal(null);
        setAttempted(false);
        setAmount("");
        setTotal("");
        toast({
          tone: "success",
          title: `${order.side === "buy" ? "Buy" : "Sell"} order placed`,
          message: `${order.type} ${order.amount} ${order.amountAsset}${order.price ? ` at ${order.price}` : ""}`,
        });
        void queryClient.invalidateQueries({ queryKey: trpc.orders.open.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.account.balances.queryKey() });
      },
      onError: (error) => {
        const refused = refusalOf(error);
        setRefusal(refused);
        toast({ tone: "error", title: refused.label, message: refused.message });
      },
    }),
  );

  const placeStop = useMutation(
    trpc.orders.placeStop.mutationOptions({
      onSuccess: (placed) => {
        setRefusal(null);
        setAttempted(false);
        setAmount("");
        setTotal("");
        toast({
          tone: "success",
          title: "Stop-limit order placed",
          message: `${ruleInWords(placed.side, placed.rule, placed.triggerPrice, market)}: a limit ${placed.side} of ${placed.amount} ${placed.amountAsset} at ${placed.price ?? ""}.`,
        });
        void queryClient.invalidateQueries({ queryKey: trpc.orders.stops.pathKey() });
      },
      onError: (error) => {
        const refused = refusalOf(error);
        setRefusal(refused);
        toast({ tone: "error", title: refused.label, message: refused.message });
      },
    }),
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    setRefusal(null);
    if (problems.length > 0 || halted || !signedIn) return;
    if (stop) {
      placeStop.mutate({
        market: market.symbol,
        side,
        triggerPrice: normaliseTyped(trigger),
        rule: defaultRule(side),
        price: normaliseTyped(price),
        amount: normaliseTyped(amount),
      });
      return;
    }
    place.mutate({
      market: market.symbol,
      side,
      type,
      amount: normaliseTyped(amount),
      price: type === "limit" ? normaliseTyped(price) : undefined,
      timeInForce: type === "limit" ? timeInForce : undefined,
      stpAct: stpActOf(stp),
    });
  };

  const marketBuy = type === "market" && side === "buy";
  const pending = place.isPending || placeStop.isPending;
  const summary = stop ? stopSummary({ side, trigger, price, amount }, market) : null;
  const payAsset = side === "buy" ? market.quote : market.base;
  const payAvailable = side === "buy" ? available.quote : available.base;
  const bestOpposite = side === "buy" ? book.asks[0]?.[0] : book.bids[0]?.[0];
  const setShare = (percent: number) => {
    const next = amountForShare(percent, { side, type, price }, market, available);
    if (next === null) return;
    setAmount(next);
    setTotal("");
  };

  return (
    <section className={`panel order-form ${className ?? ""}`} aria-label="Place an order">
      <form onSubmit={submit} noValidate data-testid="order-form">
        <fieldset
          className="order-fieldset"
          disabled={halted || !signedIn}
          aria-describedby={halted ? `${id}-halted` : undefined}
        >
          <legend className="visually-hidden">New order</legend>
          <TabStrip
            label="Order type"
            idPrefix={id}
            panelId={`${id}-panel`}
            value={kind}
            onChange={(next) => {
              setKind(next);
              setRefusal(null);
              setAttempted(false);
              setAmount("");
              setTotal("");
            }}
            items={KINDS}
          />
          <div
            role="tabpanel"
            id={`${id}-panel`}
            aria-labelledby={tabIdOf(id, kind)}
            className="order-panel"
          >
            <Segmented
              label="Side"
              block
              value={side}
              onChange={(next) => {
                setSide(next);
                setRefusal(null);
              }}
              options={[
                { value: "buy", label: `Buy ${market.base}`, tone: "up" },
                { value: "sell", label: `Sell ${market.base}`, tone: "down" },
              ]}
            />
            {stop ? (
              <Field
                id={`${id}-trigger`}
                label={`Trigger price (${market.quote})`}
                error={problemOf("trigger")}
                hint={
                  <span data-testid="stop-rule">
                    {ruleInWords(side, defaultRule(side), trigger, market)}
                  </span>
                }
              >
                <AmountInput
                  id={`${id}-trigger`}
                  value={trigger}
                  unit={market.quote}
                  invalid={Boolean(problemOf("trigger"))}
                  aria-describedby={
                    problemOf("trigger") ? `${id}-trigger-error` : `${id}-trigger-hint`
                  }
                  placeholder={
                    bestOpposite ? formatPrice(bestOpposite, market).replaceAll(",", "") : "0.00"
                  }
                  onValueChange={(value) => {
                    setTrigger(value);
                    setRefusal(null);
                  }}
                />
              </Field>
            ) : null}
            {type === "limit" ? (
              <>
                <Field
                  id={`${id}-price`}
                  label={stop ? `Limit price (${market.quote})` : `Price (${market.quote})`}
                  error={problemOf("price")}
                >
                  <AmountInput
                    id={`${id}-price`}
                    value={price}
                    unit={market.quote}
                    invalid={Boolean(problemOf("price"))}
                    placeholder={
                      bestOpposite ? formatPrice(bestOpposite, market).replaceAll(",", "") : "0.00"
                    }
                    onValueChange={(value) => {
                      setPrice(value);
                      if (total) setAmount(amountForValue(total, value, market) ?? amount);
                    }}
                  />
                </Field>
                {stop ? null : (
                  <Field id={`${id}-tif`} label="Time in force">
                    <Select
                      id={`${id}-tif`}
                      value={timeInForce}
                      options={TIME_IN_FORCE}
                      onValueChange={(value) => setTimeInForce(value as TicketTimeInForce)}
                    />
                  </Field>
                )}
              </>
            ) : (
              <p className="order-note muted">
                A market order takes the best prices in the book now
                {bestOpposite
                  ? ` (best ${side === "buy" ? "ask" : "bid"} ${formatPrice(bestOpposite, market)})`
                  : ""}
                ; what it does not fill at once is cancelled.
              </p>
            )}
            <Field
              id={`${id}-amount`}
              label={marketBuy ? `Spend (${market.quote})` : `Amount (${market.base})`}
              error={problemOf("amount")}
              hint={
                marketBuy
                  ? `Minimum ${market.minQuoteAmount} ${market.quote}`
                  : `Minimum ${market.minBaseAmount} ${market.base}`
              }
            >
              <AmountInput
                id={`${id}-amount`}
                value={amount}
                unit={marketBuy ? market.quote : market.base}
                invalid={Boolean(problemOf("amount"))}
                placeholder="0"
                onValueChange={(value) => {
                  setAmount(value);
                  setTotal("");
                }}
              />
            </Field>
            <fieldset className="share-buttons">
              <legend className="visually-hidden">{`Share of your ${payAsset} balance`}</legend>
              {SHARES.map((percent) => (
                <Button
                  key={percent}
                  size="sm"
                  onClick={() => setShare(percent)}
                  disabled={!signedIn || payAvailable === null}
                >
                  {percent}%
                </Button>
              ))}
            </fieldset>
            {type === "limit" ? (
              <Field
                id={`${id}-total`}
                label={`Total (${market.quote})`}
                error={problemOf("total")}
              >
                <AmountInput
                  id={`${id}-total`}
                  value={total !== "" ? total : (preview.total ?? "")}
                  unit={market.quote}
                  invalid={Boolean(problemOf("total"))}
                  placeholder="0"
                  onValueChange={(value) => {
                    setTotal(value);
                    const next = amountForValue(value, price, market);
                    if (next !== null) setAmount(next);
                  }}
                />
              </Field>
            ) : null}
            {stop ? null : <AdvancedOrderOptions id={id} stp={stp} onStpChange={setStp} />}
            <dl className="order-preview" data-testid="order-preview">
              <div>
                <dt>Available</dt>
                <dd className="num">
                  {signedIn && payAvailable !== null
                    ? `${formatIn(payAvailable, payAsset, market)} ${payAsset}`
                    : "—"}
                </dd>
              </div>
              <div>
                <dt>{stop ? "Holds when it fires" : "Holds"}</dt>
                <dd className="num">
                  {preview.hold
                    ? `${formatIn(preview.hold.amount, preview.hold.asset, market)} ${preview.hold.asset}`
                    : "—"}
                </dd>
              </div>
              <div>
                <dt>
                  Fee
                  {preview.fee?.kind === "exact" && preview.fee.rate === "at most taker"
                    ? " (at most)"
                    : ""}
                </dt>
                <dd className="num" data-testid="fee-preview">
                  {preview.fee === null
                    ? "—"
                    : preview.fee.kind === "exact"
                      ? `${formatAsset(preview.fee.amount, preview.fee.asset === market.base ? market.baseDecimals : market.quoteDecimals)} ${preview.fee.asset}`
                      : `${preview.fee.percent}% of the ${preview.fee.asset} received`}
                </dd>
              </div>
            </dl>
            {stop ? (
              <p className="order-note" data-testid="stop-summary">
                {summary ?? "Enter the trigger price, the limit price and the amount."} Nothing is
                held until it fires; if the funds are gone by then, it fails.
              </p>
            ) : null}
            {refusal ? (
              <p className="order-refusal" role="alert" data-testid="order-error">
                <strong>{refusal.label}</strong> {refusal.message}
              </p>
            ) : null}
            <Button
              type="submit"
              variant={side === "buy" ? "buy" : "sell"}
              size="lg"
              block
              disabled={pending}
              data-testid="place-order"
            >
              {pending
                ? "Placing…"
                : `${stop ? "Place stop: " : ""}${side === "buy" ? "Buy" : "Sell"} ${market.base}`}
            </Button>
          </div>
        </fieldset>
        {halted ? (
          <p id={`${id}-halted`} className="order-note down" role="status">
            Trading is halted: new orders are refused. Open orders can still be cancelled.
          </p>
        ) : null}
        {!signedIn ? (
          <p className="order-note">
            <Link href={`/login?next=/trade/${market.symbol}`}>Log in</Link> or{" "}
            <Link href={`/signup?next=/trade/${market.symbol}`}>sign up</Link> to trade.
          </p>
        ) : null}
      </form>
    </section>
  );
}
