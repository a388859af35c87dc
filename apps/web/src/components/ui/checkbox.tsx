// Checkbox: a native checkbox with its label beside it (the whole row is clickable).
import type { InputHTMLAttributes, ReactNode } from "react";

export function Checkbox({
  label,
  ...props
}: Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & { label: ReactNode }) {
  return (
    <label className="check">
      <input type="checkbox" {...props} />
      <span>{label}</span>
    </label>
  );
}
