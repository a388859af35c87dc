-- gate.io's amend (PATCH /spot/orders/{id}): an order remembers its latest amend_text, how many
-- amends the engine applied (its hold then follows the amended price and amount, not the
-- placement's), and the one amend request in flight with what that request added to its hold.
ALTER TABLE "orders" ADD COLUMN "amend_text" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "amends" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "amend_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "amend_reserved" bigint DEFAULT 0 NOT NULL;