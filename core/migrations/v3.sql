-- Schema version 3: the county hub (docs/hub.md).
--
-- A station that syncs to a county hub learns two things from it: which of its own
-- receipts were cross-station duplicates (the hub names them in its
-- acknowledgements), and which ballots other stations have received (the receipts
-- feed). Both are kept here, as new rows only.
--
-- Run by core/src/ledger/open.rs in one transaction.

-- Whether the sync goes to a county hub: then confidential voters' receipts are
-- sent too (marked, by ballot id only; the hub never forwards them) so duplicates
-- are caught for them as well, and each batch carries the audit-chain head.
ALTER TABLE station ADD COLUMN hub INTEGER NOT NULL DEFAULT 0 CHECK (hub IN (0, 1));

-- A receipt of this station's that the hub found another station had made first:
-- the envelope is a duplicate to pull from its tray.
CREATE TABLE hub_conflicts (
    event_seq       INTEGER PRIMARY KEY REFERENCES events (seq),
    sync_batch      TEXT NOT NULL REFERENCES sync_batches (batch_id),
    first_station   TEXT NOT NULL,
    first_tray      INTEGER,
    first_at        TEXT NOT NULL,
    first_event_id  TEXT NOT NULL,
    reported_at     TEXT NOT NULL
);

-- A supervisor's resolution of a conflict (the envelope pulled, and what was done).
CREATE TABLE hub_conflict_resolutions (
    event_seq    INTEGER PRIMARY KEY REFERENCES hub_conflicts (event_seq),
    user_id      INTEGER NOT NULL REFERENCES users (user_id),
    resolved_at  TEXT NOT NULL,
    note         TEXT NOT NULL CHECK (length(trim(note)) > 0)
);

CREATE TRIGGER hub_conflicts_no_update BEFORE UPDATE ON hub_conflicts
BEGIN SELECT RAISE(ABORT, 'hub conflicts are append-only: resolve one instead'); END;
CREATE TRIGGER hub_conflicts_no_delete BEFORE DELETE ON hub_conflicts
BEGIN SELECT RAISE(ABORT, 'hub conflicts are append-only: resolve one instead'); END;
CREATE TRIGGER hub_resolutions_no_update BEFORE UPDATE ON hub_conflict_resolutions
BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
CREATE TRIGGER hub_resolutions_no_delete BEFORE DELETE ON hub_conflict_resolutions
BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;

-- The county's first receipts made at other stations, from the hub's feed: a scan
-- of one of these ballots is a duplicate, decided here without the network.
CREATE TABLE county_receipts (
    election_id  TEXT NOT NULL,
    ballot_id    TEXT NOT NULL,
    station_id   TEXT NOT NULL,
    tray         INTEGER,
    occurred_at  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    PRIMARY KEY (election_id, ballot_id)
) WITHOUT ROWID;

-- Where the feed was last read up to.
CREATE TABLE hub_feed (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    cursor     TEXT NOT NULL,
    pulled_at  TEXT NOT NULL
);
