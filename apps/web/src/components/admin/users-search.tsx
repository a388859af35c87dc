"use client";
// Users: find a user by a piece of their email or their id, by role and status, newest first,
// a page at a time (the server's keyset pages); each row opens the user's detail.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { Pager, useCursorPages } from "../ui/pager";
import { Panel } from "../ui/panel";
import { Select } from "../ui/select";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { refusalText } from "./console-errors";
import { consoleTime } from "./console-format";

const PAGE = 25;

export function UsersSearch() {
  const trpc = useTRPC();
  const id = useId();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [role, setRole] = useState<"" | "trader" | "operator">("");
  const [status, setStatus] = useState<"" | "active" | "frozen">("");
  const pages = useCursorPages();
  const search = useQuery(
    trpc.admin.users.search.queryOptions(
      {
        query: query || undefined,
        role: role || undefined,
        status: status || undefined,
        limit: PAGE,
        cursor: pages.cursor,
      },
      { placeholderData: (previous) => previous },
    ),
  );
  const users = search.data?.items ?? [];
  return (
    <Panel flush>
      <form
        className="console-filters"
        onSubmit={(event) => {
          event.preventDefault();
          pages.reset();
          setQuery(text.trim());
        }}
      >
        <Field id={`${id}-q`} label="Email or user id">
          <Input
            id={`${id}-q`}
            type="search"
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder="alice@ or 42"
            data-testid="user-query"
          />
        </Field>
        <Field id={`${id}-role`} label="Role">
          <Select
            id={`${id}-role`}
            value={role}
            options={[
              { value: "", label: "any" },
              { value: "trader", label: "trader" },
              { value: "operator", label: "operator" },
            ]}
            onValueChange={(value) => {
              pages.reset();
              setRole(value === "trader" || value === "operator" ? value : "");
            }}
          />
        </Field>
        <Field id={`${id}-status`} label="Status">
          <Select
            id={`${id}-status`}
            value={status}
            options={[
              { value: "", label: "any" },
              { value: "active", label: "active" },
              { value: "frozen", label: "frozen" },
            ]}
            onValueChange={(value) => {
              pages.reset();
              setStatus(value === "active" || value === "frozen" ? value : "");
            }}
          />
        </Field>
        <button type="submit" className="btn btn-primary">
          Search
        </button>
      </form>
      <Table
        label="Users"
        testId="users"
        columns={[
          { key: "id", label: "Id", num: true },
          { key: "email", label: "Email" },
          { key: "role", label: "Role" },
          { key: "status", label: "Status" },
          { key: "created", label: "Signed up" },
        ]}
        state={
          search.isError
            ? { kind: "error", message: refusalText(search.error) }
            : tableStateOf(
                search,
                users.length,
                query ? `No user matches “${query}”.` : "No user yet.",
              )
        }
      >
        {users.map((u) => (
          <tr key={u.id.toString()} data-testid={`user-${u.email}`}>
            <Td num>{u.id.toString()}</Td>
            <Th>
              <Link href={`/admin/users/${u.id}`}>{u.email}</Link>
            </Th>
            <td>{u.role === "operator" ? <Badge tone="info">operator</Badge> : "trader"}</td>
            <td>
              <Badge tone={u.status === "frozen" ? "down" : "up"}>{u.status}</Badge>
            </td>
            <td>{consoleTime(u.createdAt)}</td>
          </tr>
        ))}
      </Table>
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
