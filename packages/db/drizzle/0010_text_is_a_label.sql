-- gate.io's `text` is a label, not a key: a second order with the same text is a new order, and a
-- lookup by text finds the user's newest order with it in the pair (GATE_API_MORE.md). The unique
-- index that made a reused text return the first order gives way to one that serves that lookup.
DROP INDEX "orders_user_text";--> statement-breakpoint
CREATE INDEX "orders_user_market_text" ON "orders" USING btree ("user_id","market","text","id") WHERE "orders"."text" IS NOT NULL;