//! Importing a mail ballot file: two threads, because a station has two cores and a
//! county's file has millions of rows.
//!
//! A named reader thread parses the CSV and validates each row; the calling thread
//! stores the rows that passed in the import's scratch file, then has the ledger
//! make the checks across rows with sorted indexes (so memory does not grow with the
//! file) and store what the file changes in one short write transaction (see
//! `ledger::import`). Records travel in chunks and the emptied chunks come back, so
//! the record buffers are reused instead of allocated per row. If any row has an
//! error nothing reaches the ledger: all or nothing.

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use super::guard::{MAX_ROW_BYTES, RowGuard};
use super::{Header, ImportError, MAX_LISTED_ERRORS, RowError, RowRules, parse_row};
use crate::barcode::CheckDigit;
use crate::ledger::{CrossRowErrors, ImportSummary, Ledger, User};

/// Rows per chunk handed from the reader to the writer.
const CHUNK: usize = 2048;

/// Counts and hashes the bytes the CSV reader pulls, for progress and the import
/// record, and notes where its lines break, so that an error names the line a person
/// sees in an editor whatever the line endings.
struct Tap<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    lines: Lines,
    /// Stops the read at a row longer than [`MAX_ROW_BYTES`].
    guard: RowGuard,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.lines.scan(&buf[..n], self.bytes);
        if let Err(line) = self.guard.scan(&buf[..n], self.bytes) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "line {line}: a row longer than {MAX_ROW_BYTES} bytes (a file without line ends, or a quote left open); nothing was imported"
                ),
            ));
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Where the lines of the file break: LF, CRLF (one break) or a lone CR (files
/// from old Mac software). The CSV reader's own line count follows LF only and, with
/// CRLF, can stand on the CR of the previous line when a record starts; this counts
/// breaks by byte offset instead. Only the breaks the reader has read ahead of its
/// records are held (a buffer's worth), never the whole file's.
#[derive(Default)]
struct Lines {
    /// Breaks read and not yet passed by a record, each as the offsets of its first
    /// and last byte (a CRLF is one break of two bytes).
    ahead: std::collections::VecDeque<(u64, u64)>,
    /// A CR just read, which is a break of its own unless an LF follows it.
    cr: Option<u64>,
    /// Breaks before the last record looked up.
    passed: u64,
}

impl Lines {
    /// Notes the breaks in `bytes`, which start at offset `at` in the file.
    fn scan(&mut self, bytes: &[u8], at: u64) {
        for i in memchr::memchr2_iter(b'\r', b'\n', bytes) {
            let offset = at + i as u64;
            let mut first = offset;
            if let Some(cr) = self.cr.take() {
                if bytes[i] == b'\n' && offset == cr + 1 {
                    first = cr;
                } else {
                    self.ahead.push_back((cr, cr));
                }
            }
            if bytes[i] == b'\r' {
                self.cr = Some(offset);
            } else {
                self.ahead.push_back((first, offset));
            }
        }
    }

    /// The line (from 1) of a record that the reader says starts at byte `start`;
    /// records are looked up in file order. The reader may place a record's start
    /// on the blank lines it skipped before it (found by fuzzing: two blank lines
    /// before a row named it one line early), so a break that begins where the
    /// count has reached is passed too: a record's own first byte never ends a line.
    fn line_at(&mut self, start: u64) -> u64 {
        let mut at = start;
        while let Some(&(first, last)) = self.ahead.front() {
            if first > at {
                break;
            }
            self.ahead.pop_front();
            self.passed += 1;
            at = at.max(last + 1);
        }
        let lone_cr = u64::from(self.cr.is_some_and(|cr| cr <= at));
        self.passed + lone_cr + 1
    }
}

/// Collects row errors, keeping the first [`MAX_LISTED_ERRORS`].
#[derive(Default)]
struct Errors {
    listed: Vec<RowError>,
    total: usize,
}

impl Errors {
    /// Counts `e`, and lists it unless the list is full or it repeats the file's
    /// election error word for word (a file of another election has the same error
    /// on every row: it is said once, and the other rows' errors still show).
    fn add(&mut self, e: RowError) {
        self.total += 1;
        let repeated = e.column == "election_id"
            && self
                .listed
                .iter()
                .any(|l| l.column == e.column && l.message == e.message);
        if self.listed.len() < MAX_LISTED_ERRORS && !repeated {
            self.listed.push(e);
        }
    }

    /// Adds the ledger's checks across rows: the list becomes the first
    /// [`MAX_LISTED_ERRORS`] of both by line (each list holds its own first ones, so
    /// none that belongs in it is missing), the count the sum.
    fn merge(&mut self, across: CrossRowErrors) {
        self.total += across.total;
        self.listed.extend(across.listed);
        self.listed.sort_by_key(|e| e.line);
        self.listed.truncate(MAX_LISTED_ERRORS);
    }
}

type CsvReader = csv::Reader<Tap<std::fs::File>>;

/// The CSV reader an import reads `inner` with (flexible, so a short row is one
/// named error rather than the end of the file), its bytes counted, hashed, their
/// line breaks noted and each row's length guarded.
fn csv_reader<R: Read>(inner: R) -> csv::Reader<Tap<R>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(Tap {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            lines: Lines::default(),
            guard: RowGuard::default(),
        })
}

/// Reads a mail ballot file from `data` as an import does (header, rows, the line
/// each row starts on), with no ledger: what `fuzz/` drives with arbitrary bytes.
/// Calls `each(line, start, row)` for every row after the header with the byte it
/// starts at and its check's result; returns the header's errors or the reader's.
#[doc(hidden)]
pub fn read_records(
    data: &[u8],
    rules: &RowRules<'_>,
    mut each: impl FnMut(u64, u64, Result<(), Vec<RowError>>),
) -> Result<(), String> {
    let mut reader = csv_reader(data);
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(|e| read_error("data", &e).to_string())?
    {
        return Ok(());
    }
    let header = Header::parse(&record).map_err(|e| format!("{} header errors", e.len()))?;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| read_error("data", &e).to_string())?
    {
        let start = record.position().map_or(0, csv::Position::byte);
        let line = reader.get_mut().lines.line_at(start);
        each(
            line,
            start,
            parse_row(&record, &header, line, rules).map(|_| ()),
        );
    }
    Ok(())
}

/// Valid records (with their line numbers), the errors found, and how far the file
/// has been read.
struct Chunk {
    rows: Vec<(u64, csv::ByteRecord)>,
    len: usize,
    errors: Vec<RowError>,
    bytes: u64,
}

/// What the reader hands back when the file is done.
struct ReadEnd {
    rows_read: u64,
    bytes: u64,
    sha256: String,
}

fn read_error(file: &str, e: &csv::Error) -> ImportError {
    let message = match e.kind() {
        csv::ErrorKind::Io(err) => err.to_string(),
        _ => format!("line {}: {e}", e.position().map_or(0, csv::Position::line)),
    };
    ImportError::Io {
        file: file.to_string(),
        message,
    }
}

/// Everything the reader thread owns.
struct ReaderJob {
    reader: CsvReader,
    header: Header,
    election_id: String,
    check_digit: CheckDigit,
    file: String,
    to_writer: SyncSender<Chunk>,
    recycled: Receiver<Vec<(u64, csv::ByteRecord)>>,
}

/// The reader thread's body: parse, validate, send chunks. The checks across rows
/// are the ledger's (its indexes see every row without the file's keys in memory).
fn read_rows(job: ReaderJob) -> Result<ReadEnd, ImportError> {
    let ReaderJob {
        mut reader,
        header,
        election_id,
        check_digit,
        file,
        to_writer,
        recycled,
    } = job;
    let (header, file) = (&header, file.as_str());
    let rules = RowRules {
        election_id: &election_id,
        check_digit,
    };
    let mut rows_read = 0u64;
    let fresh = || Chunk {
        rows: Vec::new(),
        len: 0,
        errors: Vec::new(),
        bytes: 0,
    };
    let mut chunk = fresh();
    loop {
        if chunk.len == chunk.rows.len() {
            chunk.rows.push((0, csv::ByteRecord::new()));
        }
        let slot = &mut chunk.rows[chunk.len];
        if !reader
            .read_byte_record(&mut slot.1)
            .map_err(|e| read_error(file, &e))?
        {
            break;
        }
        // The line the record starts on, counted from its first byte (see `Lines`).
        let start = slot.1.position().map_or(0, csv::Position::byte);
        let line = reader.get_mut().lines.line_at(start);
        // Blank lines are skipped by the CSV reader; a row of empty fields is not.
        rows_read += 1;
        slot.0 = line;
        match parse_row(&slot.1, header, line, &rules) {
            Ok(_) => chunk.len += 1,
            Err(errs) => chunk.errors.extend(errs),
        }
        if chunk.len == CHUNK || chunk.errors.len() >= CHUNK {
            chunk.bytes = reader.get_ref().bytes;
            let mut next = fresh();
            next.rows = recycled.try_recv().unwrap_or_default();
            if to_writer.send(std::mem::replace(&mut chunk, next)).is_err() {
                // The writer stopped (a ledger error); it reports why.
                break;
            }
        }
    }
    chunk.bytes = reader.get_ref().bytes;
    let _ = to_writer.send(chunk);
    let tap = reader.into_inner();
    Ok(ReadEnd {
        rows_read,
        bytes: tap.bytes,
        sha256: hex::encode(tap.hasher.finalize()),
    })
}

/// Imports a mail ballot file into the active election, all or nothing, `by` a
/// supervisor or administrator (named in the audit log).
/// `progress(done_bytes, total_bytes)` is called as chunks are stored.
pub fn import_file(
    ledger: &mut Ledger,
    path: &Path,
    by: Option<&User>,
    progress: impl FnMut(u64, u64),
) -> Result<ImportSummary, ImportError> {
    let result = import_whole(ledger, path, by, progress);
    ledger.end_import();
    result
}

fn import_whole(
    ledger: &mut Ledger,
    path: &Path,
    by: Option<&User>,
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let shown = path.display().to_string();
    let io = |e: &dyn fmt::Display| ImportError::Io {
        file: shown.clone(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| io(&e))?;
    let total = file.metadata().map_or(0, |m| m.len());
    let election = ledger.active_election()?;
    let mut reader = csv_reader(file);
    let file_name = path
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let mut record = csv::ByteRecord::new();
    let header = if reader
        .read_byte_record(&mut record)
        .map_err(|e| read_error(&shown, &e))?
    {
        Header::parse(&record)
    } else {
        Err(vec![RowError {
            line: 1,
            column: "-".into(),
            message: "the file is empty: a header row is required".into(),
        }])
    };
    let header = match header {
        Ok(h) => h,
        Err(errs) => {
            ledger.record_rejected_import(by, &file_name, "", 0, errs.len())?;
            return Err(ImportError::Rejected {
                file: shown,
                total: errs.len(),
                errors: errs,
            });
        }
    };

    let (to_writer, from_reader) = sync_channel::<Chunk>(4);
    let (recycle, recycled) = sync_channel::<Vec<(u64, csv::ByteRecord)>>(8);
    let job = ReaderJob {
        reader,
        header: header.clone(),
        election_id: election.election_id.clone(),
        check_digit: election.check_digit,
        file: shown.clone(),
        to_writer,
        recycled,
    };
    let reading = std::thread::Builder::new()
        .name("mail-ballot-reader".into())
        .spawn(move || read_rows(job))
        .map_err(|e| io(&format!("could not start the reader thread: {e}")))?;

    let rules = RowRules {
        election_id: &election.election_id,
        check_digit: election.check_digit,
    };
    let mut errors = Errors::default();
    let mut import = ledger.begin_import(&file_name, by)?;
    let mut importer = import.rows()?;
    let stored = (|| -> Result<(), ImportError> {
        for chunk in &from_reader {
            chunk.errors.into_iter().for_each(|e| errors.add(e));
            for (line, rec) in &chunk.rows[..chunk.len] {
                // The reader validated this record; parse it again here to borrow
                // its fields (cheaper than sending owned rows across threads).
                match parse_row(rec, &header, *line, &rules) {
                    Ok(row) => importer.store(&row)?,
                    Err(errs) => errs.into_iter().for_each(|e| errors.add(e)),
                }
            }
            progress(chunk.bytes, total);
            let _ = recycle.try_send(chunk.rows);
        }
        Ok(())
    })();
    // Dropping the receiver stops the reader if the writer failed early.
    drop(from_reader);
    let end = reading
        .join()
        .map_err(|_| io(&"the reader thread failed"))??;
    log::debug!("rows stored after {:.2?}", started.elapsed());
    stored?;
    let (counts, across) = importer.finish(MAX_LISTED_ERRORS)?;
    log::debug!("checked after {:.2?}", started.elapsed());
    errors.merge(across);
    progress(end.bytes, total.max(end.bytes));
    if errors.total > 0 {
        drop(import);
        ledger.record_rejected_import(by, &file_name, &end.sha256, end.rows_read, errors.total)?;
        return Err(ImportError::Rejected {
            file: shown,
            errors: errors.listed,
            total: errors.total,
        });
    }
    Ok(import.commit(counts, &end.sha256, end.rows_read, started.elapsed())?)
}
