-- The county hub's first schema. Run in one transaction by hub/src/migrate.rs.
--
-- What the hub is told is kept as it was told: events, receipts, conflicts, chain
-- heads, stored acknowledgements and the outbox are never changed or deleted
-- (triggers below). Only the stations' last contact and the relay's batches change,
-- and those are bookkeeping, not records.

CREATE TABLE stations (
    station_id    text PRIMARY KEY,
    -- SHA-256 of the bearer token. Tokens are 256 random bits made by `hub station
    -- add`, so a fast hash is enough (no dictionary to guess from), and every
    -- request can be checked without Argon2's deliberate cost.
    token_sha256  bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_contact  timestamptz
);

-- Supervisors who may sign in to the dashboard (PIN hashed with Argon2id, as the
-- stations hash theirs).
CREATE TABLE users (
    name        text PRIMARY KEY,
    pin_hash    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Cached per connection: a batch takes hundreds of numbers, and only their order
-- within one transaction matters (the feed and the relay read in (txid, number)
-- order), which a connection's cached run keeps.
CREATE SEQUENCE receipts_feed_seq CACHE 1000;
CREATE SEQUENCE outbox_seq CACHE 1000;

-- Every batch stored, with the acknowledgement sent for it: a retry under the same
-- Idempotency-Key gets these bytes again.
CREATE TABLE batches (
    station_id   text NOT NULL REFERENCES stations,
    batch_id     text NOT NULL,
    election_id  text NOT NULL,
    county       text NOT NULL,
    created_at   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    events       integer NOT NULL,
    ack          bytea NOT NULL,
    PRIMARY KEY (station_id, batch_id)
);

-- Every event a station sent, once (keyed by its event id `<station>-<seq>`).
CREATE TABLE events (
    event_id      text PRIMARY KEY,
    station_id    text NOT NULL REFERENCES stations,
    batch_id      text NOT NULL,
    election_id   text NOT NULL,
    county        text NOT NULL,
    type          text NOT NULL CHECK (type IN ('received', 'undeliverable', 'needs_attention', 'correction')),
    ballot_id     text,
    -- NULL for a confidential voter: the hub never holds what it may not forward.
    voter_id      text,
    tray          bigint,
    occurred_at   timestamptz NOT NULL,
    reason        text,
    corrects      text,
    confidential  boolean NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);

-- The county's first receipt of each ballot. The primary key decides it: of two
-- stations' transactions inserting one ballot, the second waits for the first and,
-- once it has committed, inserts nothing (its event is a conflict); if the first
-- rolled back, the second's is the receipt. No lock of the hub's own serialises
-- the stations.
--
-- The feed is read in (txid, feed_seq) order and only below the oldest transaction
-- still running (pg_snapshot_xmin), so a receipt that commits late, with a smaller
-- number than one already read, is never skipped: it is not readable until every
-- transaction that began before it has ended.
-- Narrow (the event's station, tray and time are in `events`, by key): every
-- receipt is written once per ballot on the busiest day.
CREATE TABLE receipts (
    election_id   text NOT NULL,
    ballot_id     text NOT NULL,
    event_id      text NOT NULL,
    txid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    feed_seq      bigint NOT NULL DEFAULT nextval('receipts_feed_seq'),
    PRIMARY KEY (election_id, ballot_id)
);
CREATE INDEX receipts_feed ON receipts (txid, feed_seq);

-- A `received` event for a ballot the county had already received: the envelope is
-- a duplicate to pull from its tray. Named in every acknowledgement of its batch.
-- The first receipt's station, tray and time are kept with it, so that naming it
-- again in a retry's acknowledgement reads one row.
CREATE TABLE conflicts (
    event_id        text PRIMARY KEY,
    first_event_id  text NOT NULL,
    station_id      text NOT NULL,
    election_id     text NOT NULL,
    ballot_id       text NOT NULL,
    first_station   text NOT NULL,
    first_tray      bigint,
    first_at        timestamptz NOT NULL,
    detected_at     timestamptz NOT NULL DEFAULT now()
);

-- The station's audit-chain head as each batch carried it.
CREATE TABLE chain_heads (
    station_id   text NOT NULL REFERENCES stations,
    batch_id     text NOT NULL,
    created_at   timestamptz NOT NULL,
    seq          bigint NOT NULL,
    hash         text NOT NULL,
    PRIMARY KEY (station_id, batch_id)
);
CREATE INDEX chain_heads_by_seq ON chain_heads (station_id, seq);

-- A head that went backwards (a batch formed later carrying an older head) or forked
-- (the same audit sequence number with another hash): the station's ledger lost its
-- newest rows, or was replaced.
CREATE TABLE chain_alarms (
    station_id   text NOT NULL REFERENCES stations,
    batch_id     text NOT NULL,
    seq          bigint NOT NULL,
    hash         text NOT NULL,
    known_seq    bigint NOT NULL,
    known_hash   text NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, batch_id)
);

-- Events to relay to the notification backend, filled in the same transaction as the
-- event: never a confidential voter's, never a cross-station duplicate. Written
-- once and never changed: the relay reads it in (txid, seq) order below the oldest
-- running transaction (as the feed reads receipts), and its batches say how far it
-- has read and what the backend acknowledged.
CREATE TABLE outbox (
    txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq          bigint NOT NULL DEFAULT nextval('outbox_seq'),
    event_id     text NOT NULL,
    election_id  text NOT NULL,
    PRIMARY KEY (txid, seq)
);

-- The relay's batches: each the outbox rows from (first_txid, first_seq) to
-- (last_txid, last_seq) of one election, with the exact bytes sent.
CREATE TABLE relay_batches (
    batch_id         text PRIMARY KEY,
    election_id      text NOT NULL,
    created_at       timestamptz NOT NULL,
    events           integer NOT NULL,
    first_txid       xid8 NOT NULL,
    first_seq        bigint NOT NULL,
    last_txid        xid8 NOT NULL,
    last_seq         bigint NOT NULL,
    payload          bytea NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'held')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_error       text,
    acked_at         timestamptz
);
CREATE INDEX relay_batches_by_end ON relay_batches (last_txid, last_seq);

CREATE FUNCTION hub_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the hub''s % are append-only', TG_TABLE_NAME;
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER conflicts_append_only BEFORE UPDATE OR DELETE ON conflicts
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER chain_heads_append_only BEFORE UPDATE OR DELETE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER chain_alarms_append_only BEFORE UPDATE OR DELETE ON chain_alarms
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER batches_append_only BEFORE UPDATE OR DELETE ON batches
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER outbox_append_only BEFORE UPDATE OR DELETE ON outbox
    FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
