-- Delisting (issue 19): a market an operator delisted is `closed` for good — no order is placed
-- in it again, its history (orders, trades, candles, ledger) stays — and the orders the
-- delisting cancelled say why (`finish_as` delisted; gate.io's wire shows them "cancelled").
-- ADD VALUE commits with the migration; nothing here uses the new values in the same transaction.
ALTER TYPE "public"."market_status" ADD VALUE IF NOT EXISTS 'closed';--> statement-breakpoint
ALTER TYPE "public"."order_finish_as" ADD VALUE IF NOT EXISTS 'delisted';
