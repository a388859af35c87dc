CREATE TYPE "public"."account_kind" AS ENUM('user', 'external', 'fees', 'adjustment');--> statement-breakpoint
CREATE TYPE "public"."api_key_permission" AS ENUM('read', 'trade');--> statement-breakpoint
CREATE TYPE "public"."ledger_bucket" AS ENUM('available', 'locked');--> statement-breakpoint
CREATE TYPE "public"."order_finish_as" AS ENUM('open', 'filled', 'cancelled', 'ioc', 'poc', 'fok', 'stp', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."order_side" AS ENUM('buy', 'sell');--> statement-breakpoint
CREATE TYPE "public"."order_status" AS ENUM('pending', 'open', 'closed', 'cancelled', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."order_type" AS ENUM('limit', 'market');--> statement-breakpoint
CREATE TYPE "public"."reconciliation_finding_kind" AS ENUM('available_mismatch', 'locked_mismatch', 'hold_mismatch', 'asset_not_zero', 'transfer_not_zero');--> statement-breakpoint
CREATE TYPE "public"."reconciliation_status" AS ENUM('clean', 'mismatch');--> statement-breakpoint
CREATE TYPE "public"."stp_act" AS ENUM('cn', 'co', 'cb');--> statement-breakpoint
CREATE TYPE "public"."time_in_force" AS ENUM('gtc', 'ioc', 'poc', 'fok');--> statement-breakpoint
CREATE TYPE "public"."transfer_kind" AS ENUM('deposit', 'hold', 'release', 'order_hold', 'order_release', 'trade', 'withdrawal_hold', 'withdrawal_payout', 'withdrawal_return', 'adjustment');--> statement-breakpoint
CREATE TYPE "public"."withdrawal_status" AS ENUM('pending', 'completed', 'rejected');--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" "account_kind" NOT NULL,
	"user_id" bigint,
	"asset" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_identity" UNIQUE NULLS NOT DISTINCT("kind","user_id","asset"),
	CONSTRAINT "accounts_owner" CHECK (("accounts"."kind" = 'user') = ("accounts"."user_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"key" text NOT NULL,
	"secret_sealed" text NOT NULL,
	"permissions" "api_key_permission"[] NOT NULL,
	"ip_allowlist" text[],
	"label" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_unique" UNIQUE("key"),
	CONSTRAINT "api_keys_permissions_nonempty" CHECK (cardinality("api_keys"."permissions") > 0)
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor_id" bigint,
	"action" text NOT NULL,
	"subject" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "balances" (
	"account_id" bigint PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"asset" text NOT NULL,
	"available" bigint DEFAULT 0 NOT NULL,
	"locked" bigint DEFAULT 0 NOT NULL,
	"update_id" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "balances_user_asset" UNIQUE("user_id","asset"),
	CONSTRAINT "balances_non_negative" CHECK ("balances"."available" >= 0 AND "balances"."locked" >= 0)
);
--> statement-breakpoint
CREATE TABLE "engine_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"market" text NOT NULL,
	"seq" bigint NOT NULL,
	"input_offset" text NOT NULL,
	"state" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engine_snapshots_market_seq" UNIQUE("market","seq")
);
--> statement-breakpoint
CREATE TABLE "fencing_tokens" (
	"resource" text PRIMARY KEY NOT NULL,
	"last_token" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"transfer_id" bigint NOT NULL,
	"idx" smallint NOT NULL,
	"account_id" bigint NOT NULL,
	"asset" text NOT NULL,
	"bucket" "ledger_bucket" NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "ledger_entries_pk" PRIMARY KEY("transfer_id","idx"),
	CONSTRAINT "ledger_entries_amount_nonzero" CHECK ("ledger_entries"."amount" <> 0)
);
--> statement-breakpoint
CREATE TABLE "market_sequences" (
	"market" text PRIMARY KEY NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "market_sequences_non_negative" CHECK ("market_sequences"."last_seq" >= 0)
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"market" text NOT NULL,
	"side" "order_side" NOT NULL,
	"type" "order_type" NOT NULL,
	"time_in_force" time_in_force NOT NULL,
	"price_ticks" bigint,
	"amount" bigint NOT NULL,
	"filled_base_lots" bigint DEFAULT 0 NOT NULL,
	"filled_quote" bigint DEFAULT 0 NOT NULL,
	"fee" bigint DEFAULT 0 NOT NULL,
	"fee_asset" text NOT NULL,
	"hold_asset" text NOT NULL,
	"hold_amount" bigint NOT NULL,
	"hold_remaining" bigint NOT NULL,
	"status" "order_status" DEFAULT 'pending' NOT NULL,
	"finish_as" "order_finish_as" DEFAULT 'open' NOT NULL,
	"text" text,
	"stp_act" "stp_act",
	"reject_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_amount_positive" CHECK ("orders"."amount" > 0),
	CONSTRAINT "orders_price_by_type" CHECK (("orders"."type" = 'limit' AND "orders"."price_ticks" > 0) OR ("orders"."type" = 'market' AND "orders"."price_ticks" IS NULL)),
	CONSTRAINT "orders_market_time_in_force" CHECK ("orders"."type" = 'limit' OR "orders"."time_in_force" IN ('ioc', 'fok')),
	CONSTRAINT "orders_fills_non_negative" CHECK ("orders"."filled_base_lots" >= 0 AND "orders"."filled_quote" >= 0 AND "orders"."fee" >= 0),
	CONSTRAINT "orders_hold_range" CHECK ("orders"."hold_remaining" >= 0 AND "orders"."hold_remaining" <= "orders"."hold_amount"),
	CONSTRAINT "orders_ended_holds_nothing" CHECK ("orders"."status" IN ('pending', 'open') OR "orders"."hold_remaining" = 0),
	CONSTRAINT "orders_finish_matches_status" CHECK (("orders"."status" IN ('pending', 'open')) = ("orders"."finish_as" = 'open'))
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"key" text,
	"payload" jsonb NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "reconciliation_findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"kind" "reconciliation_finding_kind" NOT NULL,
	"user_id" bigint,
	"asset" text,
	"transfer_id" bigint,
	"expected" bigint NOT NULL,
	"actual" bigint NOT NULL,
	"detail" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" "reconciliation_status" NOT NULL,
	"fencing_token" bigint,
	"accounts_checked" integer NOT NULL,
	"entries_checked" bigint NOT NULL,
	"findings_count" integer NOT NULL,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trades" (
	"market" text NOT NULL,
	"id" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"maker_order_id" bigint NOT NULL,
	"taker_order_id" bigint NOT NULL,
	"maker_user_id" bigint NOT NULL,
	"taker_user_id" bigint NOT NULL,
	"taker_side" "order_side" NOT NULL,
	"price_ticks" bigint NOT NULL,
	"qty_lots" bigint NOT NULL,
	"quote_amount" bigint NOT NULL,
	"buyer_fee" bigint NOT NULL,
	"seller_fee" bigint NOT NULL,
	"transfer_id" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "trades_pk" PRIMARY KEY("market","id"),
	CONSTRAINT "trades_amounts_positive" CHECK ("trades"."price_ticks" > 0 AND "trades"."qty_lots" > 0 AND "trades"."quote_amount" > 0),
	CONSTRAINT "trades_fees_non_negative" CHECK ("trades"."buyer_fee" >= 0 AND "trades"."seller_fee" >= 0)
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" "transfer_kind" NOT NULL,
	"ref" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transfers_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "withdrawals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"asset" text NOT NULL,
	"amount" bigint NOT NULL,
	"address" text NOT NULL,
	"ref" text NOT NULL,
	"status" "withdrawal_status" DEFAULT 'pending' NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" bigint,
	"reason" text,
	CONSTRAINT "withdrawals_ref_unique" UNIQUE("ref"),
	CONSTRAINT "withdrawals_amount_positive" CHECK ("withdrawals"."amount" > 0),
	CONSTRAINT "withdrawals_decision" CHECK (("withdrawals"."status" = 'pending') = ("withdrawals"."decided_at" IS NULL AND "withdrawals"."decided_by" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_asset_assets_symbol_fk" FOREIGN KEY ("asset") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balances" ADD CONSTRAINT "balances_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balances" ADD CONSTRAINT "balances_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balances" ADD CONSTRAINT "balances_asset_assets_symbol_fk" FOREIGN KEY ("asset") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_snapshots" ADD CONSTRAINT "engine_snapshots_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_sequences" ADD CONSTRAINT "market_sequences_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_fee_asset_assets_symbol_fk" FOREIGN KEY ("fee_asset") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_hold_asset_assets_symbol_fk" FOREIGN KEY ("hold_asset") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ADD CONSTRAINT "reconciliation_findings_run_id_reconciliation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."reconciliation_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trades" ADD CONSTRAINT "trades_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "withdrawals" ADD CONSTRAINT "withdrawals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "withdrawals" ADD CONSTRAINT "withdrawals_asset_assets_symbol_fk" FOREIGN KEY ("asset") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "withdrawals" ADD CONSTRAINT "withdrawals_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_user" ON "api_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "audit_log_subject" ON "audit_log" USING btree ("subject","id");--> statement-breakpoint
CREATE INDEX "audit_log_created" ON "audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "ledger_entries_account" ON "ledger_entries" USING btree ("account_id","transfer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_user_text" ON "orders" USING btree ("user_id","text") WHERE "orders"."text" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "orders_user_market_live" ON "orders" USING btree ("user_id","market") WHERE "orders"."status" IN ('pending', 'open');--> statement-breakpoint
CREATE INDEX "orders_user_created" ON "orders" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "outbox_unsent" ON "outbox" USING btree ("id") WHERE "outbox"."sent_at" IS NULL;--> statement-breakpoint
CREATE INDEX "reconciliation_findings_run" ON "reconciliation_findings" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "trades_maker_user" ON "trades" USING btree ("maker_user_id","market","id");--> statement-breakpoint
CREATE INDEX "trades_taker_user" ON "trades" USING btree ("taker_user_id","market","id");--> statement-breakpoint
CREATE INDEX "withdrawals_pending" ON "withdrawals" USING btree ("user_id","asset") WHERE "withdrawals"."status" = 'pending';