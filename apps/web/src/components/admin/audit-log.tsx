"use client";
// The audit log: who did what to what, when and from where, with the state before and after
// and the reason — filtered by action or area ("market." for every market action), subject and
// actor, newest first, a page at a time.
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { Pager, useCursorPages } from "../ui/pager";
import { Panel } from "../ui/panel";
import { Table, type TableState, Td, tableStateOf } from "../ui/table";
import { refusalText } from "./console-errors";
import { consoleTime } from "./console-format";
import type { AuditEntryView } from "./views";

const PAGE = 25;

const json = (value: unknown) => (value === undefined ? "—" : JSON.stringify(value, null, 1));

/** Audit rows: the change, its reason, before and after (the user page shows them too). */
export function AuditRows({
  entries,
  state,
}: {
  entries: readonly AuditEntryView[];
  state: TableState;
}) {
  return (
    <Table
      label="Audit log"
      testId="audit"
      columns={[
        { key: "id", label: "#", num: true },
        { key: "time", label: "Time" },
        { key: "actor", label: "By" },
        { key: "action", label: "Action" },
        { key: "subject", label: "Subject" },
        { key: "reason", label: "Reason" },
        { key: "before", label: "Before" },
        { key: "after", label: "After" },
      ]}
      state={
        state.kind === "ready" && entries.length === 0
          ? { kind: "empty", message: "No audit row matches." }
          : state
      }
    >
      {entries.map((e) => {
        const origin = e.details.origin;
        return (
          <tr key={e.id.toString()} data-testid="audit-row" data-action={e.action}>
            <Td num title={`hash ${e.hash}`}>
              {e.id.toString()}
            </Td>
            <td>{consoleTime(e.createdAt)}</td>
            <td title={origin ? JSON.stringify(origin) : undefined}>
              {e.actorEmail ?? (e.actorId === null ? "system" : `user ${e.actorId}`)}
            </td>
            <td>{e.action}</td>
            <td>{e.subject}</td>
            <td style={{ whiteSpace: "normal", maxWidth: 220 }}>
              {typeof e.details.reason === "string" ? e.details.reason : "—"}
            </td>
            <td>
              <pre className="console-json" data-testid="audit-before">
                {json(e.details.before)}
              </pre>
            </td>
            <td>
              <pre className="console-json" data-testid="audit-after">
                {json(e.details.after)}
              </pre>
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

const ACTION = /^[a-z_]+(\.[a-z_]*)*$/;

export function AuditLog({ initialSubject }: { initialSubject?: string }) {
  const trpc = useTRPC();
  const id = useId();
  const [form, setForm] = useState({ action: "", subject: initialSubject ?? "", actor: "" });
  const [filters, setFilters] = useState(form);
  const pages = useCursorPages();
  const actionBad = form.action.trim() !== "" && !ACTION.test(form.action.trim());
  const actorBad = form.actor.trim() !== "" && !/^[1-9][0-9]{0,18}$/.test(form.actor.trim());
  const search = useQuery(
    trpc.admin.audit.search.queryOptions(
      {
        action: filters.action.trim() || undefined,
        subject: filters.subject.trim() || undefined,
        actorId: filters.actor.trim() || undefined,
        limit: PAGE,
        cursor: pages.cursor,
      },
      { placeholderData: (previous) => previous },
    ),
  );
  const set = (key: keyof typeof form) => (value: string) =>
    setForm((f) => ({ ...f, [key]: value }));
  return (
    <Panel flush>
      <form
        className="console-filters console-filters-hinted"
        onSubmit={(event) => {
          event.preventDefault();
          if (actionBad || actorBad) return;
          pages.reset();
          setFilters(form);
        }}
      >
        <Field
          id={`${id}-action`}
          label="Action or area"
          hint="user.freeze, or market. for all"
          error={actionBad ? "an action like user.freeze or an area like market." : undefined}
        >
          <Input
            id={`${id}-action`}
            value={form.action}
            onChange={(e) => set("action")(e.target.value)}
            data-testid="audit-action"
          />
        </Field>
        <Field id={`${id}-subject`} label="Subject" hint="user:42, market:BTC_USDT">
          <Input
            id={`${id}-subject`}
            value={form.subject}
            onChange={(e) => set("subject")(e.target.value)}
            data-testid="audit-subject"
          />
        </Field>
        <Field
          id={`${id}-actor`}
          label="By (operator id)"
          hint="1 for operator:1"
          error={actorBad ? "a whole number" : undefined}
        >
          <Input
            id={`${id}-actor`}
            value={form.actor}
            onChange={(e) => set("actor")(e.target.value)}
          />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={actionBad || actorBad}>
          Filter
        </button>
      </form>
      <AuditRows
        entries={search.data?.items ?? []}
        state={
          search.isError
            ? { kind: "error", message: refusalText(search.error) }
            : tableStateOf(search, search.data?.items.length ?? 0, "No audit row matches.")
        }
      />
      <Pager
        page={pages.page}
        hasNext={Boolean(search.data?.nextCursor)}
        busy={search.isFetching}
        onPrevious={pages.previous}
        onNext={() => search.data?.nextCursor && pages.next(search.data.nextCursor)}
      />
    </Panel>
  );
}
