"use client";
// API keys for trading programs (the gate.io-compatible API): create one with its permissions
// (read, trade), an optional IP allowlist and what it does with a repeated signed request
// (accepted as gate.io does, or refused: "strict"); the secret is shown once, in a dialog with a
// copy button, and never again; revoke a key at once. With two-factor sign-in on, a new key
// takes the authenticator app's current code.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { formatDateTime } from "../../lib/market-format";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { Checkbox } from "../ui/checkbox";
import { CopyButton } from "../ui/copy-button";
import { Dialog } from "../ui/dialog";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { Panel } from "../ui/panel";
import { Select } from "../ui/select";
import { Table, Td, tableStateOf } from "../ui/table";
import { useToast } from "../ui/toast";
import { CodeInput, isTotpCode } from "./code-input";

type Created = { key: string; secret: string };

export function ApiKeysPanel({ twoFactor = false }: { twoFactor?: boolean }) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [label, setLabel] = useState("");
  const [read, setRead] = useState(true);
  const [trade, setTrade] = useState(false);
  const [allowlist, setAllowlist] = useState("");
  const [replay, setReplay] = useState<"gate" | "strict">("gate");
  const [code, setCode] = useState("");
  const [created, setCreated] = useState<Created | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const keys = useQuery(trpc.account.apiKeys.list.queryOptions());
  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: trpc.account.apiKeys.list.queryKey() });
  const create = useMutation(
    trpc.account.apiKeys.create.mutationOptions({
      onSuccess: (key) => {
        setRefusal(null);
        setLabel("");
        setCode("");
        setCreated({ key: key.key, secret: key.secret });
        refresh();
      },
      onError: (error) => setRefusal(refusalOf(error)),
    }),
  );
  const revoke = useMutation(
    trpc.account.apiKeys.revoke.mutationOptions({
      onSuccess: () => {
        toast({ tone: "info", title: "Key revoked" });
        refresh();
      },
      onError: (error) => {
        const refused = refusalOf(error);
        toast({ tone: "error", title: refused.label, message: refused.message });
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    const permissions = [...(read ? ["read" as const] : []), ...(trade ? ["trade" as const] : [])];
    const addresses = allowlist
      .split(/[\s,]+/)
      .map((entry) => entry.trim())
      .filter(Boolean);
    create.mutate({
      permissions,
      label: label.trim() || undefined,
      ipAllowlist: addresses.length > 0 ? addresses : null,
      replay,
      ...(twoFactor ? { totpCode: code } : {}),
    });
  };
  const items = keys.data ?? [];
  return (
    <Panel title="API keys" flush className="account-keys">
      <form className="inline-form" onSubmit={submit} data-testid="api-key-form">
        <Field id="key-label" label="Label" className="grow">
          <Input
            id="key-label"
            value={label}
            maxLength={100}
            onChange={(event) => setLabel(event.target.value)}
          />
        </Field>
        <fieldset className="inline-checks">
          <legend className="field-label">Permissions</legend>
          <Checkbox
            label="Read"
            checked={read}
            onChange={(event) => setRead(event.target.checked)}
          />
          <Checkbox
            label="Trade"
            checked={trade}
            onChange={(event) => setTrade(event.target.checked)}
          />
        </fieldset>
        <Field id="key-ips" label="IP allowlist (optional)" className="grow">
          <Input
            id="key-ips"
            value={allowlist}
            placeholder="203.0.113.7, 10.0.0.0/8"
            onChange={(event) => setAllowlist(event.target.value)}
          />
        </Field>
        <Field
          id="key-replay"
          label="Repeated requests"
          hint={
            replay === "gate"
              ? "The same signed request twice is accepted, as gate.io does"
              : "The same signed request twice within 60 s is refused (DUPLICATE_REQUEST)"
          }
        >
          <Select
            id="key-replay"
            value={replay}
            data-testid="api-key-replay"
            options={[
              { value: "gate", label: "Accept (gate.io)" },
              { value: "strict", label: "Refuse (strict)" },
            ]}
            onValueChange={(value) => setReplay(value === "strict" ? "strict" : "gate")}
          />
        </Field>
        {twoFactor ? (
          <CodeInput id="key-code" label="Code" value={code} onValueChange={setCode} />
        ) : null}
        <Button
          type="submit"
          variant="primary"
          disabled={create.isPending || (!read && !trade) || (twoFactor && !isTotpCode(code))}
        >
          Create key
        </Button>
      </form>
      {refusal ? (
        <div style={{ padding: "0 12px 12px" }}>
          <Banner tone="danger" title={refusal.label}>
            {refusal.message}
          </Banner>
        </div>
      ) : null}
      <Table
        label="API keys"
        testId="api-keys"
        columns={[
          { key: "label", label: "Label" },
          { key: "key", label: "Key" },
          { key: "permissions", label: "Permissions" },
          { key: "created", label: "Created" },
          { key: "used", label: "Last used" },
          { key: "action", label: <span className="visually-hidden">Action</span> },
        ]}
        state={tableStateOf(keys, items.length, "No API keys.")}
      >
        {items.map((key) => (
          <tr key={key.id} data-testid="api-key">
            <Td>{key.label || <span className="muted">—</span>}</Td>
            <Td className="num">{key.key}</Td>
            <Td>
              {key.permissions.join(", ")}
              {key.ipAllowlist ? (
                <span className="muted"> · {key.ipAllowlist.join(", ")}</span>
              ) : null}
              {key.replay === "strict" ? <span className="muted"> · strict replay</span> : null}
            </Td>
            <Td className="muted">{formatDateTime(key.createdAt)}</Td>
            <Td className="muted">{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</Td>
            <Td>
              {key.revokedAt ? (
                <Badge tone="down">revoked</Badge>
              ) : (
                <Button
                  size="sm"
                  variant="danger"
                  disabled={revoke.isPending}
                  onClick={() => revoke.mutate({ key: key.key })}
                  aria-label={`Revoke key ${key.key}`}
                >
                  Revoke
                </Button>
              )}
            </Td>
          </tr>
        ))}
      </Table>
      <Dialog
        open={created !== null}
        onClose={() => setCreated(null)}
        title="Your new API key"
        testId="api-key-secret"
        actions={
          <Button variant="primary" onClick={() => setCreated(null)}>
            I have stored the secret
          </Button>
        }
      >
        <Banner tone="warning" title="The secret is shown only now">
          Store it somewhere safe: spotx keeps it sealed and will never show it again.
        </Banner>
        <div className="field">
          <span className="field-label">Key</span>
          <div className="copy-box">
            <code data-testid="created-key">{created?.key}</code>
            <CopyButton text={created?.key ?? ""} />
          </div>
        </div>
        <div className="field">
          <span className="field-label">Secret</span>
          <div className="copy-box">
            <code data-testid="created-secret">{created?.secret}</code>
            <CopyButton text={created?.secret ?? ""} />
          </div>
        </div>
      </Dialog>
    </Panel>
  );
}
