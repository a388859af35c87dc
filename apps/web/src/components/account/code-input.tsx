"use client";
// The authenticator app's code: six digits (spaces typed from the app's "123 456" are kept out),
// the browser told it is a one-time code so it may offer one. With `allowRecovery`, a recovery
// code (letters, digits and dashes) may be typed instead.
import { Field, fieldControlProps } from "../ui/field";
import { Input } from "../ui/input";

export const isTotpCode = (value: string) => /^[0-9]{6}$/.test(value);

export function CodeInput({
  id,
  value,
  onValueChange,
  label = "Code from your authenticator app",
  hint,
  allowRecovery = false,
  className,
}: {
  id: string;
  value: string;
  onValueChange: (value: string) => void;
  label?: string;
  hint?: string;
  allowRecovery?: boolean;
  className?: string;
}) {
  return (
    <Field id={id} label={label} hint={hint} className={className}>
      <Input
        {...fieldControlProps(id, null, hint)}
        className="code-input"
        inputMode={allowRecovery ? "text" : "numeric"}
        autoComplete="one-time-code"
        spellCheck={false}
        maxLength={allowRecovery ? 40 : 6}
        placeholder={allowRecovery ? "123456" : "123456"}
        value={value}
        data-testid={`${id}-input`}
        onChange={(event) => {
          const typed = event.target.value;
          onValueChange(
            allowRecovery ? typed.trimStart() : typed.replace(/[^0-9]/g, "").slice(0, 6),
          );
        }}
      />
    </Field>
  );
}
