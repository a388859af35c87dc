// Withdrawals: the approval queue and the decided ones.
import { WithdrawalsQueue } from "../../../../components/admin/withdrawals-queue";

export default function WithdrawalsPage() {
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Withdrawals</h1>
          <p className="muted">
            A withdrawal holds its amount in the user's locked balance until it is decided here.
          </p>
        </div>
      </div>
      <WithdrawalsQueue />
    </>
  );
}
