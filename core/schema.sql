-- The ballot-intake ledger, schema version 1.
--
-- Applied in one transaction by src/ledger/open.rs, which then sets
-- PRAGMA user_version = 1. A later version adds a migration file; this one is
-- never edited once released, because ledgers in the field were made from it.
--
-- Times are UTC, RFC 3339 with microseconds ("2026-11-03T15:04:05.123456Z"),
-- so that they sort as text.
--
-- Every index on events, outbox and audit_log is a page written by every scan's
-- commit, so those tables carry only the indexes the scan path itself reads; reports
-- and `verify` scan or let SQLite build a transient index instead.

-- The one station this ledger belongs to.
CREATE TABLE station (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    station_id  TEXT NOT NULL CHECK (length(station_id) BETWEEN 1 AND 64),
    county      TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    -- A demo station's events never enter the outbox: demo data never leaves.
    demo        INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1)),
    created_at  TEXT NOT NULL
);

-- Every election this ledger has seen; exactly one is active once any exists.
CREATE TABLE elections (
    election_id    TEXT PRIMARY KEY CHECK (length(election_id) BETWEEN 1 AND 64),
    name           TEXT NOT NULL,
    election_date  TEXT NOT NULL CHECK (election_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    check_digit    TEXT NOT NULL CHECK (check_digit IN ('none', 'luhn')),
    active         INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    created_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX elections_one_active ON elections (active) WHERE active = 1;

-- Each mail ballot file loaded, successful or not.
CREATE TABLE imports (
    import_id    INTEGER PRIMARY KEY,
    election_id  TEXT NOT NULL REFERENCES elections (election_id),
    file_name    TEXT NOT NULL,
    file_sha256  TEXT NOT NULL,
    rows_read    INTEGER NOT NULL,
    added        INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    unchanged    INTEGER NOT NULL,
    imported_at  TEXT NOT NULL
);

-- Ballots from the mail ballot file. Reference data from the state system: a newer
-- file may change a row (ACTIVE -> VOID), never remove it.
CREATE TABLE ballots (
    ballot_pk        INTEGER PRIMARY KEY,
    election_id      TEXT NOT NULL REFERENCES elections (election_id),
    ballot_id        TEXT NOT NULL,
    voter_id         TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    first_name       TEXT NOT NULL,
    middle_name      TEXT,
    residential_zip  TEXT NOT NULL,
    precinct         TEXT NOT NULL,
    ballot_style     TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('ACTIVE', 'VOID')),
    confidential     INTEGER NOT NULL CHECK (confidential IN (0, 1)),
    uocava           INTEGER NOT NULL CHECK (uocava IN (0, 1)),
    mailing_address  TEXT,
    mailing_city     TEXT,
    mailing_state    TEXT,
    mailing_zip      TEXT,
    issued_date      TEXT,
    return_imb       TEXT,
    return_tracking  TEXT GENERATED ALWAYS AS (substr(return_imb, 1, 20)) VIRTUAL,
    outbound_imb     TEXT,
    outbound_tracking TEXT GENERATED ALWAYS AS (substr(outbound_imb, 1, 20)) VIRTUAL,
    import_id        INTEGER NOT NULL REFERENCES imports (import_id),
    UNIQUE (election_id, ballot_id)
);
CREATE INDEX ballots_by_id ON ballots (ballot_id);
CREATE INDEX ballots_by_voter ON ballots (election_id, voter_id);
CREATE INDEX ballots_by_return_tracking ON ballots (return_tracking) WHERE return_imb IS NOT NULL;
CREATE INDEX ballots_by_outbound_tracking ON ballots (outbound_tracking) WHERE outbound_imb IS NOT NULL;

-- People who use the station. Lockout counters change; every change is audited.
CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    role          TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'admin')),
    pin_hash      TEXT NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL
);

-- Trays and containers of returned envelopes (Colorado Election Rule 20 custody log).
CREATE TABLE batches (
    batch_id         INTEGER PRIMARY KEY,
    election_id      TEXT NOT NULL REFERENCES elections (election_id),
    station_id       TEXT NOT NULL,
    container_id     TEXT,
    seals            TEXT NOT NULL DEFAULT '[]',  -- JSON array of seal numbers
    opened_by        INTEGER NOT NULL REFERENCES users (user_id),
    opened_at        TEXT NOT NULL,
    -- When the county received the envelopes in this container, if earlier than
    -- their scan: a drop box emptied at 19:00 on election day holds timely ballots
    -- that are scanned hours later. The receipt deadline is judged on this time.
    received_at      TEXT,
    status           TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'closed', 'discrepancy', 'resolved')),
    closed_by        INTEGER REFERENCES users (user_id),
    verified_by      INTEGER REFERENCES users (user_id),
    closed_at        TEXT,
    declared_count   INTEGER,
    scanned_count    INTEGER,
    resolved_by      INTEGER REFERENCES users (user_id),
    resolved_at      TEXT,
    resolution_note  TEXT,
    CHECK (verified_by IS NULL OR verified_by <> closed_by)
);
CREATE UNIQUE INDEX batches_one_open_per_user
    ON batches (election_id, opened_by) WHERE status = 'open';

-- Everything that happened to envelopes: scans, flags and corrections.
-- Append-only: the triggers below refuse UPDATE and DELETE.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    election_id  TEXT NOT NULL REFERENCES elections (election_id),
    kind         TEXT NOT NULL CHECK (kind IN ('scan', 'undeliverable', 'needs_attention', 'correction')),
    mode         TEXT CHECK (mode IN ('receive', 'undeliverable')),
    raw          BLOB,
    normalized   TEXT,
    outcome      TEXT CHECK (outcome IN ('accepted', 'duplicate', 'voided', 'wrong_election',
                                         'unknown', 'invalid', 'late')),
    ballot_pk    INTEGER REFERENCES ballots (ballot_pk),
    station_id   TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (user_id),
    batch_id     INTEGER REFERENCES batches (batch_id),
    source       TEXT NOT NULL,
    symbology    TEXT,  -- the AIM symbology identifier the scanner sent, if any
    occurred_at  TEXT NOT NULL,
    reason       TEXT,
    corrects     INTEGER REFERENCES events (seq),
    CHECK (kind <> 'scan' OR (outcome IS NOT NULL AND raw IS NOT NULL)),
    CHECK (kind <> 'correction' OR (corrects IS NOT NULL AND reason IS NOT NULL))
);
CREATE INDEX events_by_ballot ON events (ballot_pk) WHERE ballot_pk IS NOT NULL;
CREATE INDEX events_by_batch ON events (batch_id, seq) WHERE batch_id IS NOT NULL;
CREATE UNIQUE INDEX events_one_correction ON events (corrects) WHERE corrects IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correction instead'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correction instead'); END;

-- Events waiting to reach the notification backend, written in the same transaction
-- as the event. Confidential voters' events never get a row here.
CREATE TABLE outbox (
    event_seq    INTEGER PRIMARY KEY REFERENCES events (seq),
    event_type   TEXT NOT NULL CHECK (event_type IN ('received', 'undeliverable',
                                                     'needs_attention', 'correction')),
    created_at   TEXT NOT NULL,
    sync_batch   TEXT,
    acked_at     TEXT
);

-- Batches of outbox events sent (or to be sent) to the notification backend. Once
-- formed, a batch's events and payload never change: a retry sends the same bytes
-- under the same batch_id, so the backend can drop what it already has.
CREATE TABLE sync_batches (
    batch_id         TEXT PRIMARY KEY,            -- UUID, also the Idempotency-Key
    election_id      TEXT NOT NULL REFERENCES elections (election_id),
    created_at       TEXT NOT NULL,
    events           INTEGER NOT NULL,
    first_seq        INTEGER NOT NULL,            -- the outbox range its events lie in,
    last_seq         INTEGER NOT NULL,            -- so acknowledging needs no index
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'held', 'acked')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_error       TEXT,
    acked_at         TEXT,
    accepted         INTEGER,
    duplicates       INTEGER,
    -- Last, so that reading the columns above never walks the payload's overflow pages.
    payload          BLOB NOT NULL                -- the exact JSON sent
);
CREATE INDEX sync_batches_by_state ON sync_batches (state, created_at);

-- The audit log: a hash chain, append-only.
CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    event_id        INTEGER NOT NULL,
    event           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('user-action', 'system-action')),
    disposition     TEXT NOT NULL CHECK (disposition IN ('success', 'failure')),
    user_name       TEXT,
    role            TEXT,
    station_id      TEXT NOT NULL,
    election_id     TEXT,
    subject_seq     INTEGER,
    subject_digest  TEXT,
    detail          TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
