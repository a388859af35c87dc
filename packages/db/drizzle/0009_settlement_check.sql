-- Settlement writes a batch in one statement without an explicit transaction (packages/db
-- src/settlement.ts): it computes the batch from a read, then writes it guarded by the market's
-- sequence. When a guard finds the world moved (another writer advanced the sequence, an account
-- appeared, a balance cannot take its change), the statement must write nothing at all: this
-- raises, which undoes the whole statement, with a SQLSTATE of its own that the writer reads.
CREATE FUNCTION spotx_settlement_check(ok boolean, what text) RETURNS boolean
  LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'settlement guard failed: %', what USING ERRCODE = 'SX001', DETAIL = what;
  END IF;
  RETURN true;
END $$;
