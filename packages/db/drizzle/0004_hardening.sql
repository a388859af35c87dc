ALTER TYPE "public"."reconciliation_finding_kind" ADD VALUE 'trade_mismatch';--> statement-breakpoint
ALTER TYPE "public"."reconciliation_finding_kind" ADD VALUE 'order_fill_mismatch';--> statement-breakpoint
ALTER TYPE "public"."reconciliation_finding_kind" ADD VALUE 'order_hold_mismatch';--> statement-breakpoint
ALTER TYPE "public"."reconciliation_finding_kind" ADD VALUE 'sequence_mismatch';--> statement-breakpoint
ALTER TYPE "public"."reconciliation_finding_kind" ADD VALUE 'audit_chain_broken';--> statement-breakpoint
CREATE TABLE "settlement_batches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"market" text NOT NULL,
	"first_seq" bigint NOT NULL,
	"last_seq" bigint NOT NULL,
	"epoch" bigint,
	"events_offset" bigint,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "settlement_batches_market_first" UNIQUE("market","first_seq"),
	CONSTRAINT "settlement_batches_range" CHECK ("settlement_batches"."first_seq" >= 1 AND "settlement_batches"."last_seq" >= "settlement_batches"."first_seq")
);
--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ALTER COLUMN "expected" SET DATA TYPE numeric(40, 0);--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ALTER COLUMN "actual" SET DATA TYPE numeric(40, 0);--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "prev_hash" "bytea";--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "hash" "bytea";--> statement-breakpoint
ALTER TABLE "fencing_tokens" ADD COLUMN "last_owner" text;--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD COLUMN "audit_head_id" bigint;--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD COLUMN "audit_head_hash" "bytea";--> statement-breakpoint
ALTER TABLE "settlement_batches" ADD CONSTRAINT "settlement_batches_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assets" ADD CONSTRAINT "assets_supply_fits_balance" CHECK ("assets"."decimals" <= 9);