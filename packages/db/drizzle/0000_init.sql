CREATE TYPE "public"."market_status" AS ENUM('trading', 'halted');--> statement-breakpoint
CREATE TYPE "public"."user_role" AS ENUM('trader', 'operator');--> statement-breakpoint
CREATE TYPE "public"."user_status" AS ENUM('active', 'frozen');--> statement-breakpoint
CREATE TABLE "assets" (
	"symbol" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"decimals" smallint NOT NULL,
	"deposit_enabled" boolean DEFAULT true NOT NULL,
	"withdraw_enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "assets_symbol_format" CHECK ("assets"."symbol" ~ '^[A-Z0-9]{2,12}$'),
	CONSTRAINT "assets_decimals_range" CHECK ("assets"."decimals" BETWEEN 0 AND 18)
);
--> statement-breakpoint
CREATE TABLE "markets" (
	"symbol" text PRIMARY KEY NOT NULL,
	"base" text NOT NULL,
	"quote" text NOT NULL,
	"price_precision" smallint NOT NULL,
	"amount_precision" smallint NOT NULL,
	"min_base_lots" bigint NOT NULL,
	"min_quote_amount" bigint NOT NULL,
	"maker_fee_ppm" integer NOT NULL,
	"taker_fee_ppm" integer NOT NULL,
	"price_band_bps" integer DEFAULT 1000 NOT NULL,
	"max_open_orders_per_user" integer DEFAULT 200 NOT NULL,
	"status" "market_status" DEFAULT 'trading' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "markets_symbol_format" CHECK ("markets"."symbol" = "markets"."base" || '_' || "markets"."quote"),
	CONSTRAINT "markets_precision_range" CHECK ("markets"."price_precision" BETWEEN 0 AND 18 AND "markets"."amount_precision" BETWEEN 0 AND 18),
	CONSTRAINT "markets_minimums_positive" CHECK ("markets"."min_base_lots" > 0 AND "markets"."min_quote_amount" > 0),
	CONSTRAINT "markets_fees_range" CHECK ("markets"."maker_fee_ppm" BETWEEN 0 AND 100000 AND "markets"."taker_fee_ppm" BETWEEN 0 AND 100000),
	CONSTRAINT "markets_price_band_positive" CHECK ("markets"."price_band_bps" > 0)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" "user_role" DEFAULT 'trader' NOT NULL,
	"status" "user_status" DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email"),
	CONSTRAINT "users_email_lowercase" CHECK ("users"."email" = lower("users"."email"))
);
--> statement-breakpoint
ALTER TABLE "markets" ADD CONSTRAINT "markets_base_assets_symbol_fk" FOREIGN KEY ("base") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "markets" ADD CONSTRAINT "markets_quote_assets_symbol_fk" FOREIGN KEY ("quote") REFERENCES "public"."assets"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "markets_base_quote" ON "markets" USING btree ("base","quote");