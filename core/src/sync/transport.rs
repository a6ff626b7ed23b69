//! How a batch leaves the station: the backend's HTTPS API, or a folder.
//!
//! A transport only answers what became of one send; the engine decides what to do
//! next. The HTTPS transport maps the protocol's statuses (docs/sync-protocol.md):
//! 200/201 with an acknowledgement acknowledges the batch; 408, 429, 5xx, a timeout
//! or a broken connection are retried; any other 4xx holds the batch.

use serde::Deserialize;

use super::hub::{FeedPage, HubConflict, StationReport};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The backend has the whole batch.
    Acked {
        /// Events it took as new.
        accepted: i64,
        /// Events it already had.
        duplicates: i64,
        /// The batch's receipts a county hub found to be cross-station duplicates
        /// (always empty from a notification backend).
        conflicts: Vec<HubConflict>,
    },
    /// A passing failure: send the same batch again later.
    Retry {
        /// What happened.
        reason: String,
        /// How long the backend asked us to wait (Retry-After).
        after: Option<Duration>,
    },
    /// The backend refused the batch: hold it for a supervisor.
    Rejected {
        /// What the backend said.
        reason: String,
    },
}

/// Something that can deliver a batch.
pub trait Transport: Send {
    /// Sends the batch's exact bytes under its id (`events` events, as the ledger
    /// counted them when it formed the batch), taking at most `limit` when given
    /// (what is left of the command's deadline), else the configured timeout.
    fn send(
        &mut self,
        batch_id: &str,
        payload: &[u8],
        events: usize,
        limit: Option<Duration>,
    ) -> SendOutcome;
    /// Where batches go, for messages.
    fn describe(&self) -> String;
    /// The county hub's receipts after `after` (`GET /v1/receipts`), where this
    /// transport reaches a hub; `None` where it cannot (a folder).
    fn feed(&mut self, after: &str) -> Option<Result<FeedPage, String>> {
        let _ = after;
        None
    }
    /// Tells the county hub how the station stands (`POST /v1/status`), where this
    /// transport reaches a hub; `None` where it cannot (a folder).
    fn report(&mut self, report: &StationReport) -> Option<Result<(), String>> {
        let _ = report;
        None
    }
}

/// Why a transport could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Whether `url` may be used: `https://` anywhere, `http://` only on a loopback
/// address (a local relay, or the test receiver), so tokens and voter ids never
/// cross a network in clear text.
pub fn check_url(url: &str) -> Result<(), SetupError> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| SetupError(format!("{url:?} is not a URL: {e}")))?;
    if uri.scheme_str().is_none() {
        // Most often a folder, typed where the backend's address goes.
        return Err(SetupError(format!(
            "{url:?} is not a web address (those start with https://); a folder is set as \
             the folder to send to, not as a URL"
        )));
    }
    let host = uri
        .host()
        .ok_or_else(|| SetupError(format!("{url:?} names no host")))?;
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback =
                bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(SetupError(format!(
                    "{url:?}: plain http is allowed only to a loopback address; use https"
                )))
            }
        }
        _ => Err(SetupError(format!("{url:?}: use an https:// URL"))),
    }
}

/// Refuses a token file that other accounts could read.
pub fn check_token_file(path: &Path) -> Result<String, SetupError> {
    read_token(path).map_err(|p| match p {
        TokenProblem::Unreadable(m) | TokenProblem::Unfit(m) => SetupError(m),
    })
}

/// Why a token could not be had: the file could not be read now (an I/O error, or
/// not there: a send tries again later, as after a network failure), or it is not
/// fit to send (readable by others, empty, more than one line: held until fixed).
enum TokenProblem {
    Unreadable(String),
    Unfit(String),
}

/// Reads and checks the token file.
fn read_token(path: &Path) -> Result<String, TokenProblem> {
    let meta = std::fs::metadata(path).map_err(|e| {
        TokenProblem::Unreadable(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(TokenProblem::Unfit(format!(
                "the token file {} can be read by other accounts (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let token = std::fs::read_to_string(path).map_err(|e| {
        TokenProblem::Unreadable(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(TokenProblem::Unfit(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    // A token goes into a header: a line break in it would add headers of its own.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenProblem::Unfit(format!(
            "the token file {} holds more than one line, spaces or control characters; a token is one line of printable characters",
            path.display()
        )));
    }
    Ok(token)
}

/// The notification backend's HTTPS API.
pub struct Https {
    agent: ureq::Agent,
    timeout: Duration,
    endpoint: String,
    feed: String,
    status: String,
    token_file: PathBuf,
}

#[derive(Deserialize)]
struct Ack {
    batch_id: String,
    accepted: i64,
    duplicates: i64,
    #[serde(default)]
    conflicts: Vec<HubConflict>,
}

/// The wait a `Retry-After` header asks for, in seconds (at most an hour); the
/// HTTP-date form and anything else unreadable count as no request.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(3600)))
}

/// One HTTP answer to a batch, as it came.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The status code.
    pub status: u16,
    /// The body (the first MiB).
    pub body: &'a str,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The `Location` header, if any.
    pub location: Option<&'a str>,
}

/// What `answer` means for the batch `batch_id` of `events` events, by the protocol
/// (docs/sync-protocol.md). Apart from the network so that whatever a backend, or
/// something posing as one, answers can be tried against it (`fuzz/`): only an
/// acknowledgement naming this batch, whose counts are not negative and add up to
/// the batch's events, marks the events sent. Anything else that says 200 is sent
/// again, since the batch may or may not be stored.
pub fn judge(answer: &Answer<'_>, batch_id: &str, events: usize) -> SendOutcome {
    let status = answer.status;
    let after = answer.retry_after.and_then(parse_retry_after);
    let excerpt: String = answer.body.chars().take(300).collect();
    match status {
        200 | 201 => match serde_json::from_str::<Ack>(answer.body) {
            Ok(ack)
                if ack.batch_id == batch_id
                    && ack.accepted >= 0
                    && ack.duplicates >= 0
                    && ack.accepted.checked_add(ack.duplicates) == i64::try_from(events).ok() =>
            {
                SendOutcome::Acked {
                    accepted: ack.accepted,
                    duplicates: ack.duplicates,
                    conflicts: ack.conflicts,
                }
            }
            Ok(ack) if ack.batch_id == batch_id => SendOutcome::Retry {
                reason: format!(
                    "HTTP {status}: an acknowledgement whose counts ({} accepted, {} duplicates) are not the batch's {events} events",
                    ack.accepted, ack.duplicates
                ),
                after,
            },
            _ => SendOutcome::Retry {
                reason: format!("HTTP {status} without a valid acknowledgement: {excerpt}"),
                after,
            },
        },
        300..=399 => SendOutcome::Rejected {
            reason: format!(
                "HTTP {status}: the backend redirects to {:?}; redirects are never followed: set the sync to the backend's own address",
                answer.location.unwrap_or("")
            ),
        },
        408 | 429 | 500..=599 => SendOutcome::Retry {
            reason: format!("HTTP {status}: {excerpt}"),
            after,
        },
        _ => SendOutcome::Rejected {
            reason: format!("HTTP {status}: {excerpt}"),
        },
    }
}

/// The HTTP client every request to the backend uses: a timeout per request, no
/// redirect ever followed (a 301 to another host would take the voters' events
/// there, and turn the POST into a GET), and, when `ca_file` is given, only its CA
/// trusted.
pub(crate) fn agent(ca_file: Option<&Path>, timeout: Duration) -> Result<ureq::Agent, SetupError> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| SetupError(format!("cannot read the CA file {}: {e}", ca.display())))?;
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(SetupError(format!(
                "{} holds no PEM certificate",
                ca.display()
            )));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .into())
}

impl Https {
    /// A client for `url` (checked with [`check_url`]) with a per-request timeout and,
    /// when given, only the CA in `ca_file` trusted.
    pub fn new(
        url: &str,
        token_file: &Path,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Https, SetupError> {
        check_url(url)?;
        check_token_file(token_file)?;
        let agent = agent(ca_file, timeout)?;
        Ok(Https {
            agent,
            timeout,
            endpoint: format!("{}/v1/batches", url.trim_end_matches('/')),
            feed: format!("{}/v1/receipts", url.trim_end_matches('/')),
            status: format!("{}/v1/status", url.trim_end_matches('/')),
            token_file: token_file.to_path_buf(),
        })
    }
}

impl Transport for Https {
    fn send(
        &mut self,
        batch_id: &str,
        payload: &[u8],
        events: usize,
        limit: Option<Duration>,
    ) -> SendOutcome {
        // Read on every send, so a replaced token takes effect without a restart.
        let token = match read_token(&self.token_file) {
            Ok(t) => t,
            Err(TokenProblem::Unreadable(reason)) => {
                return SendOutcome::Retry {
                    reason,
                    after: None,
                };
            }
            Err(TokenProblem::Unfit(reason)) => return SendOutcome::Rejected { reason },
        };
        let mut request = self.agent.post(&self.endpoint);
        if let Some(limit) = limit {
            request = request
                .config()
                .timeout_global(Some(limit.min(self.timeout)))
                .build();
        }
        let response = request
            .header("Authorization", &format!("Bearer {token}"))
            .header("Idempotency-Key", batch_id)
            .header("Content-Type", "application/json")
            .send(payload);
        let mut resp = match response {
            Ok(r) => r,
            Err(e) => {
                return SendOutcome::Retry {
                    reason: format!("{}: {e}", self.endpoint),
                    after: None,
                };
            }
        };
        let body = resp
            .body_mut()
            .with_config()
            // A hub's acknowledgement names each conflict: a whole batch of them is
            // about 100 KB.
            .limit(1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
        let answer = Answer {
            status: resp.status().as_u16(),
            body: &body,
            retry_after: header("retry-after"),
            location: header("location"),
        };
        judge(&answer, batch_id, events)
    }

    fn describe(&self) -> String {
        self.endpoint.clone()
    }

    fn feed(&mut self, after: &str) -> Option<Result<FeedPage, String>> {
        Some(self.get_feed(after))
    }

    fn report(&mut self, report: &StationReport) -> Option<Result<(), String>> {
        Some(self.post_report(report))
    }
}

impl Https {
    fn post_report(&self, report: &StationReport) -> Result<(), String> {
        let token = check_token_file(&self.token_file).map_err(|e| e.0)?;
        let body = serde_json::to_vec(report).map_err(|e| format!("cannot encode: {e}"))?;
        let mut resp = self
            .agent
            .post(&self.status)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(|e| format!("{}: {e}", self.status))?;
        let status = resp.status().as_u16();
        if status == 200 || status == 204 {
            return Ok(());
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let excerpt: String = text.chars().take(300).collect();
        Err(format!("{}: HTTP {status}: {excerpt}", self.status))
    }

    fn get_feed(&self, after: &str) -> Result<FeedPage, String> {
        let token = check_token_file(&self.token_file).map_err(|e| e.0)?;
        // The hub's cursors are digits and dots; anything else is not sent on.
        if !after.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(format!(
                "the stored feed cursor {after:?} is not one the hub gave"
            ));
        }
        let url = format!("{}?after={after}", self.feed);
        let mut resp = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status().as_u16();
        // A full page of receipts is about a megabyte.
        let body = resp
            .body_mut()
            .with_config()
            .limit(8 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        if status != 200 {
            let excerpt: String = body.chars().take(300).collect();
            return Err(format!("{url}: HTTP {status}: {excerpt}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("{url}: not a receipts page: {e}"))
    }
}

/// JSON batch files in a folder, written atomically.
pub struct Directory {
    dir: PathBuf,
}

#[derive(Deserialize)]
struct Head {
    station_id: String,
    created_at: String,
}

impl Directory {
    /// Writes into `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Directory, SetupError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SetupError(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Directory {
            dir: dir.to_path_buf(),
        })
    }
}

impl Transport for Directory {
    fn send(
        &mut self,
        batch_id: &str,
        payload: &[u8],
        events: usize,
        _limit: Option<Duration>,
    ) -> SendOutcome {
        let head: Head = match serde_json::from_slice(payload) {
            Ok(h) => h,
            Err(e) => {
                return SendOutcome::Rejected {
                    reason: format!("not a batch: {e}"),
                };
            }
        };
        // Named to sort by time and never collide: time, station, batch id.
        let stamp: String = head
            .created_at
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let name = format!("{stamp}_{}_{batch_id}.json", head.station_id);
        let path = self.dir.join(&name);
        if path.exists() {
            // Written before (the acknowledgement was not recorded): same bytes.
            return SendOutcome::Acked {
                accepted: 0,
                duplicates: i64::try_from(events).unwrap_or(i64::MAX),
                conflicts: Vec::new(),
            };
        }
        let written = crate::files::write_atomically(&path, payload);
        match written {
            Ok(()) => SendOutcome::Acked {
                accepted: i64::try_from(events).unwrap_or(i64::MAX),
                duplicates: 0,
                conflicts: Vec::new(),
            },
            Err(e) => SendOutcome::Retry {
                reason: format!("cannot write {}: {e}", path.display()),
                after: None,
            },
        }
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer<'_> {
        Answer {
            status,
            body,
            retry_after: Some("7"),
            location: None,
        }
    }

    /// Only an acknowledgement of this batch whose counts add up to its events marks
    /// them sent: counts that do not (negative, short, overflowing) are sent again.
    #[test]
    fn an_acknowledgement_counts_only_when_it_adds_up() {
        let ok = r#"{"batch_id":"b1","accepted":3,"duplicates":2}"#;
        assert_eq!(
            judge(&answer(200, ok), "b1", 5),
            SendOutcome::Acked {
                accepted: 3,
                duplicates: 2,
                conflicts: Vec::new(),
            }
        );
        // A county hub's acknowledgement names its cross-station duplicates.
        let hub = r#"{"batch_id":"b1","accepted":2,"duplicates":0,"conflicts":[{"event_id":"S2-9","ballot_id":"B7","first":{"station_id":"S1","batch":4,"occurred_at":"2026-11-03T17:02:00.000000Z","event_id":"S1-3"}}]}"#;
        let SendOutcome::Acked { conflicts, .. } = judge(&answer(200, hub), "b1", 2) else {
            panic!("a hub's acknowledgement is one");
        };
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].ballot_id, "B7");
        assert_eq!(conflicts[0].first.station_id, "S1");
        assert_eq!(conflicts[0].first.batch, Some(4));
        for (body, events) in [
            (ok, 6),
            (ok, 4),
            (r#"{"batch_id":"b1","accepted":-1,"duplicates":6}"#, 5),
            (
                r#"{"batch_id":"b1","accepted":9223372036854775807,"duplicates":1}"#,
                5,
            ),
            (r#"{"batch_id":"b2","accepted":3,"duplicates":2}"#, 5),
            ("<html>ok</html>", 5),
        ] {
            match judge(&answer(201, body), "b1", events) {
                SendOutcome::Retry { after, .. } => {
                    assert_eq!(after, Some(Duration::from_secs(7)), "{body}");
                }
                other => panic!("{body} for {events} events: {other:?}"),
            }
        }
        assert!(matches!(
            judge(&answer(301, ""), "b1", 5),
            SendOutcome::Rejected { .. }
        ));
        assert!(matches!(
            judge(&answer(503, ""), "b1", 5),
            SendOutcome::Retry { .. }
        ));
        assert_eq!(
            parse_retry_after(" 99999 "),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_url("https://ballottrax.example.net/api").is_ok());
        let folder = check_url("/srv/share").unwrap_err().to_string();
        assert!(folder.contains("is not a web address"), "{folder}");
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:9",
            "http://[::1]:80",
            "http://127.9.9.9",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5",
            "http://backend.example.net",
            "ftp://x",
            "not a url",
            "http://192.168.1.1",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "s3cret\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(check_token_file(&f).unwrap_err().0.contains("chmod 600"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(check_token_file(&f).unwrap(), "s3cret");
    }

    /// A token file that cannot be read at a send (gone, or an I/O error) is a
    /// passing failure, sent again later; one that is not fit to send (readable by
    /// others) holds the batch for a person to fix.
    #[cfg(unix)]
    #[test]
    fn an_unreadable_token_retries_an_unfit_one_holds() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "t0ken\n").unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut https =
            Https::new("http://127.0.0.1:9", &token, None, Duration::from_secs(1)).unwrap();
        std::fs::remove_file(&token).unwrap();
        assert!(matches!(
            https.send("b1", b"{}", 1, None),
            SendOutcome::Retry { .. }
        ));
        std::fs::write(&token, "t0ken\n").unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            https.send("b1", b"{}", 1, None),
            SendOutcome::Rejected { .. }
        ));
    }

    #[test]
    fn directory_writes_once_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Directory::new(&dir.path().join("out")).unwrap();
        let payload = br#"{"batch_id":"b1","station_id":"S1","county":"C","election_id":"E","created_at":"2026-11-03T15:00:00.000000Z","events":[{"event_id":"S1-1"}]}"#;
        assert_eq!(
            t.send("b1", payload, 1, None),
            SendOutcome::Acked {
                accepted: 1,
                duplicates: 0,
                conflicts: Vec::new(),
            }
        );
        assert_eq!(
            t.send("b1", payload, 1, None),
            SendOutcome::Acked {
                accepted: 0,
                duplicates: 1,
                conflicts: Vec::new(),
            }
        );
        let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["20261103T150000000000Z_S1_b1.json"]);
        assert_eq!(
            std::fs::read(dir.path().join("out").join(&names[0])).unwrap(),
            payload
        );
    }
}
