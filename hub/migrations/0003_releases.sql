-- A first receipt its own station corrected (the envelope was not this ballot, or
-- was scanned from the wrong tray) no longer stands: the ballot is free for the
-- county's next receipt. Nothing is changed or removed to say so.
--
-- A ballot's receipts are numbered by round: round 0 is its first receipt; each
-- release (below) of the standing round lets one more receipt in, at the next
-- round. The key (election, ballot, round) still decides, by commit order, which of
-- two stations' receipts of a freed ballot is the county's.
ALTER TABLE receipts ADD COLUMN round integer NOT NULL DEFAULT 0;
ALTER TABLE receipts DROP CONSTRAINT receipts_pkey;
ALTER TABLE receipts ADD PRIMARY KEY (election_id, ballot_id, round);

-- A receipt released by a correction from the station that made it. In the feed
-- (and the dashboard's tally) in the same (txid, feed_seq) order as receipts, so a
-- station that had kept the receipt learns that it no longer stands.
CREATE TABLE receipt_releases (
    election_id          text NOT NULL,
    ballot_id            text NOT NULL,
    round                integer NOT NULL,
    event_id             text NOT NULL,
    correction_event_id  text NOT NULL,
    txid                 xid8 NOT NULL DEFAULT pg_current_xact_id(),
    feed_seq             bigint NOT NULL DEFAULT nextval('receipts_feed_seq'),
    released_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (election_id, ballot_id, round)
);
CREATE INDEX receipt_releases_feed ON receipt_releases (txid, feed_seq);
CREATE TRIGGER receipt_releases_append_only BEFORE UPDATE OR DELETE ON receipt_releases
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();

-- Each station's public signing keys as its reports carried them (issue #13's signed
-- files are checked with these): one row per key, kept for good, so a station whose
-- key changed (a new machine, or a key someone replaced) shows two.
CREATE TABLE station_keys (
    station_id   text NOT NULL REFERENCES stations,
    fingerprint  text NOT NULL,
    public_key   text NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, fingerprint)
);
CREATE TRIGGER station_keys_append_only BEFORE UPDATE OR DELETE ON station_keys
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
