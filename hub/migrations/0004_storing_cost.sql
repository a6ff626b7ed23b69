-- What storing a batch cost that it need not (measured with perf during the
-- throughput bench's burst).
--
-- 1. The events table's foreign key to stations ran a referential check for every
-- event of every batch (500 per batch, each a lookup and a share lock of the
-- station's row) for a station the request had just authenticated by its token:
-- the single largest per-row cost beside the inserts themselves. What the key
-- guarded, an event of a station that does not exist, is kept by two facts: a
-- batch is stored only for the station its token names (store.rs), and a station
-- is never deleted, which this trigger now enforces (its events, receipts and
-- conflicts stay attributable to it).

ALTER TABLE events DROP CONSTRAINT events_station_id_fkey;

CREATE FUNCTION hub_refuse_station_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a station is never deleted: its events stay attributable to it';
END $$;

CREATE TRIGGER stations_never_deleted BEFORE DELETE ON stations
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_station_delete();
CREATE TRIGGER stations_never_truncated BEFORE TRUNCATE ON stations
    FOR EACH STATEMENT EXECUTE FUNCTION hub_refuse_station_delete();

-- 2. The relay keeps each relay batch's exact bytes (a 500-event payload, about
-- 100 kB of JSON) before its first send; PostgreSQL's own pglz compressed them on
-- the hub's cores while the stations' batches waited. lz4 (Debian's build has it)
-- compresses JSON nearly as well at a fraction of the time. Rows stored before keep
-- their compression; both are read alike.
ALTER TABLE relay_batches ALTER COLUMN payload SET COMPRESSION lz4;
