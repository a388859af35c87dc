CREATE TABLE "candles" (
	"market" text NOT NULL,
	"interval" text NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"open" bigint NOT NULL,
	"high" bigint NOT NULL,
	"low" bigint NOT NULL,
	"close" bigint NOT NULL,
	"base_amount" bigint NOT NULL,
	"quote_amount" bigint NOT NULL,
	"trades" integer NOT NULL,
	"last_seq" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "candles_pk" PRIMARY KEY("market","interval","start_time"),
	CONSTRAINT "candles_interval" CHECK ("interval" IN ('10s', '1m', '5m', '15m', '30m', '1h', '4h', '8h', '1d', '7d', '30d')),
	CONSTRAINT "candles_prices" CHECK ("candles"."low" > 0 AND "candles"."low" <= "candles"."open" AND "candles"."low" <= "candles"."close" AND "candles"."high" >= "candles"."open" AND "candles"."high" >= "candles"."close"),
	CONSTRAINT "candles_amounts" CHECK ("candles"."base_amount" > 0 AND "candles"."quote_amount" > 0 AND "candles"."trades" > 0)
);
--> statement-breakpoint
ALTER TABLE "engine_snapshots" ADD COLUMN "events_offset" bigint;--> statement-breakpoint
ALTER TABLE "market_sequences" ADD COLUMN "last_epoch" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "market_sequences" ADD COLUMN "last_offset" bigint;--> statement-breakpoint
ALTER TABLE "candles" ADD CONSTRAINT "candles_market_markets_symbol_fk" FOREIGN KEY ("market") REFERENCES "public"."markets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_market_live" ON "orders" USING btree ("market","status") WHERE "orders"."status" IN ('pending', 'open');--> statement-breakpoint
CREATE INDEX "trades_market_created" ON "trades" USING btree ("market","created_at");