"use client";
// Security: two-factor sign-in with an authenticator app. Off: the password starts an enrolment,
// which shows the QR code, the secret as text and ten recovery codes — once, here, never again —
// and a first code from the app turns it on. On: signing in, new API keys and withdrawals ask for
// a code; turning it off takes the password and a code (or a recovery code). Operators must have
// it on for the console; `next` is where to go once it is.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { CopyButton } from "../ui/copy-button";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { Panel } from "../ui/panel";
import { StateMessage } from "../ui/state-message";
import { useToast } from "../ui/toast";
import { CodeInput, isTotpCode } from "./code-input";

export type SecurityStatus = {
  enabled: boolean;
  pending: boolean;
  recoveryCodesLeft: number;
  required: boolean;
};
type Status = SecurityStatus;
type Enrolment = { secret: string; uri: string; qrCode: string; recoveryCodes: string[] };

export function SecurityPanel({
  initialStatus,
  next,
}: {
  initialStatus: Status | null;
  next?: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery(
    trpc.auth.twoFactor.status.queryOptions(undefined, {
      initialData: initialStatus ?? undefined,
    }),
  );
  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: trpc.auth.twoFactor.status.queryKey() });
  const data = status.data;
  return (
    <Panel
      title="Security"
      className="account-security"
      data-testid="security-panel"
      actions={
        data ? (
          <Badge tone={data.enabled ? "up" : "neutral"}>
            {data.enabled ? "two-factor on" : "two-factor off"}
          </Badge>
        ) : null
      }
    >
      {!data ? (
        <StateMessage kind={status.isError ? "error" : "loading"}>
          {status.isError ? "Could not load the security settings." : "Loading…"}
        </StateMessage>
      ) : data.enabled ? (
        <TurnOff status={data} onDone={refresh} />
      ) : (
        <TurnOn required={data.required} next={next} onDone={refresh} />
      )}
    </Panel>
  );
}

function TurnOn({
  required,
  next,
  onDone,
}: {
  required: boolean;
  next?: string;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const begin = useMutation(
    trpc.auth.twoFactor.begin.mutationOptions({
      onSuccess: (started) => {
        setRefusal(null);
        setPassword("");
        setEnrolment(started);
      },
      onError: (error) => setRefusal(refusalOf(error)),
    }),
  );
  const confirm = useMutation(
    trpc.auth.twoFactor.confirm.mutationOptions({
      onSuccess: () => {
        toast({ tone: "success", title: "Two-factor sign-in is on" });
        onDone();
        if (next) router.push(next);
        router.refresh();
      },
      onError: (error) => setRefusal(refusalOf(error)),
    }),
  );
  const start = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    begin.mutate({ password });
  };
  const finish = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    confirm.mutate({ code });
  };
  const refused = refusal ? (
    <Banner tone="danger" title={refusal.label} testId="security-error">
      {refusal.message}
    </Banner>
  ) : null;
  if (!enrolment) {
    return (
      <form className="security-form" onSubmit={start} data-testid="two-factor-start">
        {required ? (
          <Banner tone="warning" title="Operators need two-factor sign-in">
            The console opens once it is on. Turn it on with an authenticator app (any app that
            reads TOTP QR codes).
          </Banner>
        ) : (
          <p className="muted security-text">
            Protect your account with a code from an authenticator app when you sign in, create an
            API key or withdraw.
          </p>
        )}
        <Field id="two-factor-password" label="Your password">
          <Input
            id="two-factor-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </Field>
        {refused}
        <div>
          <Button type="submit" variant="primary" disabled={begin.isPending || password === ""}>
            Turn on two-factor sign-in
          </Button>
        </div>
      </form>
    );
  }
  const allCodes = enrolment.recoveryCodes.join("\n");
  return (
    <form className="security-form" onSubmit={finish} data-testid="two-factor-enrol">
      <ol className="security-steps">
        <li>
          <span>Scan this code with your authenticator app.</span>
          {/* A data URL made on the server: nothing is fetched from anywhere else. */}
          {/* biome-ignore lint/performance/noImgElement: a data URL, nothing to optimise */}
          <img
            className="security-qr"
            src={enrolment.qrCode}
            alt="QR code of the two-factor secret"
            width={180}
            height={180}
            data-testid="two-factor-qr"
          />
          <span className="field-label">Or type the secret</span>
          <div className="copy-box">
            <code data-testid="two-factor-secret">{enrolment.secret}</code>
            <CopyButton text={enrolment.secret} />
          </div>
        </li>
        <li>
          <span>
            Keep these recovery codes somewhere safe: each signs you in once without the app. They
            are shown only now.
          </span>
          <ul className="recovery-codes" data-testid="recovery-codes">
            {enrolment.recoveryCodes.map((recovery) => (
              <li key={recovery}>
                <code>{recovery}</code>
              </li>
            ))}
          </ul>
          <div>
            <CopyButton text={allCodes} label="Copy all codes" />
          </div>
        </li>
        <li>
          <span>Enter the code the app shows now.</span>
          <CodeInput id="two-factor-confirm" value={code} onValueChange={setCode} />
        </li>
      </ol>
      {refused}
      <div className="security-actions">
        <Button type="submit" variant="primary" disabled={confirm.isPending || !isTotpCode(code)}>
          Confirm and turn on
        </Button>
        <Button type="button" onClick={() => setEnrolment(null)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function TurnOff({ status, onDone }: { status: Status; onDone: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const disable = useMutation(
    trpc.auth.twoFactor.disable.mutationOptions({
      onSuccess: () => {
        setPassword("");
        setCode("");
        toast({ tone: "info", title: "Two-factor sign-in is off" });
        onDone();
        router.refresh();
      },
      onError: (error) => setRefusal(refusalOf(error)),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    disable.mutate({ password, code: code.trim() });
  };
  return (
    <form className="security-form" onSubmit={submit} data-testid="two-factor-off">
      <p className="muted security-text">
        Signing in, new API keys and withdrawals ask for a code from your authenticator app.{" "}
        {status.recoveryCodesLeft} of 10 recovery codes left.
      </p>
      {status.required ? (
        <Banner tone="warning" title="The console needs it">
          Operators must have two-factor sign-in on: turning it off closes the console until you
          turn it on again.
        </Banner>
      ) : null}
      <div className="inline-form security-inline">
        <Field id="two-factor-off-password" label="Your password" className="grow">
          <Input
            id="two-factor-off-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </Field>
        <CodeInput
          id="two-factor-off-code"
          label="Code (or a recovery code)"
          allowRecovery
          value={code}
          onValueChange={setCode}
        />
        <Button
          type="submit"
          variant="danger"
          disabled={disable.isPending || password === "" || code.trim().length < 6}
        >
          Turn off
        </Button>
      </div>
      {refusal ? (
        <Banner tone="danger" title={refusal.label} testId="security-error">
          {refusal.message}
        </Banner>
      ) : null}
    </form>
  );
}
