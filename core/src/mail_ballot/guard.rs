//! A bound on one row of a mail ballot file, checked on the bytes as they are read,
//! before the CSV reader holds them: a file without line ends (`/dev/zero`) or a
//! quote left open would otherwise grow one record until memory runs out.

/// The longest row of a mail ballot file, in bytes: a county's rows are a few
/// hundred bytes; this allows for every optional column at its longest.
pub const MAX_ROW_BYTES: u64 = 64 * 1024;

/// Follows quoting and line breaks through the file's bytes, to know how long the
/// row in progress is and on which line it started.
#[derive(Debug, Default)]
pub(super) struct RowGuard {
    in_quotes: bool,
    /// Bytes of the row in progress so far.
    row_bytes: u64,
    /// Line breaks so far (a CRLF is one), quoted ones included: lines as an editor
    /// shows them.
    breaks: u64,
    /// Breaks before the row in progress.
    row_start: u64,
    /// Offset of the last CR seen, to count a CRLF once.
    cr_at: Option<u64>,
}

impl RowGuard {
    /// Notes `bytes`, which start at offset `at` of the file. Fails with the line
    /// the row in progress started on once that row is longer than the limit.
    pub(super) fn scan(&mut self, bytes: &[u8], at: u64) -> Result<(), u64> {
        let mut from = 0;
        for i in memchr::memchr3_iter(b'"', b'\r', b'\n', bytes) {
            self.row_bytes += (i - from) as u64 + 1;
            from = i + 1;
            let offset = at + i as u64;
            match bytes[i] {
                b'"' => self.in_quotes = !self.in_quotes,
                b => {
                    let second_of_crlf = b == b'\n' && offset > 0 && self.cr_at == Some(offset - 1);
                    if b == b'\r' {
                        self.cr_at = Some(offset);
                    }
                    if !second_of_crlf {
                        self.breaks += 1;
                    }
                    if !self.in_quotes {
                        self.row_bytes = 0;
                        self.row_start = self.breaks;
                    }
                }
            }
            if self.row_bytes > MAX_ROW_BYTES {
                return Err(self.row_start + 1);
            }
        }
        self.row_bytes += (bytes.len() - from) as u64;
        if self.row_bytes > MAX_ROW_BYTES {
            return Err(self.row_start + 1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_any_line_ending_pass_and_a_row_without_an_end_fails_at_its_line() {
        let mut g = RowGuard::default();
        let ok = b"a,b\r\nc,\"d\ne\"\rf,g\n";
        assert_eq!(g.scan(ok, 0), Ok(()));
        assert_eq!(g.breaks, 4);
        let zeros = vec![0u8; 40_000];
        let mut at = ok.len() as u64;
        assert_eq!(g.scan(&zeros, at), Ok(()));
        at += zeros.len() as u64;
        assert_eq!(g.scan(&zeros, at), Err(5));
    }

    #[test]
    fn a_quote_left_open_fails_where_its_row_began() {
        let mut g = RowGuard::default();
        assert_eq!(g.scan(b"h\nx,\"open\n", 0), Ok(()));
        let lines = b"more text\n".repeat(10_000);
        assert_eq!(g.scan(&lines, 10), Err(2));
    }
}
