// Select: a native <select> in the kit's style (native keeps keyboard and phone pickers
// working). Options are {value, label}; the value is a string.
import type { SelectHTMLAttributes } from "react";

export type SelectOption = { value: string; label: string; disabled?: boolean };

export type SelectProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, "onChange"> & {
  options: readonly SelectOption[];
  onValueChange?: (value: string) => void;
};

export function Select({ options, onValueChange, className, ...props }: SelectProps) {
  return (
    <select
      className={`select ${className ?? ""}`}
      onChange={(event) => onValueChange?.(event.target.value)}
      {...props}
    >
      {options.map((option) => (
        <option key={option.value} value={option.value} disabled={option.disabled}>
          {option.label}
        </option>
      ))}
    </select>
  );
}
