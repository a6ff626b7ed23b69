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

-- First receipts per election, station and hour (UTC) of the scan, added to in the
-- transaction that stores them, so the dashboard's chart and today's counts read a
-- few hundred rows rather than the day's receipts. Derived from `receipts` and
-- `events` (and rebuilt from them below); each station's transactions touch only
-- its own rows, so stations never wait on each other here.
CREATE TABLE receipt_hours (
    election_id  text NOT NULL,
    station_id   text NOT NULL,
    hour         timestamptz NOT NULL,
    receipts     bigint NOT NULL,
    PRIMARY KEY (election_id, station_id, hour)
);

INSERT INTO receipt_hours (election_id, station_id, hour, receipts)
SELECT r.election_id, e.station_id, date_trunc('hour', e.occurred_at, 'UTC'), count(*)
FROM receipts r JOIN events e USING (event_id)
GROUP BY 1, 2, 3;

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
