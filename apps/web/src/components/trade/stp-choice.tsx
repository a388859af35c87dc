"use client";
// Self-trade prevention in the order form, under an "Advanced" disclosure: what happens when a
// new order would trade with one of the trader's own resting orders — nothing special (the
// default), cancel the new one, cancel the resting one, or cancel both. The choice goes to
// orders.place as `stpAct` (gate.io's stp_act: cn, co, cb) and is remembered in this browser.
import { useCallback, useEffect, useState } from "react";
import { Field } from "../ui/field";
import { Select } from "../ui/select";

export type StpChoice = "none" | "cn" | "co" | "cb";

/** The localStorage key of the remembered choice. */
export const STP_STORAGE_KEY = "spotx.stpAct";

const CHOICES: { value: StpChoice; label: string; summary: string; explain: string }[] = [
  {
    value: "none",
    label: "None",
    summary: "self-trade prevention off",
    explain: "Your orders may trade with each other, like anyone else's.",
  },
  {
    value: "cn",
    label: "Cancel newest",
    summary: "self-trade: cancel newest",
    explain: "If this order would trade with one of yours, this order is cancelled.",
  },
  {
    value: "co",
    label: "Cancel oldest",
    summary: "self-trade: cancel oldest",
    explain: "If this order would trade with one of yours, your resting order is cancelled.",
  },
  {
    value: "cb",
    label: "Cancel both",
    summary: "self-trade: cancel both",
    explain: "If this order would trade with one of yours, both are cancelled.",
  },
];

const isStpChoice = (value: unknown): value is StpChoice =>
  CHOICES.some((choice) => choice.value === value);

/** The choice as orders.place takes it: absent for none. */
export const stpActOf = (choice: StpChoice) => (choice === "none" ? undefined : choice);

/** The remembered choice (read after mounting: the server render has no localStorage). */
export function useStpChoice(): [StpChoice, (next: StpChoice) => void] {
  const [choice, setChoice] = useState<StpChoice>("none");
  useEffect(() => {
    try {
      const stored = window.localStorage.getItem(STP_STORAGE_KEY);
      if (isStpChoice(stored)) setChoice(stored);
    } catch {
      // Storage blocked (private mode, a policy): the choice lasts for this page only.
    }
  }, []);
  const choose = useCallback((next: StpChoice) => {
    setChoice(next);
    try {
      if (next === "none") window.localStorage.removeItem(STP_STORAGE_KEY);
      else window.localStorage.setItem(STP_STORAGE_KEY, next);
    } catch {
      // As above: not remembered, still used.
    }
  }, []);
  return [choice, choose];
}

export function AdvancedOrderOptions({
  id,
  stp,
  onStpChange,
}: {
  id: string;
  stp: StpChoice;
  onStpChange: (next: StpChoice) => void;
}) {
  const current = CHOICES.find((choice) => choice.value === stp) ?? CHOICES[0];
  return (
    <details className="order-advanced" data-testid="order-advanced">
      <summary>
        Advanced
        <span className="muted"> · {current?.summary}</span>
      </summary>
      <Field id={`${id}-stp`} label="Self-trade prevention" hint={current?.explain}>
        <Select
          id={`${id}-stp`}
          aria-describedby={`${id}-stp-hint`}
          value={stp}
          options={CHOICES}
          onValueChange={(value) => {
            if (isStpChoice(value)) onStpChange(value);
          }}
        />
      </Field>
    </details>
  );
}
