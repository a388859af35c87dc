-- Guards drizzle cannot express: the audit log's hash chain, the settlement batch record's
-- starting point, and the grants of the application's database role (least privilege).

-- The audit log is a hash chain: each row stores the previous row's hash and
-- sha256(previous hash ‖ its own content). Editing, inserting or deleting a row in the middle
-- breaks every later link, which reconciliation verifies. Text fields are length-prefixed so
-- content cannot be shifted between fields; the time is rendered in UTC with microseconds, and
-- the details as jsonb's own canonical text, so the same row always hashes the same.
CREATE FUNCTION audit_row_hash(
  prev bytea, id bigint, actor_id bigint, action text, subject text, details jsonb,
  created_at timestamptz
) RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT sha256(coalesce(prev, ''::bytea) || convert_to(
    id::text || '|' || coalesce(actor_id::text, '-') || '|' ||
    length(action)::text || ':' || action || '|' ||
    length(subject)::text || ':' || subject || '|' ||
    length(details::text)::text || ':' || details::text || '|' ||
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
    'UTF8'))
$$;
--> statement-breakpoint
DO $$
DECLARE
  r record;
  prev bytea := NULL;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    UPDATE audit_log
       SET prev_hash = prev,
           hash = audit_row_hash(prev, r.id, r.actor_id, r.action, r.subject, r.details, r.created_at)
     WHERE id = r.id
    RETURNING hash INTO prev;
  END LOOP;
END $$;
--> statement-breakpoint

-- Batches applied before settlement_batches existed: one row covering 1 … last_seq.
INSERT INTO settlement_batches (market, first_seq, last_seq)
SELECT market, 1, last_seq FROM market_sequences WHERE last_seq > 0;
--> statement-breakpoint

-- The application's role: what web and worker need and nothing more. No DDL (it owns nothing
-- and cannot create in the schema), no TRUNCATE, no UPDATE or DELETE on the append-only tables
-- (accounts, transfers, ledger_entries, trades, audit_log, reconciliation runs and findings,
-- settlement_batches), not a superuser (so it cannot set session_replication_role to switch
-- triggers off). Re-applied after every migration run (migrate.ts), so tables added later get
-- their grants, and starting from REVOKE ALL so a grant removed here is removed everywhere.
CREATE FUNCTION spotx_grant_app(app_role name) RETURNS void LANGUAGE plpgsql AS $$
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
                  market_sequences, candles, fencing_tokens, withdrawals, api_keys TO %I', app_role);
  -- The outbox relay marks rows sent and prunes old sent rows; old snapshots are pruned.
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO %I', app_role);
  EXECUTE format('GRANT SELECT, INSERT, DELETE ON engine_snapshots TO %I', app_role);
  -- Assets are added and switched on or off; their decimals never change (trigger), and the
  -- app role cannot even try.
  EXECUTE format('GRANT SELECT, INSERT ON assets TO %I', app_role);
  EXECUTE format('GRANT UPDATE (name, deposit_enabled, withdraw_enabled) ON assets TO %I', app_role);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app_role);
END $$;
