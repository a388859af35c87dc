// The audit log, filtered by action or area, subject and operator; `?subject=user:42` opens it
// on one subject.
import { AuditLog } from "../../../../components/admin/audit-log";

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const subject = (await searchParams).subject;
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted">
            Every operator action, with the state before and after, the reason, and where it came
            from (hover the operator). Hash-chained; reconciliation verifies the chain.
          </p>
        </div>
      </div>
      <AuditLog initialSubject={typeof subject === "string" ? subject.slice(0, 200) : undefined} />
    </>
  );
}
