-- Run by @mnemo/local-db at every start, in the database FerretDB uses (idempotent).
--
-- FerretDB v1's PostgreSQL backend pushes a top-level equality down as `_jsonb->$1 @> $2`, but the
-- indexes it creates are btree on `((_jsonb->'key'))`, which cannot answer `@>`. Beside every such
-- index we create a GIN "twin" on the expression of its leading key, which can; with
-- plan_cache_mode = force_custom_plan each execution is planned with the key filled in, so the
-- planner matches it. An event trigger does it as FerretDB creates indexes, in every schema
-- (= MongoDB database), so Mnemo needs to know nothing of FerretDB's table names.
--
-- Only the leading key: a query's selective equality is on it (`sessionId`, `uuid`, `bucket`, …);
-- the rest of the filter is checked on the few rows found. Twins of the other keys (`deletedAt`,
-- `seq`, the `terms` arrays) would make every insert slower and no read faster.
-- fastupdate = off: with GIN's pending list on, a stream of inserts leaves up to 4 MB of unsorted
-- entries that every query scans (measured: 7 ms instead of 0.2 ms for one bucket of messages).

ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;

-- The GIN twin of one btree index whose leading key is of the form (_jsonb -> 'field').
CREATE OR REPLACE FUNCTION mnemo_gin_twins(btree oid) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  idx record;
  expr text;
  twin text;
BEGIN
  SELECT i.indrelid, am.amname INTO idx
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
    WHERE i.indexrelid = btree;
  IF NOT FOUND OR idx.amname <> 'btree' THEN RETURN; END IF;
  expr := pg_get_indexdef(btree, 1, false); -- e.g. ((_jsonb -> 'sessionId'::text))
  IF expr !~ '^\(+_jsonb -> ''([^'']|'''')+''::text\)+$' THEN RETURN; END IF;
  -- Named after the table and the expression: one twin per key however many indexes lead with it.
  twin := 'gin_' || idx.indrelid || '_' || left(md5(expr), 16);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s) WITH (fastupdate = off)', twin, idx.indrelid::regclass, expr);
END
$fn$;

CREATE OR REPLACE FUNCTION mnemo_gin_twins_on_create() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM mnemo_gin_twins(cmd.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS mnemo_gin_twins;
CREATE EVENT TRIGGER mnemo_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION mnemo_gin_twins_on_create();

-- Indexes made before this trigger existed get their twins too.
SELECT mnemo_gin_twins(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');
