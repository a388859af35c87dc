"use client";
// Tabs: an ARIA tablist with its panels. Controlled (`value` + `onChange`) or not
// (`defaultValue`). Arrow keys move between tabs, Home/End jump; only the selected panel is
// rendered. Each tab is {value, label, content}; `actions` sit at the end of the tab row.
import { type ReactNode, useId, useRef, useState } from "react";

export type TabItem<V extends string> = { value: V; label: ReactNode; content: ReactNode };

export type TabsProps<V extends string> = {
  label: string;
  items: readonly TabItem<V>[];
  value?: V;
  defaultValue?: V;
  onChange?: (value: V) => void;
  actions?: ReactNode;
  className?: string;
};

export function Tabs<V extends string>({
  label,
  items,
  value,
  defaultValue,
  onChange,
  actions,
  className,
}: TabsProps<V>) {
  const id = useId();
  const [own, setOwn] = useState<V | undefined>(defaultValue ?? items[0]?.value);
  const selected = value ?? own;
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const select = (next: V) => {
    setOwn(next);
    onChange?.(next);
  };
  const focusAt = (index: number) => {
    const item = items[(index + items.length) % items.length];
    if (!item) return;
    select(item.value);
    refs.current[(index + items.length) % items.length]?.focus();
  };
  const current = items.find((item) => item.value === selected) ?? items[0];
  return (
    <div className={className}>
      <div className="tabs-list" style={{ alignItems: "center" }}>
        <div role="tablist" aria-label={label} style={{ display: "flex", gap: 2, flex: 1 }}>
          {items.map((item, i) => {
            const isSelected = item.value === current?.value;
            return (
              <button
                key={item.value}
                ref={(element) => {
                  refs.current[i] = element;
                }}
                type="button"
                role="tab"
                id={`${id}-tab-${item.value}`}
                aria-selected={isSelected}
                aria-controls={`${id}-panel-${item.value}`}
                tabIndex={isSelected ? 0 : -1}
                className="tab"
                onClick={() => select(item.value)}
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
        {actions ? <div style={{ paddingRight: 8 }}>{actions}</div> : null}
      </div>
      {current ? (
        <div
          role="tabpanel"
          id={`${id}-panel-${current.value}`}
          aria-labelledby={`${id}-tab-${current.value}`}
          className="tab-panel"
        >
          {current.content}
        </div>
      ) : null}
    </div>
  );
}
