// The operator console's router: everything under `admin` is operatorProcedure (an active
// operator's session), and every change an operator makes is written to the audit log.
import { router } from "../../trpc";
import { createAssetProcedure, listAssetsProcedure } from "./assets";
import { searchAuditProcedure } from "./audit";
import { breakersProcedure } from "./breakers";
import { kafkaProcedure } from "./kafka";
import { locksProcedure } from "./locks";
import { changeRulesProcedure } from "./markets/change-rules";
import { createMarketProcedure } from "./markets/create";
import { delistMarketProcedure } from "./markets/delist";
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
import { revokeApiKeyProcedure, userApiKeysProcedure } from "./users/api-keys";
import { userDetailProcedure } from "./users/detail";
import { freezeUserProcedure, unfreezeUserProcedure } from "./users/freeze";
import { userLedgerProcedure } from "./users/ledger";
import { searchUsersProcedure } from "./users/search";
import { endSessionProcedure, userSessionsProcedure } from "./users/sessions";
import { approveWithdrawalProcedure, rejectWithdrawalProcedure } from "./withdrawals/decide";
import { withdrawalQueueProcedure } from "./withdrawals/queue";

export const adminRouter = router({
  services: listServicesProcedure,
  kafka: kafkaProcedure,
  locks: locksProcedure,
  breakers: breakersProcedure,
  rateLimits: rateLimitsProcedure,
  assets: router({
    list: listAssetsProcedure,
    create: createAssetProcedure,
  }),
  markets: router({
    list: listMarketsProcedure,
    create: createMarketProcedure,
    halt: haltMarketProcedure,
    resume: resumeMarketProcedure,
    delist: delistMarketProcedure,
    changeRules: changeRulesProcedure,
  }),
  users: router({
    search: searchUsersProcedure,
    detail: userDetailProcedure,
    ledger: userLedgerProcedure,
    freeze: freezeUserProcedure,
    unfreeze: unfreezeUserProcedure,
    adjustBalance: adjustBalanceProcedure,
    sessions: userSessionsProcedure,
    endSession: endSessionProcedure,
    apiKeys: userApiKeysProcedure,
    revokeApiKey: revokeApiKeyProcedure,
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
