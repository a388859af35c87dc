// Panel: a bordered box with an optional title row (title on the left, `actions` on the right)
// and a body. `flush` drops the body's padding (tables, charts that fill the panel).
import type { HTMLAttributes, ReactNode } from "react";

export type PanelProps = Omit<HTMLAttributes<HTMLElement>, "title"> & {
  title?: ReactNode;
  actions?: ReactNode;
  flush?: boolean;
  /** Heading level of the title, for the page's outline. */
  headingLevel?: 2 | 3;
};

export function Panel({
  title,
  actions,
  flush,
  headingLevel = 2,
  className,
  children,
  ...props
}: PanelProps) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section className={`panel ${className ?? ""}`} {...props}>
      {title !== undefined || actions !== undefined ? (
        <div className="panel-head">
          {title !== undefined ? <Heading>{title}</Heading> : <span />}
          {actions}
        </div>
      ) : null}
      <div className={`panel-body ${flush ? "panel-flush" : ""}`}>{children}</div>
    </section>
  );
}
