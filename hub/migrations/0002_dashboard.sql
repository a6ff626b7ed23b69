-- The county dashboard (docs/hub.md): what stations report about themselves,
-- receipts counted per station and hour, and supervisors' sign-in sessions.

-- Each station's latest report (`POST /v1/status`, every 30 s from `sync --watch`):
-- what the hub cannot see in batches (today's scans by outcome, including rejected
-- ones; conflicts still open there; events not yet sent). Replaced by the next
-- report: it is a reading, not a record.
CREATE TABLE station_reports (
    station_id      text PRIMARY KEY REFERENCES stations,
    election_id     text NOT NULL,
    reported_at     timestamptz NOT NULL,
    day             date NOT NULL,
    today           jsonb NOT NULL,
    conflicts_open  bigint NOT NULL,
    waiting         bigint NOT NULL,
    held            bigint NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);

-- First receipts per election, station and hour (UTC) of the scan, so the
-- dashboard's chart and today's counts read a few hundred rows rather than the
-- day's receipts. Counted behind the stations' transactions, never in them (a
-- busy hour's row would be one more thing every batch writes): the hub's tally
-- reads the receipts in feed order below the oldest running transaction, as the
-- feed and the relay do, and keeps how far it has counted in `receipt_tally`.
-- Derived: it can be rebuilt from `receipts` and `events` by emptying both.
CREATE TABLE receipt_hours (
    election_id  text NOT NULL,
    station_id   text NOT NULL,
    hour         timestamptz NOT NULL,
    receipts     bigint NOT NULL,
    PRIMARY KEY (election_id, station_id, hour)
);

CREATE TABLE receipt_tally (
    id    integer PRIMARY KEY CHECK (id = 1),
    txid  xid8 NOT NULL,
    seq   bigint NOT NULL
);
-- From the start: a hub upgraded from schema 1 counts the receipts it already had.
INSERT INTO receipt_tally VALUES (1, '0', 0);

-- A supervisor's sign-in: the cookie holds 256 random bits, the hub their SHA-256.
CREATE TABLE sessions (
    token_sha256  bytea PRIMARY KEY,
    user_name     text NOT NULL REFERENCES users,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);

-- Wrong PINs in a row and the lock they earned, as the stations count them.
ALTER TABLE users
    ADD COLUMN failures      integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until  timestamptz;
