// The account router: the signed-in user's money (balances, ledger history, demo deposits,
// withdrawals) and their API keys.
import { router } from "../../trpc";
import { apiKeysRouter } from "./api-keys";
import { balances } from "./balances";
import { demoDeposit } from "./demo-deposit";
import { ledger } from "./ledger-history";
import { requestWithdrawal, withdrawal, withdrawals } from "./withdrawals";

export const accountRouter = router({
  balances,
  ledger,
  demoDeposit,
  requestWithdrawal,
  withdrawals,
  withdrawal,
  apiKeys: apiKeysRouter,
});
