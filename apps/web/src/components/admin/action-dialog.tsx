"use client";
// The confirmation every change in the console goes through: what will happen, the operator's
// reason (kept in the audit log; at least 3 characters), and the server's refusal shown in
// place — by its label — if there is one. Extra fields (amounts, fees) come as children.
import { type ReactNode, useId, useState } from "react";
import { Button, type ButtonVariant } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { Field, fieldControlProps } from "../ui/field";

export type ActionDialogProps = {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  /** What confirming will do, in the exchange's words. */
  description: ReactNode;
  confirmLabel: string;
  variant?: ButtonVariant;
  /** Ask for a reason (required by every audited change that takes one). */
  withReason?: boolean;
  /** Called with the reason ("" without one); resolves when the change is done. */
  onConfirm: (reason: string) => void;
  pending: boolean;
  /** The refusal, as "LABEL: message". */
  error: string | null;
  /** The form is not complete yet (extra fields invalid). */
  blocked?: boolean;
  children?: ReactNode;
  testId?: string;
};

export function ActionDialog({
  open,
  onClose,
  title,
  description,
  confirmLabel,
  variant = "primary",
  withReason = true,
  onConfirm,
  pending,
  error,
  blocked,
  children,
  testId,
}: ActionDialogProps) {
  const id = useId();
  const [reason, setReason] = useState("");
  const short = withReason && reason.trim().length < 3;
  const close = () => {
    setReason("");
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title={title}
      testId={testId}
      actions={
        <>
          <Button onClick={close} disabled={pending}>
            Cancel
          </Button>
          <Button
            variant={variant}
            disabled={pending || short || blocked}
            data-testid="confirm-action"
            onClick={() => onConfirm(reason.trim())}
          >
            {pending ? "Working…" : confirmLabel}
          </Button>
        </>
      }
    >
      <div>{description}</div>
      {children}
      {withReason ? (
        <Field
          id={`${id}-reason`}
          label="Reason (kept in the audit log)"
          hint="At least 3 characters."
        >
          <textarea
            {...fieldControlProps(`${id}-reason`, null, true)}
            className="input"
            style={{ height: 70, paddingTop: 8, resize: "vertical" }}
            value={reason}
            maxLength={500}
            onChange={(event) => setReason(event.target.value)}
            data-testid="action-reason"
          />
        </Field>
      ) : null}
      {error ? (
        <p className="down" role="alert" data-testid="action-error" style={{ margin: 0 }}>
          {error}
        </p>
      ) : null}
    </Dialog>
  );
}
