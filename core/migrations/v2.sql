-- Schema version 2: the ballots' uniqueness held by indexes, and each ballot's line.
--
-- Version 1 kept "one ballot id per election" as a table constraint, whose index
-- cannot be dropped: a county's file, never in ballot-id order, then paid a random
-- B-tree descent per row into it (a 1,000,000-row file in scattered order spent most
-- of its import there). As a declared UNIQUE index on (ballot_id, election_id) it
-- also serves the scan's lookup by ballot id, so one index does the work of two, and
-- a bulk first import can build it sorted, in one pass, after the rows are in.
--
-- source_line is the line of the file row that last set the ballot (with import_id,
-- it names the row a supervisor can find in the state's file), and what lets the
-- import report a duplicate or a second ACTIVE ballot with the line of the first
-- without holding the file's keys in memory.
--
-- Run by core/src/ledger/open.rs in one transaction with foreign keys off (events
-- refer to ballots, which is rebuilt); the foreign keys are checked before COMMIT.

CREATE TABLE ballots_v2 (
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
    source_line      INTEGER
);
INSERT INTO ballots_v2 (ballot_pk, election_id, ballot_id, voter_id, last_name, first_name,
        middle_name, residential_zip, precinct, ballot_style, status, confidential, uocava,
        mailing_address, mailing_city, mailing_state, mailing_zip, issued_date, return_imb,
        outbound_imb, import_id)
    SELECT ballot_pk, election_id, ballot_id, voter_id, last_name, first_name,
        middle_name, residential_zip, precinct, ballot_style, status, confidential, uocava,
        mailing_address, mailing_city, mailing_state, mailing_zip, issued_date, return_imb,
        outbound_imb, import_id
    FROM ballots ORDER BY ballot_pk;
DROP TABLE ballots;
ALTER TABLE ballots_v2 RENAME TO ballots;

-- One ballot id per election; also the scan's lookup by ballot id in any election.
CREATE UNIQUE INDEX ballots_by_id ON ballots (ballot_id, election_id);
-- Search by voter, and the import's check of one ACTIVE ballot per voter, read from
-- the index alone (status is in it).
CREATE INDEX ballots_by_voter ON ballots (election_id, voter_id, status);
-- The scan's IMb lookups; the election is in the return index so the import's check
-- of one return envelope per tracking code reads the index alone.
CREATE INDEX ballots_by_return_tracking ON ballots (return_tracking, election_id)
    WHERE return_imb IS NOT NULL;
CREATE INDEX ballots_by_outbound_tracking ON ballots (outbound_tracking)
    WHERE outbound_imb IS NOT NULL;
