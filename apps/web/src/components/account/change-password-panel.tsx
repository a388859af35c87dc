"use client";
// Change password: the current one, the new one twice (checked to match here, before asking the
// server). auth.changePassword ends every session of the account and revokes every API key —
// what one wants after a suspected compromise — and signs this browser in again at once, so the
// trader stays here; the success message says how many sessions and keys ended.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { Field, fieldControlProps } from "../ui/field";
import { Input } from "../ui/input";
import { Panel } from "../ui/panel";

/** The server's rule (auth newPasswordField), checked here too so the form can say it at once. */
const MIN_LENGTH = 8;

type Outcome = { revokedSessions: number; revokedApiKeys: number };

const plural = (count: number, one: string, many: string) =>
  `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;

/** What happened, in words: this browser's old session is among those ended (and replaced). */
export function outcomeText({ revokedSessions, revokedApiKeys }: Outcome): string {
  const others = Math.max(0, revokedSessions - 1);
  const sessions =
    others === 0
      ? "No other device was signed in."
      : `Signed out everywhere else (${plural(others, "other session", "other sessions")}).`;
  const keys =
    revokedApiKeys === 0
      ? "You had no API keys to revoke."
      : `${plural(revokedApiKeys, "API key was", "API keys were")} revoked: create new ones for your bots.`;
  return `You stay signed in here. ${sessions} ${keys}`;
}

export function ChangePasswordPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [attempted, setAttempted] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: (done) => {
        setRefusal(null);
        setAttempted(false);
        setCurrent("");
        setNext("");
        setRepeat("");
        setOutcome(done);
        // The API keys are revoked: lists of them on other panels are stale.
        void queryClient.invalidateQueries({ queryKey: trpc.account.apiKeys.pathKey() });
      },
      onError: (error) => {
        setOutcome(null);
        setRefusal(refusalOf(error));
      },
    }),
  );
  const tooShort = next.length > 0 && next.length < MIN_LENGTH;
  const mismatch = repeat.length > 0 && repeat !== next;
  const newError = attempted && tooShort ? `At least ${MIN_LENGTH} characters.` : undefined;
  const repeatError =
    (attempted || repeat.length >= next.length) && mismatch
      ? "The two new passwords do not match."
      : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    setRefusal(null);
    setOutcome(null);
    if (current === "" || next === "" || tooShort || repeat !== next) return;
    change.mutate({ currentPassword: current, newPassword: next });
  };
  return (
    <Panel title="Password" className="account-security" data-testid="change-password-panel">
      <form className="security-form" onSubmit={submit} noValidate data-testid="change-password">
        <p className="muted security-text">
          Changing it signs you out on every other device and revokes all your API keys.
        </p>
        <Field id="change-password-current" label="Current password">
          <Input
            id="change-password-current"
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(event) => setCurrent(event.target.value)}
          />
        </Field>
        <Field
          id="change-password-new"
          label="New password"
          hint={`At least ${MIN_LENGTH} characters.`}
          error={newError}
        >
          <Input
            {...fieldControlProps("change-password-new", newError, true)}
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(event) => setNext(event.target.value)}
          />
        </Field>
        <Field id="change-password-repeat" label="Repeat the new password" error={repeatError}>
          <Input
            {...fieldControlProps("change-password-repeat", repeatError)}
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(event) => setRepeat(event.target.value)}
          />
        </Field>
        {refusal ? (
          <Banner tone="danger" title={refusal.label} testId="change-password-error">
            {refusal.message}
          </Banner>
        ) : null}
        {outcome ? (
          <Banner title="Password changed" testId="change-password-done">
            {outcomeText(outcome)}
          </Banner>
        ) : null}
        <div>
          <Button
            type="submit"
            variant="primary"
            disabled={change.isPending || current === "" || next === "" || repeat === ""}
          >
            {change.isPending ? "Changing…" : "Change password"}
          </Button>
        </div>
      </form>
    </Panel>
  );
}
