//! What a file changes: the file's rows and the election's ballots, both read in
//! ballot-id order and merged in one pass (each side sequential, no B-tree descent
//! per row). A ballot in both is compared by digest; one only in the file is new;
//! one only in the ledger is one the file leaves alone ("missing", normally none
//! for a county's full file, and what the other checks must still count).

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, Statement, params};
use std::cmp::Ordering;

use super::{CrossRowErrors, DATA_COLUMNS, ImportCounts, Stored, digest, row_error};
use crate::ledger::Result;

/// The difference's counts, and how many ledger ballots of the election the file
/// leaves alone.
pub(super) struct Difference {
    pub(super) counts: ImportCounts,
    pub(super) missing: u64,
}

/// A row of the file as its ballot-id index gives it.
struct FileRow {
    row: i64,
    ballot_id: Vec<u8>,
    voter_id: Vec<u8>,
    digest: Vec<u8>,
}

/// A text (or blob) value's bytes; anything else reads as no bytes.
fn bytes_of(v: ValueRef<'_>) -> &[u8] {
    match v {
        ValueRef::Text(t) | ValueRef::Blob(t) => t,
        _ => &[],
    }
}

fn file_row(r: &Row<'_>) -> rusqlite::Result<FileRow> {
    let bytes = |i: usize| -> rusqlite::Result<Vec<u8>> { Ok(bytes_of(r.get_ref(i)?).to_vec()) };
    Ok(FileRow {
        row: r.get(0)?,
        ballot_id: bytes(1)?,
        voter_id: bytes(2)?,
        digest: bytes(3)?,
    })
}

/// Writes what the merge finds into the scratch file: `changes` (rows to store:
/// changed ballots with their key, new ones without) and `missing` (the ledger's
/// ballots the file leaves alone), both in ballot-id order.
struct Out<'c> {
    change: Statement<'c>,
    missing: Statement<'c>,
}

/// Reads the difference between the file (`staging.rows`, its index `rows_by_id`
/// built) and the ledger's ballots of `election_id`. Names each ballot id the
/// ledger holds for another voter.
pub(super) fn read(
    conn: &Connection,
    election_id: &str,
    found: &mut CrossRowErrors,
) -> Result<Difference> {
    conn.execute_batch(
        "CREATE TABLE staging.changes (row INTEGER NOT NULL, ballot_pk INTEGER);
         CREATE TABLE staging.missing (ballot_pk INTEGER PRIMARY KEY);",
    )?;
    let mut file = conn.prepare(
        "SELECT rowid, ballot_id, voter_id, digest FROM staging.rows INDEXED BY rows_by_id
          ORDER BY ballot_id",
    )?;
    let cols = DATA_COLUMNS.join(", ");
    let mut ledger = conn.prepare(&format!(
        "SELECT ballot_pk, ballot_id, {cols} FROM main.ballots INDEXED BY ballots_by_id
          WHERE election_id = ?1 ORDER BY ballot_id"
    ))?;
    let mut out = Out {
        change: conn.prepare("INSERT INTO staging.changes (row, ballot_pk) VALUES (?1, ?2)")?,
        missing: conn.prepare("INSERT INTO staging.missing (ballot_pk) VALUES (?1)")?,
    };
    let mut other_voter = Vec::new();
    let mut counts = ImportCounts::default();
    let mut missing = 0u64;
    let mut files = file.query([])?;
    let mut held = ledger.query([election_id])?;
    let mut f = files.next()?.map(file_row).transpose()?;
    let mut l = held.next()?;
    loop {
        let order = match (&f, &l) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(fr), Some(lr)) => fr.ballot_id.as_slice().cmp(bytes_of(lr.get_ref(1)?)),
        };
        match order {
            Ordering::Less => {
                if let Some(fr) = &f {
                    out.change.execute(params![fr.row, None::<i64>])?;
                    counts.added += 1;
                }
                f = files.next()?.map(file_row).transpose()?;
            }
            Ordering::Greater => {
                if let Some(lr) = l {
                    out.missing.execute([lr.get::<_, i64>(0)?])?;
                    missing += 1;
                }
                l = held.next()?;
            }
            Ordering::Equal => {
                if let (Some(fr), Some(lr)) = (&f, l) {
                    let pk: i64 = lr.get(0)?;
                    if bytes_of(lr.get_ref(2)?) != fr.voter_id.as_slice() {
                        other_voter.push(fr.row);
                    }
                    let stored = digest(
                        (2..2 + DATA_COLUMNS.len())
                            .map(|i| lr.get_ref(i).map_or(Stored::Other, Stored::from)),
                    );
                    if stored.is_some_and(|d| d.as_slice() == fr.digest.as_slice()) {
                        counts.unchanged += 1;
                    } else {
                        out.change.execute(params![fr.row, pk])?;
                        counts.updated += 1;
                    }
                }
                // A ballot id the file repeats meets the same ledger row again.
                let next = files.next()?.map(file_row).transpose()?;
                let repeats =
                    matches!((&f, &next), (Some(a), Some(b)) if a.ballot_id == b.ballot_id);
                f = next;
                if !repeats {
                    l = held.next()?;
                }
            }
        }
    }
    drop((files, held));
    for row in other_voter {
        let (line, id): (i64, String) = conn.query_row(
            "SELECT line, ballot_id FROM staging.rows WHERE rowid = ?1",
            [row],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        found.push(row_error(
            u64::try_from(line).unwrap_or(0),
            "voter_id",
            format!(
                "ballot {id:?} belongs to another voter in the ledger; a ballot id is never reassigned"
            ),
        ));
    }
    Ok(Difference { counts, missing })
}
