// The operator console's router: everything under `admin` is operatorProcedure (an active
// operator's session), and every change an operator makes is written to the audit log.
import { router } from "../../trpc";
import { searchAuditProcedure } from "./audit";
import { breakersProcedure } from "./breakers";
import { kafkaProcedure } from "./kafka";
import { locksProcedure } from "./locks";
import { createMarketProcedure } from "./markets/create";
import { setFeesProcedure } from "./markets/fees";
import { haltMarketProcedure, resumeMarketProcedure } from "./markets/halt";
import { listMarketsProcedure } from "./markets/list";
import { cancelOrderProcedure } from "./orders/cancel";
import { searchOrdersProcedure } from "./orders/search";
import { rateLimitsProcedure } from "./rate-limits";
import { runReconciliationProcedure } from "./reconciliation/run";
import {
  reconciliationFindingsProcedure,
  reconciliationRunsProcedure,
} from "./reconciliation/runs";
import { listServicesProcedure } from "./services";
import { searchTradesProcedure } from "./trades";
import { adjustBalanceProcedure } from "./users/adjust-balance";
import { userDetailProcedure } from "./users/detail";
import { freezeUserProcedure, unfreezeUserProcedure } from "./users/freeze";
import { userLedgerProcedure } from "./users/ledger";
import { searchUsersProcedure } from "./users/search";
import { approveWithdrawalProcedure, rejectWithdrawalProcedure } from "./withdrawals/decide";
import { withdrawalQueueProcedure } from "./withdrawals/queue";

export const adminRouter = router({
  services: listServicesProcedure,
  kafka: kafkaProcedure,
  locks: locksProcedure,
  breakers: breakersProcedure,
  rateLimits: rateLimitsProcedure,
  markets: router({
    list: listMarketsProcedure,
    create: createMarketProcedure,
    halt: haltMarketProcedure,
    resume: resumeMarketProcedure,
    setFees: setFeesProcedure,
  }),
  users: router({
    search: searchUsersProcedure,
    detail: userDetailProcedure,
    ledger: userLedgerProcedure,
    freeze: freezeUserProcedure,
    unfreeze: unfreezeUserProcedure,
    adjustBalance: adjustBalanceProcedure,
  }),
  orders: router({
    search: searchOrdersProcedure,
    cancel: cancelOrderProcedure,
  }),
  trades: router({
    search: searchTradesProcedure,
  }),
  withdrawals: router({
    queue: withdrawalQueueProcedure,
    approve: approveWithdrawalProcedure,
    reject: rejectWithdrawalProcedure,
  }),
  reconciliation: router({
    run: runReconciliationProcedure,
    runs: reconciliationRunsProcedure,
    findings: reconciliationFindingsProcedure,
  }),
  audit: router({
    search: searchAuditProcedure,
  }),
});
