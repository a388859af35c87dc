// Banner: a full-width notice above content (a halted market, a disconnected feed, a
// one-time secret). `tone`: info, warning, danger. Warnings and dangers are announced
// (role="alert"); info is a polite status.
import type { ReactNode } from "react";

export type BannerProps = {
  tone?: "info" | "warning" | "danger";
  title?: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
  testId?: string;
};

export function Banner({ tone = "info", title, children, action, testId }: BannerProps) {
  return (
    <div
      className={`banner ${tone === "info" ? "" : `banner-${tone}`}`}
      role={tone === "info" ? "status" : "alert"}
      data-testid={testId}
    >
      <div style={{ flex: 1, minWidth: 0 }}>
        {title ? <div className="banner-title">{title}</div> : null}
        {children ? <div>{children}</div> : null}
      </div>
      {action}
    </div>
  );
}
