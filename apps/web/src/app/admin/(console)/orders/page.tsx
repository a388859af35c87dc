// Orders and trades: search either with filters, cancel a live order. The market list for the
// filters is read here; the searches run as the operator changes them.
import { OrdersAndTrades } from "../../../../components/admin/orders-search";
import { serverCaller } from "../../../../trpc/server";

export default async function OrdersPage() {
  const markets = await serverCaller()
    .admin.markets.list()
    .catch(() => []);
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Orders and trades</h1>
          <p className="muted">Every user's orders and every trade, newest first.</p>
        </div>
      </div>
      <OrdersAndTrades markets={markets.map((m) => m.symbol)} />
    </>
  );
}
