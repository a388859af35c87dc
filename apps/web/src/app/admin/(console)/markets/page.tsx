// Markets: every market's rules, fees and live halt; halt, resume, fees and listing. The list
// is read here first (admin.markets.list) and refreshed by the page.
import { MarketsAdmin } from "../../../../components/admin/markets-admin";
import { serverCaller } from "../../../../trpc/server";

export default async function MarketsAdminPage() {
  const markets = await serverCaller()
    .admin.markets.list()
    .catch(() => null);
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Markets</h1>
          <p className="muted">
            A halt reaches every process within a second through etcd; the reason is kept with it
            and in the audit log.
          </p>
        </div>
      </div>
      <MarketsAdmin initial={markets} />
    </>
  );
}
