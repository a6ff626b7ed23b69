-- Schema version 4: users an administrator disables and enables again.
--
-- A disabled user cannot sign in or confirm anything; their history (scans, batches,
-- audit rows) stays theirs. The flag changes only with an audited row (user-disabled,
-- user-enabled), and `verify` checks it against the newest such row.
--
-- Run by core/src/ledger/open.rs in one transaction.

ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
