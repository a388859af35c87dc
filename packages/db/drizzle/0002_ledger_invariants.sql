-- Ledger invariants drizzle cannot express: balanced transfers, an append-only ledger, system
-- accounts for every asset, market precisions that fit their assets, and a sequence row for
-- every market. They hold against any SQL, not only the ledger module's.

-- Every transfer balances: the entries a statement inserts sum to zero per transfer and asset.
-- A statement-level trigger over the transition table checks each statement once (cheap for the
-- multi-row inserts settlement makes), so the ledger module writes all entries of a transfer in
-- one INSERT. The same trigger stands in for foreign keys on transfer_id and account_id (checked
-- set-wise here instead of row by row), and checks that an entry matches its account's asset
-- and that only user accounts have a locked bucket.
CREATE FUNCTION ledger_entries_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT e.transfer_id, e.asset, sum(e.amount) AS total
    INTO bad
    FROM new_entries e
   GROUP BY e.transfer_id, e.asset
  HAVING sum(e.amount) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transfer % does not balance in %: its entries sum to %',
      bad.transfer_id, bad.asset, bad.total
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transfer_balanced';
  END IF;
  SELECT e.transfer_id
    INTO bad
    FROM (SELECT DISTINCT transfer_id FROM new_entries) e
   WHERE NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = e.transfer_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entries reference transfer %, which does not exist', bad.transfer_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_transfer_exists';
  END IF;
  SELECT e.transfer_id, e.idx, e.account_id, e.asset AS entry_asset, a.asset AS account_asset,
         e.bucket, a.kind, a.id IS NULL AS missing
    INTO bad
    FROM new_entries e
    LEFT JOIN accounts a ON a.id = e.account_id
   WHERE a.id IS NULL OR a.asset <> e.asset OR (a.kind <> 'user' AND e.bucket <> 'available')
   LIMIT 1;
  IF FOUND AND bad.missing THEN
    RAISE EXCEPTION 'ledger entry %/% references account %, which does not exist',
      bad.transfer_id, bad.idx, bad.account_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_account_exists';
  ELSIF FOUND THEN
    RAISE EXCEPTION 'ledger entry %/% does not fit its % account (asset %, entry asset %, bucket %)',
      bad.transfer_id, bad.idx, bad.kind, bad.account_asset, bad.entry_asset, bad.bucket
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_fits_account';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_balanced
  AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check();
--> statement-breakpoint

-- The ledger is append-only: a correction is a new transfer, never an edit.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed (post a correcting transfer instead)',
    TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
--> statement-breakpoint
CREATE TRIGGER transfers_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
--> statement-breakpoint
-- Accounts never change or go away once entries may point at them.
CREATE TRIGGER accounts_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
--> statement-breakpoint

-- Every asset has its system accounts from the moment it exists.
CREATE FUNCTION assets_create_system_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO accounts (kind, asset)
  SELECT kind, NEW.symbol
    FROM unnest(ARRAY['external', 'fees', 'adjustment']::account_kind[]) AS kind
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER assets_system_accounts
  AFTER INSERT ON assets
  FOR EACH ROW EXECUTE FUNCTION assets_create_system_accounts();
--> statement-breakpoint
INSERT INTO accounts (kind, asset)
SELECT kind, a.symbol
  FROM assets a
 CROSS JOIN unnest(ARRAY['external', 'fees', 'adjustment']::account_kind[]) AS kind
ON CONFLICT DO NOTHING;
--> statement-breakpoint

-- An asset's decimals define every amount stored in it; changing them would rescale money.
CREATE FUNCTION assets_decimals_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'asset %: decimals cannot change (% -> %)', OLD.symbol, OLD.decimals, NEW.decimals
    USING ERRCODE = 'check_violation', CONSTRAINT = 'assets_decimals_fixed';
END $$;
--> statement-breakpoint
CREATE TRIGGER assets_decimals_fixed
  BEFORE UPDATE OF decimals ON assets
  FOR EACH ROW WHEN (OLD.decimals IS DISTINCT FROM NEW.decimals)
  EXECUTE FUNCTION assets_decimals_fixed();
--> statement-breakpoint

-- Lots must be whole base minor units and price × amount whole quote minor units, so the
-- scaling exponents base.decimals − amount_precision and
-- quote.decimals − price_precision − amount_precision are never negative (see units.ts).
CREATE FUNCTION markets_check_precision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  base_decimals smallint;
  quote_decimals smallint;
BEGIN
  SELECT decimals INTO base_decimals FROM assets WHERE symbol = NEW.base;
  SELECT decimals INTO quote_decimals FROM assets WHERE symbol = NEW.quote;
  IF NEW.amount_precision > base_decimals THEN
    RAISE EXCEPTION 'market %: amount_precision % exceeds % decimals %',
      NEW.symbol, NEW.amount_precision, NEW.base, base_decimals
      USING ERRCODE = 'check_violation', CONSTRAINT = 'markets_precision_fits_assets';
  END IF;
  IF NEW.price_precision + NEW.amount_precision > quote_decimals THEN
    RAISE EXCEPTION 'market %: price_precision % + amount_precision % exceeds % decimals %',
      NEW.symbol, NEW.price_precision, NEW.amount_precision, NEW.quote, quote_decimals
      USING ERRCODE = 'check_violation', CONSTRAINT = 'markets_precision_fits_assets';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER markets_precision
  BEFORE INSERT OR UPDATE OF base, quote, price_precision, amount_precision ON markets
  FOR EACH ROW EXECUTE FUNCTION markets_check_precision();
--> statement-breakpoint

-- Settlement finds a sequence row for every market (last_seq 0: the first event is seq 1).
CREATE FUNCTION markets_create_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO market_sequences (market) VALUES (NEW.symbol) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER markets_sequence
  AFTER INSERT ON markets
  FOR EACH ROW EXECUTE FUNCTION markets_create_sequence();
--> statement-breakpoint
INSERT INTO market_sequences (market) SELECT symbol FROM markets ON CONFLICT DO NOTHING;
