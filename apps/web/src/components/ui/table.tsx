// Table: the kit's data table — a scrolling wrapper, a header row from `columns`, and rows from
// the caller. `state` renders the loading, empty or error row in place of the body, so every
// table says why it has nothing to show. Cells holding numbers take `num` (right-aligned,
// tabular digits).
import type { ReactNode, TdHTMLAttributes, ThHTMLAttributes } from "react";
import { Spinner } from "./state-message";

/** `wide`: a column dropped at phone width (give its cells the `col-wide` class too). */
export type TableColumn = {
  key: string;
  label: ReactNode;
  num?: boolean;
  hidden?: boolean;
  wide?: boolean;
};

export type TableState =
  | { kind: "loading"; message?: string }
  | { kind: "empty"; message: string }
  | { kind: "error"; message: string }
  | { kind: "ready" };

export type TableProps = {
  label: string;
  columns: readonly TableColumn[];
  state: TableState;
  children?: ReactNode;
  className?: string;
  testId?: string;
};

export function Table({ label, columns, state, children, className, testId }: TableProps) {
  const shown = columns.filter((c) => !c.hidden);
  return (
    <div className={`table-wrap ${className ?? ""}`} data-testid={testId}>
      <table className="table" aria-label={label} aria-busy={state.kind === "loading"}>
        <thead>
          <tr>
            {shown.map((column) => (
              <th
                key={column.key}
                scope="col"
                className={`${column.num ? "num-col" : ""} ${column.wide ? "col-wide" : ""}`}
              >
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {state.kind === "ready" ? (
            children
          ) : (
            <tr className="table-message">
              <td colSpan={shown.length} className={state.kind === "error" ? "down" : undefined}>
                {state.kind === "loading" ? (
                  <span style={{ display: "inline-flex", gap: 8, alignItems: "center" }}>
                    <Spinner /> {state.message ?? "Loading…"}
                  </span>
                ) : (
                  state.message
                )}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A body cell; `num` right-aligns tabular digits. */
export function Td({
  num,
  className,
  ...props
}: TdHTMLAttributes<HTMLTableCellElement> & { num?: boolean }) {
  return <td className={`${num ? "num num-col" : ""} ${className ?? ""}`} {...props} />;
}

/** A row header cell (the row's name: a market, an asset). */
export function Th({ className, ...props }: ThHTMLAttributes<HTMLTableCellElement>) {
  return <th scope="row" className={className} {...props} />;
}

/** The table state of a query: loading, error (its message), empty (`emptyMessage`) or ready. */
export function tableStateOf(
  query: { isPending: boolean; isError: boolean; error: { message: string } | null },
  rows: number,
  emptyMessage: string,
): TableState {
  if (query.isPending) return { kind: "loading" };
  if (query.isError) return { kind: "error", message: query.error?.message ?? "Could not load." };
  if (rows === 0) return { kind: "empty", message: emptyMessage };
  return { kind: "ready" };
}
