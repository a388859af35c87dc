"use client";
// The log-in and sign-up form: email and password, the server's refusal shown by its label
// (INVALID_CREDENTIALS, EMAIL_TAKEN, TOO_MANY_REQUESTS…). A user with two-factor sign-in is asked
// for the app's code (or a recovery code) in a second step: the password alone answers with a
// challenge, not a session. On success the session cookie is set by the answer; the socket
// reconnects to join the user's room and the page goes where the visitor was heading.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { useSocketConnection } from "../../hooks/socket-connection";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { Field, fieldControlProps } from "../ui/field";
import { Input } from "../ui/input";
import { CodeInput, isTotpCode } from "./code-input";

export function AuthForm({ mode, next }: { mode: "login" | "signup"; next: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { reconnect } = useSocketConnection();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const done = () => {
    queryClient.clear();
    reconnect();
    router.push(next);
    router.refresh();
  };
  const [challenge, setChallenge] = useState<string | null>(null);
  const onError = (error: unknown) => setRefusal(refusalOf(error));
  const logIn = useMutation(
    trpc.auth.logIn.mutationOptions({
      onSuccess: (answer) => {
        if (answer.outcome === "code_required") {
          setPassword("");
          setChallenge(answer.challenge);
        } else done();
      },
      onError,
    }),
  );
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess: done, onError }));
  const pending = logIn.isPending || signUp.isPending;
  const tooShort = mode === "signup" && password.length > 0 && password.length < 8;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    if (tooShort) return;
    (mode === "login" ? logIn : signUp).mutate({ email, password });
  };
  const other = mode === "login" ? "/signup" : "/login";
  const query = next === "/" ? "" : `?next=${encodeURIComponent(next)}`;
  if (challenge !== null) {
    return (
      <CodeStep
        challenge={challenge}
        onSignedIn={done}
        onStartOver={(why) => {
          setChallenge(null);
          setRefusal(why ?? null);
        }}
      />
    );
  }
  return (
    <form className="panel auth-form" onSubmit={submit} data-testid={`${mode}-form`}>
      <div className="panel-body" style={{ display: "flex", flexDirection: "column", gap: 14 }}>
        <Field id="auth-email" label="Email">
          <Input
            {...fieldControlProps("auth-email", null)}
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </Field>
        <Field
          id="auth-password"
          label="Password"
          hint={mode === "signup" ? "At least 8 characters." : undefined}
          error={tooShort ? "At least 8 characters." : undefined}
        >
          <Input
            {...fieldControlProps("auth-password", tooShort, mode === "signup")}
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </Field>
        {refusal ? (
          <Banner tone="danger" title={refusal.label} testId="auth-error">
            {refusal.message}
          </Banner>
        ) : null}
        <Button type="submit" variant="primary" size="lg" block disabled={pending}>
          {pending ? "Please wait…" : mode === "login" ? "Log in" : "Create account"}
        </Button>
        <p className="muted" style={{ margin: 0, fontSize: 13 }}>
          {mode === "login" ? "New to spotx? " : "Already have an account? "}
          <Link href={`${other}${query}`}>{mode === "login" ? "Sign up" : "Log in"}</Link>
        </p>
      </div>
    </form>
  );
}

/** The second step: the code from the authenticator app, or a recovery code. */
function CodeStep({
  challenge,
  onSignedIn,
  onStartOver,
}: {
  challenge: string;
  onSignedIn: () => void;
  onStartOver: (why?: Refusal) => void;
}) {
  const trpc = useTRPC();
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const verify = useMutation(
    trpc.auth.logInWithCode.mutationOptions({
      onSuccess: onSignedIn,
      onError: (error) => {
        const refused = refusalOf(error);
        // The challenge expired or the account changed: back to the password, saying why.
        if (refused.label === "LOGIN_REQUIRED") return onStartOver(refused);
        setRefusal(refused);
        setCode("");
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    verify.mutate({ challenge, code: code.trim() });
  };
  const ready = recovery ? code.trim().length >= 16 : isTotpCode(code);
  return (
    <form className="panel auth-form" onSubmit={submit} data-testid="login-code-form">
      <div className="panel-body" style={{ display: "flex", flexDirection: "column", gap: 14 }}>
        <p className="muted" style={{ margin: 0 }}>
          {recovery
            ? "Enter one of the recovery codes you kept when you turned two-factor sign-in on. Each works once."
            : "Two-factor sign-in is on for this account: enter the code your authenticator app shows."}
        </p>
        <CodeInput
          key={recovery ? "recovery" : "app"}
          id="login-code"
          label={recovery ? "Recovery code" : "Code from your authenticator app"}
          allowRecovery={recovery}
          value={code}
          onValueChange={setCode}
        />
        {refusal ? (
          <Banner tone="danger" title={refusal.label} testId="auth-error">
            {refusal.message}
          </Banner>
        ) : null}
        <Button
          type="submit"
          variant="primary"
          size="lg"
          block
          disabled={verify.isPending || !ready}
        >
          {verify.isPending ? "Please wait…" : "Verify and log in"}
        </Button>
        <div style={{ display: "flex", gap: 8, justifyContent: "space-between" }}>
          <Button
            variant="ghost"
            size="sm"
            onClick={() => {
              setRecovery(!recovery);
              setCode("");
              setRefusal(null);
            }}
          >
            {recovery ? "Use the authenticator app instead" : "Use a recovery code instead"}
          </Button>
          <Button variant="ghost" size="sm" onClick={() => onStartOver()}>
            Start over
          </Button>
        </div>
      </div>
    </form>
  );
}
