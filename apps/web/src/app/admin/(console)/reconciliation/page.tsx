// Reconciliation: run now, the history of runs, and their findings.
import { ReconciliationView } from "../../../../components/admin/reconciliation-view";

export default function ReconciliationPage() {
  return <ReconciliationView />;
}
