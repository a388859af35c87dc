// Input: a text input in the kit's style. AmountInput: a decimal entry (digits and one dot,
// nothing else can be typed) with a unit shown at its end, as a trading form wants — the
// value stays the exact string typed; the caller converts it to integers.
import type { InputHTMLAttributes, ReactNode } from "react";

export type InputProps = InputHTMLAttributes<HTMLInputElement>;

export function Input({ className, ...props }: InputProps) {
  return <input className={`input ${className ?? ""}`} {...props} />;
}

/** Digits with at most one dot: anything else typed is dropped, never rounded. */
const DECIMAL_TYPING = /^[0-9]*\.?[0-9]*$/;

export type AmountInputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "value"> & {
  value: string;
  onValueChange: (value: string) => void;
  /** Shown after the number: the asset, "%", … */
  unit?: ReactNode;
  invalid?: boolean;
};

export function AmountInput({
  value,
  onValueChange,
  unit,
  invalid,
  className,
  ...props
}: AmountInputProps) {
  return (
    <div className={`input-group ${className ?? ""}`} data-invalid={invalid ? "true" : undefined}>
      <input
        className="input"
        inputMode="decimal"
        autoComplete="off"
        spellCheck={false}
        value={value}
        aria-invalid={invalid ? true : undefined}
        onChange={(event) => {
          const next = event.target.value.replace(",", ".");
          if (DECIMAL_TYPING.test(next)) onValueChange(next);
        }}
        {...props}
      />
      {unit ? <span className="input-addon">{unit}</span> : null}
    </div>
  );
}
