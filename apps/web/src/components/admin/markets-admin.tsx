"use client";
// The Markets page: every market with its rules, fees and live halt; halt and resume with a
// reason (through etcd — every process sees it within a second — and the markets table in one
// step), change fees, change a market's rules (tick, lot, minimums, band, fees — an engine
// command, see market-rules-dialog.tsx), and list a new market.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { formatDecimal } from "../../lib/market-format";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { Checkbox } from "../ui/checkbox";
import { Field } from "../ui/field";
import { AmountInput, Input } from "../ui/input";
import { Panel } from "../ui/panel";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { useToast } from "../ui/toast";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";
import { DelistDialog } from "./delist-dialog";
import { CreateAssetDialog } from "./market-listing";
import { MarketRulesDialog } from "./market-rules-dialog";
import type { AdminMarketView } from "./views";

/** One step of a precision as text: 2 → "0.01", 0 → "1" (string work, no floats). */
export function stepOf(precision: number): string {
  return precision === 0 ? "1" : `0.${"0".repeat(precision - 1)}1`;
}

type Action =
  | { kind: "halt" | "resume"; market: AdminMarketView }
  | { kind: "rules"; market: AdminMarketView }
  | { kind: "delist"; market: AdminMarketView }
  | { kind: "create" }
  | { kind: "asset" };

export function MarketsAdmin({ initial }: { initial: AdminMarketView[] | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const query = useQuery(
    trpc.admin.markets.list.queryOptions(undefined, {
      ...(initial ? { initialData: initial } : {}),
      refetchInterval: 10_000,
    }),
  );
  const [action, setAction] = useState<Action | null>(null);
  const done = (title: string) => {
    toast({ tone: "success", title });
    setAction(null);
    void queryClient.invalidateQueries(trpc.admin.markets.list.queryFilter());
  };
  const halt = useMutation(trpc.admin.markets.halt.mutationOptions());
  const resume = useMutation(trpc.admin.markets.resume.mutationOptions());
  const markets = query.data ?? [];

  return (
    <>
      <Panel
        flush
        title={`${markets.length} markets`}
        actions={
          <div className="console-actions">
            <Button size="sm" onClick={() => setAction({ kind: "asset" })}>
              List an asset
            </Button>
            <Button variant="primary" size="sm" onClick={() => setAction({ kind: "create" })}>
              List a market
            </Button>
          </div>
        }
      >
        <Table
          label="Markets"
          testId="admin-markets"
          columns={[
            { key: "market", label: "Market" },
            { key: "status", label: "Status" },
            { key: "tick", label: "Tick · lot", num: true },
            { key: "min", label: "Min amount · value", num: true },
            { key: "band", label: "Price band", num: true },
            { key: "fees", label: "Maker / taker fee", num: true },
            { key: "orders", label: "Live orders", num: true },
            { key: "actions", label: <span className="visually-hidden">Actions</span> },
          ]}
          state={
            query.isError && !query.data
              ? { kind: "error", message: refusalText(query.error) }
              : tableStateOf(query, markets.length, "No market is listed yet.")
          }
        >
          {markets.map((m) => {
            const halted = m.status === "halted" || m.live?.halted === true;
            return (
              <tr key={m.symbol} data-testid={`admin-market-${m.symbol}`}>
                <Th>{m.symbol}</Th>
                <td>
                  {m.status === "closed" ? (
                    <Badge tone="neutral" data-testid="market-status">
                      closed
                    </Badge>
                  ) : halted ? (
                    <Badge
                      tone="down"
                      title={m.live?.reason ?? undefined}
                      data-testid="market-status"
                    >
                      halted
                    </Badge>
                  ) : (
                    <Badge tone="up" data-testid="market-status">
                      trading
                    </Badge>
                  )}
                  {m.live?.reason ? (
                    <div className="muted" style={{ fontSize: 11.5, whiteSpace: "normal" }}>
                      {m.live.reason} ({m.live.by ?? "?"})
                    </div>
                  ) : null}
                  {m.liveUnavailable ? (
                    <div className="muted" style={{ fontSize: 11.5 }}>
                      live halt unknown: etcd unavailable
                    </div>
                  ) : null}
                </td>
                <Td num>
                  <span data-testid="market-tick">
                    {m.tickSize} {m.quote}
                  </span>{" "}
                  · {m.lotSize} {m.base}
                </Td>
                <Td num>
                  {formatDecimal(m.minBaseAmount, 0)} {m.base} ·{" "}
                  {formatDecimal(m.minQuoteAmount, 0)} {m.quote}
                </Td>
                <Td num>±{m.priceBandPercent}%</Td>
                <Td num>
                  {m.makerFeePercent}% / {m.takerFeePercent}%
                </Td>
                <Td num>{m.liveOrders}</Td>
                <td>
                  <div className="console-actions">
                    {m.status === "closed" ? (
                      <span className="muted">delisted</span>
                    ) : halted ? (
                      <Button size="sm" onClick={() => setAction({ kind: "resume", market: m })}>
                        Resume
                      </Button>
                    ) : (
                      <Button
                        size="sm"
                        variant="danger"
                        onClick={() => setAction({ kind: "halt", market: m })}
                      >
                        Halt
                      </Button>
                    )}
                    <Button size="sm" onClick={() => setAction({ kind: "rules", market: m })}>
                      Change rules
                    </Button>
                    {m.status === "closed" ? null : (
                      <Button
                        size="sm"
                        variant="danger"
                        onClick={() => setAction({ kind: "delist", market: m })}
                      >
                        Delist
                      </Button>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </Table>
      </Panel>
      <Banner title="Changing a market's rules goes through its engine">
        A rules change is a command in the market's log, applied in order like any other (a replay
        sees it at the same point). Prices and amounts stay counted in the units the market listed
        with; a tick or lot can only be a whole multiple of them. Resting orders whose price or
        amount is not a multiple of the new tick or lot are cancelled; everything else keeps
        resting.
      </Banner>

      {action?.kind === "halt" || action?.kind === "resume" ? (
        <ActionDialog
          open
          onClose={() => setAction(null)}
          title={`${action.kind === "halt" ? "Halt" : "Resume"} ${action.market.symbol}`}
          description={
            action.kind === "halt"
              ? "New orders are refused at once, everywhere, and the engine halts the book. Open orders stay and can still be cancelled."
              : "Orders are taken again (within two seconds on every web instance)."
          }
          confirmLabel={action.kind === "halt" ? "Halt trading" : "Resume trading"}
          variant={action.kind === "halt" ? "danger" : "primary"}
          pending={halt.isPending || resume.isPending}
          error={
            halt.error ? refusalText(halt.error) : resume.error ? refusalText(resume.error) : null
          }
          onConfirm={(reason) => {
            const input = { symbol: action.market.symbol, reason };
            if (action.kind === "halt") {
              halt.mutate(input, { onSuccess: () => done(`${input.symbol} halted`) });
            } else {
              resume.mutate(input, { onSuccess: () => done(`${input.symbol} resumed`) });
            }
          }}
          testId="market-action"
        />
      ) : null}
      {action?.kind === "rules" ? (
        <MarketRulesDialog market={action.market} onClose={() => setAction(null)} onDone={done} />
      ) : null}
      {action?.kind === "create" ? (
        <CreateMarketDialog onClose={() => setAction(null)} onDone={done} />
      ) : null}
      {action?.kind === "asset" ? (
        <CreateAssetDialog onClose={() => setAction(null)} onDone={done} />
      ) : null}
      {action?.kind === "delist" ? (
        <DelistDialog market={action.market} onClose={() => setAction(null)} onDone={done} />
      ) : null}
    </>
  );
}

const EMPTY_MARKET = {
  base: "",
  quote: "USDT",
  pricePrecision: "2",
  amountPrecision: "4",
  minBaseAmount: "",
  minQuoteAmount: "",
  makerFeePercent: "0.1",
  takerFeePercent: "0.2",
  priceBandPercent: "10",
  maxOpenOrdersPerUser: "200",
};

function CreateMarketDialog({
  onClose,
  onDone,
}: {
  onClose: () => void;
  onDone: (title: string) => void;
}) {
  const trpc = useTRPC();
  const id = useId();
  const [form, setForm] = useState(EMPTY_MARKET);
  const [startHalted, setStartHalted] = useState(true);
  const create = useMutation(trpc.admin.markets.create.mutationOptions());
  const set = (key: keyof typeof EMPTY_MARKET) => (value: string) =>
    setForm((f) => ({ ...f, [key]: value }));
  const whole = (text: string) => /^[0-9]{1,7}$/.test(text);
  const complete =
    /^[A-Z0-9]{2,12}$/.test(form.base) &&
    /^[A-Z0-9]{2,12}$/.test(form.quote) &&
    whole(form.pricePrecision) &&
    whole(form.amountPrecision) &&
    whole(form.maxOpenOrdersPerUser) &&
    form.minBaseAmount !== "" &&
    form.minQuoteAmount !== "";
  const text = (key: keyof typeof EMPTY_MARKET, label: string, upper = false) => (
    <Field id={`${id}-${key}`} label={label}>
      <Input
        id={`${id}-${key}`}
        value={form[key]}
        onChange={(event) =>
          set(key)(upper ? event.target.value.toUpperCase() : event.target.value)
        }
      />
    </Field>
  );
  const amount = (key: keyof typeof EMPTY_MARKET, label: string, unit: string) => (
    <Field id={`${id}-${key}`} label={label}>
      <AmountInput id={`${id}-${key}`} value={form[key]} onValueChange={set(key)} unit={unit} />
    </Field>
  );
  return (
    <ActionDialog
      open
      onClose={onClose}
      title="List a market"
      description="Both assets must exist. The decimals are the market's units for good; its tick, lot, band and minimums can be changed later (Change rules)."
      confirmLabel="List it"
      pending={create.isPending}
      error={create.error ? refusalText(create.error) : null}
      blocked={!complete}
      onConfirm={(reason) =>
        create.mutate(
          {
            base: form.base,
            quote: form.quote,
            pricePrecision: Number(form.pricePrecision),
            amountPrecision: Number(form.amountPrecision),
            minBaseAmount: form.minBaseAmount,
            minQuoteAmount: form.minQuoteAmount,
            makerFeePercent: form.makerFeePercent,
            takerFeePercent: form.takerFeePercent,
            priceBandPercent: form.priceBandPercent,
            maxOpenOrdersPerUser: Number(form.maxOpenOrdersPerUser),
            startHalted,
            reason,
          },
          { onSuccess: (m) => onDone(`${m.symbol} listed${startHalted ? " (halted)" : ""}`) },
        )
      }
      testId="create-market"
    >
      <div className="console-grid" style={{ gridTemplateColumns: "1fr 1fr", gap: 10 }}>
        {text("base", "Base asset", true)}
        {text("quote", "Quote asset", true)}
        {text("pricePrecision", "Price decimals (tick)")}
        {text("amountPrecision", "Amount decimals (lot)")}
        {amount("minBaseAmount", "Smallest order", form.base || "base")}
        {amount("minQuoteAmount", "Smallest order value", form.quote || "quote")}
        {amount("makerFeePercent", "Maker fee", "%")}
        {amount("takerFeePercent", "Taker fee", "%")}
        {amount("priceBandPercent", "Price band", "%")}
        {text("maxOpenOrdersPerUser", "Open orders per user")}
      </div>
      <Checkbox
        label="List it halted (resume when ready)"
        checked={startHalted}
        onChange={(event) => setStartHalted(event.target.checked)}
      />
    </ActionDialog>
  );
}
