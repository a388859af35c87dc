"use client";
// Segmented: a small radio group drawn as joined buttons (buy/sell, limit/market, intervals).
// Native radio inputs underneath, so Tab reaches the group and arrow keys move the choice as
// in any radio group. `tone` colours an option when checked ("up" green, "down" red).
import { useId } from "react";

export type SegmentedOption<V extends string> = {
  value: V;
  label: string;
  tone?: "up" | "down";
  disabled?: boolean;
};

export type SegmentedProps<V extends string> = {
  label: string;
  options: readonly SegmentedOption<V>[];
  value: V;
  onChange: (value: V) => void;
  block?: boolean;
  disabled?: boolean;
  className?: string;
};

export function Segmented<V extends string>({
  label,
  options,
  value,
  onChange,
  block,
  disabled,
  className,
}: SegmentedProps<V>) {
  const name = useId();
  return (
    <fieldset className={`segmented ${block ? "segmented-block" : ""} ${className ?? ""}`}>
      <legend className="visually-hidden">{label}</legend>
      {options.map((option) => {
        const checked = option.value === value;
        return (
          <label
            key={option.value}
            className="segmented-option"
            data-checked={checked}
            data-tone={option.tone}
          >
            <input
              type="radio"
              className="visually-hidden"
              name={name}
              value={option.value}
              checked={checked}
              disabled={disabled || option.disabled}
              onChange={() => onChange(option.value)}
            />
            {option.label}
          </label>
        );
      })}
    </fieldset>
  );
}
