//! Step 2 of an import: the checks across rows and the difference with the ledger,
//! against one read snapshot of it, holding no lock a scan waits for.
//!
//! Each check reads the file's rows through a scratch index built sorted, and the
//! ledger through its own index in the same order, so a county's file costs sorted
//! passes rather than a random B-tree descent per row. Each check first finds the
//! keys at fault (normally none) and only then reads their rows to say which lines.

use rusqlite::{Connection, OptionalExtension, params};

use super::{CrossRowErrors, ImportCounts, Importer, difference, row_error};
use crate::ledger::Result;

/// What the checks found, for the apply step.
#[derive(Debug, Clone, Copy)]
pub(super) struct Checked {
    pub(super) counts: ImportCounts,
    /// The newest import of the ledger when the snapshot was read: if another import
    /// committed since, the difference is stale and the apply refuses.
    pub(super) newest_import: i64,
}

/// A ballot held twice in the file: the message for its later line.
fn twice(ballot_id: &str, first: u64) -> String {
    format!("{ballot_id:?} appears twice in the file (first on line {first})")
}

fn to_line(l: i64) -> u64 {
    u64::try_from(l).unwrap_or(0)
}

impl Importer<'_, '_> {
    /// Makes the checks across rows once every row is stored, and works out what the
    /// file changes. Returns the counts and the errors found (the first `limit` by
    /// line listed); any error means the caller must not commit.
    ///
    /// A first import of a county's file into an election with no ballots (see
    /// [`super::apply::bulk`]) is checked after its rows are copied into the ledger,
    /// inside the write transaction that [`super::Import::commit`] then commits:
    /// building the ledger's indexes is the sort those checks need, and doing it once
    /// is what keeps a county's first file as fast as the `sqlite3` shell's load.
    /// Everything else is checked against a read snapshot, with no lock held.
    pub fn finish(self, limit: usize) -> Result<(ImportCounts, CrossRowErrors)> {
        let import = self.import;
        drop(self.insert);
        let conn = import.conn;
        let rows: i64 = conn.query_row("SELECT count(*) FROM staging.rows", [], |r| r.get(0))?;
        let rows = u64::try_from(rows).unwrap_or(0);
        let bulk = !import.had_ballots && super::apply::bulk(conn, rows)?;
        // The rows are in the scratch file. Then either the ledger's write lock (a
        // bulk first import) or one read snapshot of it for everything after.
        conn.execute_batch(if bulk {
            "COMMIT; BEGIN IMMEDIATE"
        } else {
            "COMMIT; BEGIN"
        })?;
        let checks = Checks {
            conn,
            election_id: &import.election_id,
            had_ballots: import.had_ballots,
            stored: bulk,
        };
        let mut found = CrossRowErrors::new(limit);
        let checked = if bulk {
            super::apply::record(conn, &import.election_id, &import.file_name).and_then(|id| {
                import.bulk_record = Some(id);
                checks.run_stored(rows, id, &mut found)
            })
        } else {
            checks.run(rows, &mut found)
        };
        if bulk && checked.is_ok() {
            // Left open for `commit`; dropping the import rolls it back.
            import.writing = true;
        } else {
            // Ends the read snapshot (and keeps the scratch file's indexes and tables).
            conn.execute_batch(if checked.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            })?;
        }
        let checked = checked?;
        found.trim();
        import.checked = Some(checked);
        Ok((checked.counts, found))
    }
}

/// A key's ballots: the file's (first line, ballot id) in line order, and the ids of
/// the ledger's ballots that the file leaves alone.
type Members = (Vec<(u64, String)>, Vec<String>);

struct Checks<'a> {
    conn: &'a Connection,
    election_id: &'a str,
    had_ballots: bool,
    /// The file's rows are already in the ledger's `ballots` (a bulk first import),
    /// with each row's line in `source_line`: the checks read them there.
    stored: bool,
}

/// Which way to look for the ledger's ballots (those the file leaves alone) that
/// share a voter or a tracking code with the file: from the smaller side.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The file covers every ballot of the election: nothing to look for.
    Nothing,
    /// Fewer ballots left alone than rows in the file: read those ballots.
    Missing,
    /// A small file beside many ballots: read the file's rows.
    File,
}

impl Checks<'_> {
    /// The checks of a bulk first import, its rows just copied into the ledger.
    fn run_stored(&self, rows: u64, import_id: i64, found: &mut CrossRowErrors) -> Result<Checked> {
        let newest_import: i64 = self.conn.query_row(
            "SELECT coalesce(max(import_id), 0) FROM main.imports",
            [],
            |r| r.get(0),
        )?;
        if super::apply::copy_bulk(self.conn, self.election_id, import_id)? {
            self.name_repeats(found)?;
        }
        let started = std::time::Instant::now();
        self.active_voters(Side::Nothing, found)?;
        log::debug!("ACTIVE voters checked in {:.2?}", started.elapsed());
        let started = std::time::Instant::now();
        self.tracking_codes(Side::Nothing, found)?;
        log::debug!("tracking codes checked in {:.2?}", started.elapsed());
        Ok(Checked {
            counts: ImportCounts {
                added: rows,
                ..ImportCounts::default()
            },
            newest_import,
        })
    }

    fn run(&self, rows: u64, found: &mut CrossRowErrors) -> Result<Checked> {
        let newest_import: i64 = self.conn.query_row(
            "SELECT coalesce(max(import_id), 0) FROM main.imports",
            [],
            |r| r.get(0),
        )?;
        let started = std::time::Instant::now();
        self.ballot_ids(found)?;
        log::debug!("ballot ids checked in {:.2?}", started.elapsed());
        let started = std::time::Instant::now();
        let (counts, missing) = if self.had_ballots {
            let d = difference::read(self.conn, self.election_id, found)?;
            (d.counts, d.missing)
        } else {
            let all_new = ImportCounts {
                added: rows,
                ..ImportCounts::default()
            };
            (all_new, 0)
        };
        log::debug!(
            "difference read in {:.2?} ({missing} ballots the file leaves alone)",
            started.elapsed()
        );
        // The ledger's ballots the file leaves alone are what the file's rows must
        // also be checked against; with none (a county's full file), nothing.
        let side = match missing {
            0 => Side::Nothing,
            m if m < rows => Side::Missing,
            _ => Side::File,
        };
        let started = std::time::Instant::now();
        self.active_voters(side, found)?;
        log::debug!("ACTIVE voters checked in {:.2?}", started.elapsed());
        let started = std::time::Instant::now();
        self.tracking_codes(side, found)?;
        log::debug!("tracking codes checked in {:.2?}", started.elapsed());
        Ok(Checked {
            counts,
            newest_import,
        })
    }

    /// One row per ballot id. The file's index by ballot id also holds the voter and
    /// the row's digest, so the difference with the ledger reads the index alone;
    /// a ballot id found twice has each later line named against the first.
    fn ballot_ids(&self, found: &mut CrossRowErrors) -> Result<()> {
        self.conn.execute_batch(
            "CREATE INDEX staging.rows_by_id ON rows (ballot_id, voter_id, digest)",
        )?;
        let repeated: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM staging.rows INDEXED BY rows_by_id
                             GROUP BY ballot_id HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )?;
        if repeated {
            self.name_repeats(found)?;
        }
        Ok(())
    }

    /// Names each later line of a ballot id the file holds more than once.
    fn name_repeats(&self, found: &mut CrossRowErrors) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT line, ballot_id, first FROM (
                 SELECT line, ballot_id,
                        min(line) OVER (PARTITION BY ballot_id) AS first,
                        count(*) OVER (PARTITION BY ballot_id) AS n
                   FROM staging.rows)
              WHERE n > 1 AND line > first",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (line, id, first): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            found.push(row_error(
                to_line(line),
                "ballot_id",
                twice(&id, to_line(first)),
            ));
        }
        Ok(())
    }

    /// Keys that `query` (one parameter: the election) finds at fault.
    fn keys(&self, query: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(query)?;
        let keys = stmt
            .query_map([self.election_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(keys)
    }

    /// Adds the keys `beside_ledger` finds (if any) to `keys`, each once.
    fn add_keys(&self, keys: &mut Vec<String>, beside_ledger: Option<&str>) -> Result<()> {
        if let Some(query) = beside_ledger {
            keys.extend(self.keys(query)?);
            keys.sort_unstable();
            keys.dedup();
        }
        Ok(())
    }

    /// The file's lines and ballot ids for `key` (by `file`: a ballot the file repeats
    /// is one ballot, at its first line, and named once as repeated), and the ballot ids of
    /// the ledger's ballots the file leaves alone (by `ledger`): both take the
    /// election as ?1 and the key as ?2.
    fn members(&self, file: &str, ledger: &str, key: &str) -> Result<Members> {
        let mut in_file = self
            .conn
            .prepare_cached(file)?
            .query_map(params![self.election_id, key], |r| {
                Ok((to_line(r.get(0)?), r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        in_file.sort_unstable();
        let held = if self.had_ballots {
            self.conn
                .prepare_cached(ledger)?
                .query_map(params![self.election_id, key], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok((in_file, held))
    }

    /// One ACTIVE ballot per voter, judged on the ledger as the file would leave it:
    /// two in the file are named against the first; one in the file beside one the
    /// ledger holds (and the file does not mention) is named with both ballot ids.
    fn active_voters(&self, side: Side, found: &mut CrossRowErrors) -> Result<()> {
        if !self.stored {
            self.conn.execute_batch(
                "CREATE INDEX staging.rows_by_voter ON rows (voter_id, status, ballot_id)",
            )?;
        }
        let mut voters = self.keys(if self.stored {
            // Candidates: a repeated ballot is one ballot, told by its members.
            "SELECT voter_id FROM main.ballots INDEXED BY ballots_by_voter
              WHERE election_id = ?1 AND status = 'ACTIVE'
              GROUP BY voter_id HAVING count(*) > 1"
        } else {
            "SELECT voter_id FROM staging.rows INDEXED BY rows_by_voter
              WHERE status = 'ACTIVE' AND ?1 IS NOT NULL
              GROUP BY voter_id HAVING min(ballot_id) <> max(ballot_id)"
        })?;
        let beside_ledger = match side {
            Side::Nothing => None,
            Side::Missing => Some(
                "SELECT DISTINCT b.voter_id FROM staging.missing m
                   JOIN main.ballots b ON b.ballot_pk = m.ballot_pk
                  WHERE b.status = 'ACTIVE' AND b.election_id = ?1
                    AND EXISTS (SELECT 1 FROM staging.rows r INDEXED BY rows_by_voter
                                 WHERE r.voter_id = b.voter_id AND r.status = 'ACTIVE')",
            ),
            Side::File => Some(
                "SELECT DISTINCT r.voter_id FROM staging.rows r INDEXED BY rows_by_voter
                  CROSS JOIN main.ballots b INDEXED BY ballots_by_voter
                     ON b.election_id = ?1 AND b.voter_id = r.voter_id AND b.status = 'ACTIVE'
                  WHERE r.status = 'ACTIVE'
                    AND b.ballot_pk IN (SELECT ballot_pk FROM staging.missing)",
            ),
        };
        self.add_keys(&mut voters, beside_ledger)?;
        for voter in voters {
            let (in_file, held) = self.members(
                if self.stored {
                    "SELECT min(source_line), ballot_id FROM main.ballots
                      WHERE election_id = ?1 AND voter_id = ?2 AND status = 'ACTIVE'
                      GROUP BY ballot_id"
                } else {
                    "SELECT min(line), ballot_id FROM staging.rows
                      WHERE voter_id = ?2 AND status = 'ACTIVE' AND ?1 IS NOT NULL
                      GROUP BY ballot_id"
                },
                "SELECT b.ballot_id FROM main.ballots b
                  WHERE b.election_id = ?1 AND b.voter_id = ?2 AND b.status = 'ACTIVE'
                    AND b.ballot_pk IN (SELECT ballot_pk FROM staging.missing)",
                &voter,
            )?;
            if in_file.len() + held.len() < 2 {
                continue;
            }
            if let [(first, _), later @ ..] = &in_file[..]
                && !later.is_empty()
            {
                for (line, _) in later {
                    found.push(row_error(
                        *line,
                        "voter_id",
                        format!(
                            "voter {voter:?} already has an ACTIVE ballot on line {first}; at most one ACTIVE ballot per voter"
                        ),
                    ));
                }
                continue;
            }
            let mut ids: Vec<&str> = in_file
                .iter()
                .map(|(_, id)| id.as_str())
                .chain(held.iter().map(String::as_str))
                .collect();
            ids.sort_unstable();
            found.push(row_error(
                in_file.first().map_or(0, |(l, _)| *l),
                "voter_id",
                format!(
                    "voter {voter:?} would have more than one ACTIVE ballot ({}); void the replaced one in the file",
                    ids.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// One return envelope per tracking code in an election: a scan of it must name
    /// one ballot. Codes shared only among ballots the file leaves alone are not this
    /// file's doing and are left alone.
    fn tracking_codes(&self, side: Side, found: &mut CrossRowErrors) -> Result<()> {
        if !self.stored {
            self.conn.execute_batch(
                "CREATE INDEX staging.rows_by_tracking ON rows (return_tracking, ballot_id)
                  WHERE return_tracking IS NOT NULL",
            )?;
        }
        let mut codes = self.keys(if self.stored {
            // Named, because the planner otherwise reads every ballot's row for the
            // generated column instead of the index that holds it.
            "SELECT return_tracking FROM main.ballots INDEXED BY ballots_by_return_tracking
              WHERE return_imb IS NOT NULL AND election_id = ?1
              GROUP BY return_tracking HAVING count(*) > 1"
        } else {
            "SELECT return_tracking FROM staging.rows INDEXED BY rows_by_tracking
              WHERE return_tracking IS NOT NULL AND ?1 IS NOT NULL
              GROUP BY return_tracking HAVING min(ballot_id) <> max(ballot_id)"
        })?;
        // The ledger's index is named, because the planner otherwise reads every
        // ballot's row for the generated column instead of the index that holds it.
        let beside_ledger = match side {
            Side::Nothing => None,
            Side::Missing => Some(
                "SELECT DISTINCT b.return_tracking FROM staging.missing m
                   JOIN main.ballots b ON b.ballot_pk = m.ballot_pk
                  WHERE b.return_imb IS NOT NULL AND b.election_id = ?1
                    AND EXISTS (SELECT 1 FROM staging.rows r INDEXED BY rows_by_tracking
                                 WHERE r.return_tracking = b.return_tracking)",
            ),
            Side::File => Some(
                "SELECT DISTINCT r.return_tracking FROM staging.rows r INDEXED BY rows_by_tracking
                  CROSS JOIN main.ballots b INDEXED BY ballots_by_return_tracking
                     ON b.return_tracking = r.return_tracking AND b.election_id = ?1
                    AND b.return_imb IS NOT NULL
                  WHERE r.return_tracking IS NOT NULL
                    AND b.ballot_pk IN (SELECT ballot_pk FROM staging.missing)",
            ),
        };
        self.add_keys(&mut codes, beside_ledger)?;
        for code in codes {
            let (in_file, held) = self.members(
                if self.stored {
                    "SELECT min(source_line), ballot_id FROM main.ballots
                         INDEXED BY ballots_by_return_tracking
                      WHERE return_imb IS NOT NULL AND return_tracking = ?2 AND election_id = ?1
                      GROUP BY ballot_id"
                } else {
                    "SELECT min(line), ballot_id FROM staging.rows
                      WHERE return_tracking = ?2 AND ?1 IS NOT NULL
                      GROUP BY ballot_id"
                },
                "SELECT b.ballot_id FROM main.ballots b INDEXED BY ballots_by_return_tracking
                  WHERE b.return_imb IS NOT NULL AND b.return_tracking = ?2 AND b.election_id = ?1
                    AND b.ballot_pk IN (SELECT ballot_pk FROM staging.missing)",
                &code,
            )?;
            match &in_file[..] {
                [(line, _)] if !held.is_empty() => {
                    let other = held.first().map_or("", String::as_str);
                    found.push(row_error(
                        *line,
                        "return_imb",
                        format!(
                            "its tracking code is already ballot {other:?}'s return envelope; each return envelope needs its own"
                        ),
                    ));
                }
                [(first, _), later @ ..] if !later.is_empty() => {
                    for (line, _) in later {
                        found.push(row_error(
                            *line,
                            "return_imb",
                            format!(
                                "its tracking code is also on line {first}; each return envelope needs its own"
                            ),
                        ));
                    }
                }
                // None of the file's, or one with no other: not this file's doing.
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether the ledger's newest import is still `newest` (nothing changed the ballots
/// since the checks read them).
pub(super) fn unchanged_since(conn: &Connection, newest: i64) -> Result<bool> {
    let now: Option<i64> = conn
        .query_row("SELECT max(import_id) FROM main.imports", [], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(now.unwrap_or(0) == newest)
}
