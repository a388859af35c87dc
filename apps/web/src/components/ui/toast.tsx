"use client";
// Toasts: short notices in the corner (an order placed, a refusal with its label). Wrap the
// app in <ToastProvider>; call `useToast()(…)` anywhere below it. Each toast is announced
// (aria-live), closes itself after `durationMs` (errors stay twice as long) or by its button.
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";

export type ToastTone = "success" | "error" | "info";
export type ToastInput = { tone?: ToastTone; title: string; message?: string; durationMs?: number };
type Toast = ToastInput & { id: number; tone: ToastTone };

const ToastContext = createContext<((toast: ToastInput) => void) | null>(null);

let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => {
    setToasts((list) => list.filter((toast) => toast.id !== id));
  }, []);
  const show = useCallback(
    (input: ToastInput) => {
      const toast: Toast = { ...input, tone: input.tone ?? "info", id: nextId++ };
      // Newest last, at most four on screen.
      setToasts((list) => [...list.slice(-3), toast]);
      const duration = input.durationMs ?? (toast.tone === "error" ? 8_000 : 4_000);
      window.setTimeout(() => dismiss(toast.id), duration);
    },
    [dismiss],
  );
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" aria-live="polite" aria-relevant="additions">
        {toasts.map((toast) => (
          <div
            key={toast.id}
            className={`toast toast-${toast.tone}`}
            role={toast.tone === "error" ? "alert" : "status"}
            data-testid="toast"
          >
            <div className="toast-text">
              <div className="toast-title">{toast.title}</div>
              {toast.message ? <div className="muted">{toast.message}</div> : null}
            </div>
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              aria-label="Dismiss"
              onClick={() => dismiss(toast.id)}
            >
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): (toast: ToastInput) => void {
  const show = useContext(ToastContext);
  if (!show) throw new Error("useToast needs a <ToastProvider> above it");
  return show;
}
