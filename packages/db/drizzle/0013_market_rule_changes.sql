-- Changing a listed market's rules (issue 19, docs/decisions/006). Prices and amounts stay
-- stored in the units the market listed with (10^-price_precision, 10^-amount_precision); what
-- an operator changes is the STEP measured in them: a tick of price_step_ticks units, a lot of
-- amount_step_lots units. listed_rules keeps the engine rules the market listed with, written by
-- settlement when it applies the first change: an engine rebuilt from the start of the log must
-- start from them, not from the row's current rules. Orders a change cancelled say why
-- (`finish_as` market_rules; gate.io's wire shows them "cancelled").
-- ADD VALUE commits with the migration; nothing here uses the new value in the same transaction.
ALTER TYPE "public"."order_finish_as" ADD VALUE IF NOT EXISTS 'market_rules';--> statement-breakpoint
ALTER TABLE "markets" ADD COLUMN IF NOT EXISTS "price_step_ticks" bigint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "markets" ADD COLUMN IF NOT EXISTS "amount_step_lots" bigint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "markets" ADD COLUMN IF NOT EXISTS "listed_rules" jsonb;--> statement-breakpoint
ALTER TABLE "markets" DROP CONSTRAINT IF EXISTS "markets_steps_positive";--> statement-breakpoint
ALTER TABLE "markets" ADD CONSTRAINT "markets_steps_positive" CHECK ("markets"."price_step_ticks" >= 1 AND "markets"."amount_step_lots" >= 1);
