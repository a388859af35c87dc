-- gate.io's price-triggered orders (/spot/price_orders): what waits, what fired, what it placed.
CREATE TYPE "public"."price_order_status" AS ENUM('open', 'triggered', 'cancelled', 'finish', 'failed', 'expired');--> statement-breakpoint
CREATE TYPE "public"."price_trigger_rule" AS ENUM('gte', 'lte');--> statement-breakpoint
CREATE TABLE "price_orders" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"market" text NOT NULL,
	"trigger_price_ticks" bigint NOT NULL,
	"rule" "price_trigger_rule" NOT NULL,
	"expiration_seconds" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone,
	"side" "order_side" NOT NULL,
	"type" "order_type" NOT NULL,
	"price_ticks" bigint,
	"amount" bigint NOT NULL,
	"time_in_force" time_in_force NOT NULL,
	"text" text,
	"status" "price_order_status" DEFAULT 'open' NOT NULL,
	"reason" text,
	"fired_order_id" bigint,
	"fired_seq" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "price_orders" ADD CONSTRAINT "price_orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "price_orders" ADD CONSTRAINT "price_orders_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "price_orders" ADD CONSTRAINT "price_orders_fired_order_id_orders_id_fk" FOREIGN KEY ("fired_order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "price_orders_user" ON "price_orders" USING btree ("user_id","status","id");--> statement-breakpoint
CREATE INDEX "price_orders_waiting" ON "price_orders" USING btree ("status","expires_at") WHERE "price_orders"."status" IN ('open', 'triggered');--> statement-breakpoint
-- The app role changes price orders as it changes orders (re-applied after every migration run).
CREATE OR REPLACE FUNCTION spotx_grant_app(app_role name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_role);
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', app_role);
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', app_role);
  -- Append-only: read and add, never change or remove.
  EXECUTE format('GRANT SELECT, INSERT ON accounts, transfers, ledger_entries, trades, audit_log,
                  reconciliation_runs, reconciliation_findings, settlement_batches TO %I', app_role);
  -- Live state the services change.
  EXECUTE format('GRANT SELECT, INSERT, UPDATE ON users, markets, balances, orders,
                  market_sequences, candles, fencing_tokens, withdrawals, api_keys, price_orders
                  TO %I', app_role);
  -- The outbox relay marks rows sent and prunes old sent rows; old snapshots are pruned.
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO %I', app_role);
  EXECUTE format('GRANT SELECT, INSERT, DELETE ON engine_snapshots TO %I', app_role);
  -- Assets are added and switched on or off; their decimals never change (trigger), and the
  -- app role cannot even try.
  EXECUTE format('GRANT SELECT, INSERT ON assets TO %I', app_role);
  EXECUTE format('GRANT UPDATE (name, deposit_enabled, withdraw_enabled) ON assets TO %I', app_role);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app_role);
END $$;
