// @spotx/db's public surface. Every function here checks its input and refuses with a
// LedgerError label, never a raw PostgreSQL or JavaScript error (test/fuzz.test.ts throws random
// input at each). The ledger's internals (planning, set-based writers, retry helpers) stay
// inside the package.

export type {
  AccountBookEntry,
  AccountBookQuery,
  AccountBookSource,
} from "./account-book";
export {
  ACCOUNT_BOOK_MAX_LIMIT,
  ACCOUNT_BOOK_MAX_OFFSET,
  ACCOUNT_BOOK_SOURCES,
  accountBook,
} from "./account-book";
export type { ApiKey, ApiKeyPermission, ApiKeyReplayMode } from "./apiKeys";
export {
  API_KEY_REPLAY_MODES,
  createApiKey,
  findApiKey,
  openSecret,
  revokeApiKey,
  sealSecret,
} from "./apiKeys";
export type { AuditOrigin } from "./audit-origin";
export type { CandleInterval } from "./candles";
export { CANDLE_INTERVALS, candleStart, isCandleInterval } from "./candles";
export type { Database, Transaction } from "./client";
export { createDatabase, database } from "./client";
export type { DatabaseUrls } from "./env";
export { DEFAULT_OWNER_URL, databaseUrls } from "./env";
export type { LedgerLabel } from "./errors";
export { isLedgerError, LEDGER_LABELS, LedgerError } from "./errors";
export type { Fence } from "./fencing";
export { ACCOUNT_LOCK_TTL_MS, checkFence, withAccountLock } from "./fencing";
export type {
  AdjustInput,
  Balance,
  Bucket,
  Entry,
  SystemAccountKind,
  TransferKind,
  TransferOutcome,
} from "./ledger";
export {
  accountLockResource,
  adjust,
  adjustWithLock,
  deposit,
  holdFunds,
  postTransfer,
  releaseFunds,
  systemAccountId,
  TRANSFER_KINDS,
  userAccountId,
  writeAudit,
} from "./ledger";
export { loadMarketRules } from "./market-rules";
export type { MarketSpec, NewAsset, NewMarket } from "./markets";
export {
  createAsset,
  createMarket,
  type Delisting,
  delistMarket,
  loadMarket,
  loadMarkets,
  MAX_ASSET_DECIMALS,
} from "./markets";
export { migrateDatabase, migrationsFolder } from "./migrate";
export type { Order, OrderType, PlaceOrderInput, TimeInForce } from "./orders";
export {
  jsonSafe,
  ordersByText,
  TEXT_LOOKUP_AFTER_FINISH_MS,
  type TextName,
} from "./orders";
export type { PasswordCost } from "./passwords";
export { hashPassword, PASSWORD_COST, passwordNeedsRehash, verifyPassword } from "./passwords";
export type { PlacedOrder, PlaceResult } from "./placement";
export { MAX_PLACE_BATCH, placeOrderHold, placeOrders } from "./placement";
export type { ExclusiveOutcome, Finding, FindingKind, ReconciliationRun } from "./reconciliation";
export {
  RECONCILIATION_LOCK,
  reconciliationMetrics,
  runReconciliation,
  runReconciliationExclusive,
} from "./reconciliation";
export * as schema from "./schema";
export type { SeedResult } from "./seed";
export { DEMO_ASSETS, DEMO_BALANCES, DEMO_MARKETS, DEMO_USERS, seedDemo } from "./seed";
export type {
  BatchOptions,
  BatchResult,
  FinishAs,
  OrderChange,
  OrderStatus,
  SettledTrade,
  SettlementChanges,
  SettlementEvent,
  Side,
  TradeEvent,
  TradeSettlement,
} from "./settlement";
export { applySettlementBatch, settleTrade } from "./settlement";
export type { MarketScales, MarketUnits } from "./units";
export {
  feeFor,
  formatMinor,
  lotsToBaseMinor,
  marketScales,
  PPM,
  parseDecimal,
  quoteMinorFor,
} from "./units";
export type { DecideWithdrawalInput, Withdrawal, WithdrawalOutcome } from "./withdrawals";
export { decideWithdrawal, decideWithdrawalFenced, requestWithdrawal } from "./withdrawals";
