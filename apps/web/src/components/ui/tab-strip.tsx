"use client";
// TabStrip: an ARIA tablist alone, for one panel whose content follows the choice (the order
// form's Limit / Market / Stop-limit) — where <Tabs> would render a panel per tab. The caller
// gives the panel `role="tabpanel"`, `id={panelId}` and `aria-labelledby={tabId(value)}`.
// Arrow keys move and select, Home/End jump; only the selected tab is in the Tab order.
import { type ReactNode, useRef } from "react";

export type TabStripProps<V extends string> = {
  label: string;
  items: readonly { value: V; label: ReactNode }[];
  value: V;
  onChange: (value: V) => void;
  /** The id prefix of the tabs (`${idPrefix}-tab-${value}`). */
  idPrefix: string;
  panelId: string;
  disabled?: boolean;
};

export const tabIdOf = (idPrefix: string, value: string) => `${idPrefix}-tab-${value}`;

export function TabStrip<V extends string>({
  label,
  items,
  value,
  onChange,
  idPrefix,
  panelId,
  disabled,
}: TabStripProps<V>) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const focusAt = (index: number) => {
    const at = (index + items.length) % items.length;
    const item = items[at];
    if (!item) return;
    onChange(item.value);
    refs.current[at]?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className="tab-strip">
      {items.map((item, i) => {
        const selected = item.value === value;
        return (
          <button
            key={item.value}
            ref={(element) => {
              refs.current[i] = element;
            }}
            type="button"
            role="tab"
            id={tabIdOf(idPrefix, item.value)}
            aria-selected={selected}
            aria-controls={panelId}
            tabIndex={selected ? 0 : -1}
            disabled={disabled}
            className="tab"
            onClick={() => onChange(item.value)}
            onKeyDown={(event) => {
              const keys: Record<string, number> = {
                ArrowRight: i + 1,
                ArrowLeft: i - 1,
                Home: 0,
                End: items.length - 1,
              };
              const target = keys[event.key];
              if (target === undefined) return;
              event.preventDefault();
              focusAt(target);
            }}
          >
            {item.label}
          </button>
        );
      })}
    </div>
  );
}
