"use client";
// A user's ways in, as an operator sees them in user detail: their live browser sessions (when
// each began, was last refreshed and will expire; the address and browser that signed in) and
// their API keys — with End and Revoke, each asking for a reason that goes to the audit log.
// Ending the session this console runs on signs the operator out: the dialog says so, and the
// browser is sent to the login page after.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useSocketConnection } from "../../hooks/socket-connection";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Panel } from "../ui/panel";
import { Table, Th, tableStateOf } from "../ui/table";
import { useToast } from "../ui/toast";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";
import { consoleTime } from "./console-format";
import type { AdminApiKeyView, AdminSessionView } from "./views";

/**
 * A user agent is long: the table names the browser and system it claims ("Chrome 140 · Linux"),
 * the cell's title shows all of it. Claimed, not proven: a client writes its own.
 */
function shortAgent(agent: string | null): string {
  if (agent === null) return "unknown client";
  // Most specific first: Edge and Opera also say Chrome, Chrome also says Safari.
  const browser = BROWSERS.map(([name, pattern]) => {
    const version = pattern.exec(agent)?.[1];
    return version ? `${name} ${version}` : null;
  }).find(Boolean);
  const system = /(Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS)/.exec(agent)?.[1];
  if (!browser) return agent.length > 40 ? `${agent.slice(0, 40)}…` : agent;
  return [browser, system?.replace("Mac OS X", "macOS")].filter(Boolean).join(" · ");
}

const BROWSERS: Array<[string, RegExp]> = [
  ["Edge", /Edg\/(\d+)/],
  ["Opera", /OPR\/(\d+)/],
  ["Firefox", /Firefox\/(\d+)/],
  ["HeadlessChrome", /HeadlessChrome\/(\d+)/],
  ["Chrome", /Chrome\/(\d+)/],
  ["Safari", /Version\/(\d+).*Safari\//],
];

export function UserAccess({ userId, email }: { userId: string; email: string }) {
  // One above the other, full width: every column (and the action) in view on a laptop.
  return (
    <>
      <UserSessions userId={userId} email={email} />
      <UserApiKeys userId={userId} email={email} />
    </>
  );
}

function UserSessions({ userId, email }: { userId: string; email: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const { reconnect } = useSocketConnection();
  const sessions = useQuery(trpc.admin.users.sessions.queryOptions({ userId }));
  const end = useMutation(trpc.admin.users.endSession.mutationOptions());
  const [ending, setEnding] = useState<AdminSessionView | null>(null);
  const rows = sessions.data?.sessions ?? [];
  return (
    <Panel flush title={`Sessions (${rows.length})`}>
      <Table
        label="Sessions"
        testId="user-sessions"
        columns={[
          { key: "client", label: "Client" },
          { key: "started", label: "Signed in" },
          { key: "refreshed", label: "Last refreshed" },
          { key: "expires", label: "Expires" },
          { key: "action", label: "" },
        ]}
        state={tableStateOf(sessions, rows.length, "No live session.")}
      >
        {rows.map((s) => (
          <tr key={s.sessionId} data-testid="user-session" data-session={s.sessionId}>
            <Th>
              <span title={s.userAgent ?? undefined}>{shortAgent(s.userAgent)}</span>
              <div className="muted num" style={{ fontSize: 11.5 }}>
                {s.ip ?? "address unknown"}
                {s.current ? (
                  <>
                    {" "}
                    · <Badge tone="warn">this console</Badge>
                  </>
                ) : null}
              </div>
            </Th>
            <td>{s.createdAt ? consoleTime(s.createdAt) : "—"}</td>
            <td>{s.refreshedAt ? consoleTime(s.refreshedAt) : "never"}</td>
            <td title={s.endsAt ? `at the latest ${consoleTime(s.endsAt)}` : undefined}>
              {s.expiresAt ? consoleTime(s.expiresAt) : "—"}
            </td>
            <td>
              <Button size="sm" variant="danger" onClick={() => setEnding(s)}>
                End
              </Button>
            </td>
          </tr>
        ))}
      </Table>
      {ending ? (
        <ActionDialog
          open
          onClose={() => {
            setEnding(null);
            end.reset();
          }}
          title={`End a session of ${email}`}
          description={
            ending.current
              ? "This is the session this console runs on: ending it signs you out here."
              : `The browser that signed in from ${ending.ip ?? "an unknown address"} is signed out at its next request; its refresh token dies with it. The user's other sessions and API keys stay.`
          }
          confirmLabel="End the session"
          variant="danger"
          pending={end.isPending}
          error={end.error ? refusalText(end.error) : null}
          onConfirm={(reason) =>
            end.mutate(
              { userId, sessionId: ending.sessionId, reason },
              {
                onSuccess: (result) => {
                  setEnding(null);
                  if (result.current) {
                    queryClient.clear();
                    reconnect();
                    router.push("/login");
                    return;
                  }
                  toast({ tone: "success", title: "Session ended" });
                  void queryClient.invalidateQueries(
                    trpc.admin.users.sessions.queryFilter({ userId }),
                  );
                  void queryClient.invalidateQueries(
                    trpc.admin.users.detail.queryFilter({ userId }),
                  );
                },
              },
            )
          }
          testId="end-session-dialog"
        />
      ) : null}
    </Panel>
  );
}

function UserApiKeys({ userId, email }: { userId: string; email: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = useQuery(trpc.admin.users.apiKeys.queryOptions({ userId }));
  const revoke = useMutation(trpc.admin.users.revokeApiKey.mutationOptions());
  const [revoking, setRevoking] = useState<AdminApiKeyView | null>(null);
  const rows = keys.data?.keys ?? [];
  return (
    <Panel flush title={`API keys (${rows.filter((k) => !k.revokedAt).length} live)`}>
      <Table
        label="API keys"
        testId="user-api-keys"
        columns={[
          { key: "key", label: "Key" },
          { key: "permissions", label: "Permissions" },
          { key: "created", label: "Created" },
          { key: "used", label: "Last used" },
          { key: "state", label: "State" },
        ]}
        state={tableStateOf(keys, rows.length, "No API key.")}
      >
        {rows.map((k) => (
          <tr key={k.id.toString()} data-testid="user-api-key" data-key={k.key}>
            <Th>
              <span className="num">{`${k.key.slice(0, 12)}…`}</span>
              <div className="muted" style={{ fontSize: 11.5 }}>
                {k.label || "no label"}
                {k.ipAllowlist ? ` · ${k.ipAllowlist.join(", ")}` : ""}
              </div>
            </Th>
            <td>{k.permissions.join(", ")}</td>
            <td>{consoleTime(k.createdAt)}</td>
            <td>{k.lastUsedAt ? consoleTime(k.lastUsedAt) : "never"}</td>
            <td>
              {k.revokedAt ? (
                <Badge tone="down" title={consoleTime(k.revokedAt)}>
                  revoked
                </Badge>
              ) : (
                <Button size="sm" variant="danger" onClick={() => setRevoking(k)}>
                  Revoke
                </Button>
              )}
            </td>
          </tr>
        ))}
      </Table>
      {revoking ? (
        <ActionDialog
          open
          onClose={() => {
            setRevoking(null);
            revoke.reset();
          }}
          title={`Revoke an API key of ${email}`}
          description={`Key ${revoking.key}${revoking.label ? ` (“${revoking.label}”)` : ""}: every signed request with it is refused (INVALID_KEY) from the next one on, on every instance, and the WebSocket subscriptions it opened end. This cannot be undone; the user can create a new key.`}
          confirmLabel="Revoke the key"
          variant="danger"
          pending={revoke.isPending}
          error={revoke.error ? refusalText(revoke.error) : null}
          onConfirm={(reason) =>
            revoke.mutate(
              { userId, keyId: revoking.id.toString(), reason },
              {
                onSuccess: (result) => {
                  setRevoking(null);
                  toast({
                    tone: "success",
                    title: result.changed ? "API key revoked" : "The key was revoked already",
                  });
                  void queryClient.invalidateQueries(
                    trpc.admin.users.apiKeys.queryFilter({ userId }),
                  );
                  void queryClient.invalidateQueries(
                    trpc.admin.users.detail.queryFilter({ userId }),
                  );
                },
              },
            )
          }
          testId="revoke-key-dialog"
        />
      ) : null}
    </Panel>
  );
}
