//! Stations' reports about themselves (`POST /v1/status`, `StationReport`), kept as
//! each station's latest for the county's dashboard. A report is a reading, not a
//! record: the next one replaces it, and nothing is decided from it.

use ballot_intake_core::sync::hub::{MAX_REPORT_COUNTS, StationReport};
use chrono::{DateTime, NaiveDate, Utc};

use crate::HubError;

/// Checks a report from `station` before it is kept: its own station, sane counts,
/// a readable time and day. The message names what is wrong.
pub fn check(
    station: &str,
    report: &StationReport,
) -> Result<(DateTime<Utc>, NaiveDate), HubError> {
    if report.station_id != station {
        return Err(HubError::Unauthorized(format!(
            "a report for station {:?} sent with station {station}'s token",
            report.station_id
        )));
    }
    if report.election_id.is_empty() || report.election_id.len() > 128 {
        return Err(HubError::Refused(
            "a report's election id is 1 to 128 characters".into(),
        ));
    }
    let at = DateTime::parse_from_rfc3339(&report.at)
        .map_err(|e| HubError::Refused(format!("the report's time {:?}: {e}", report.at)))?
        .with_timezone(&Utc);
    let day = NaiveDate::parse_from_str(&report.day, "%Y-%m-%d")
        .map_err(|e| HubError::Refused(format!("the report's day {:?}: {e}", report.day)))?;
    if report.today.len() > MAX_REPORT_COUNTS {
        return Err(HubError::Refused(format!(
            "a report carries at most {MAX_REPORT_COUNTS} counts, not {}",
            report.today.len()
        )));
    }
    for (kind, n) in &report.today {
        if kind.is_empty()
            || kind.len() > 32
            || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Err(HubError::Refused(format!(
                "{kind:?} is not a kind of count (lower-case letters and '_')"
            )));
        }
        if *n < 0 {
            return Err(HubError::Refused(format!(
                "a negative count of {kind}: {n}"
            )));
        }
    }
    for (what, n) in [
        ("conflicts_open", report.conflicts_open),
        ("waiting", report.waiting),
        ("held", report.held),
    ] {
        if n < 0 {
            return Err(HubError::Refused(format!("a negative {what}: {n}")));
        }
    }
    if let Some(pem) = &report.public_key {
        ballot_intake_core::signing::fingerprint_of_pem(pem)
            .map_err(|e| HubError::Refused(format!("the report's public key: {e}")))?;
    }
    Ok((at, day))
}

/// Keeps `report` as its station's latest. A report older than the one kept (sent
/// late, after a newer one) changes nothing.
pub async fn keep(
    client: &tokio_postgres::Client,
    report: &StationReport,
    at: DateTime<Utc>,
    day: NaiveDate,
) -> Result<(), HubError> {
    let today = serde_json::to_value(&report.today)
        .map_err(|e| HubError::Refused(format!("cannot keep the report's counts: {e}")))?;
    client
        .execute(
            "INSERT INTO station_reports (station_id, election_id, reported_at, day, today,
                 conflicts_open, waiting, held)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (station_id) DO UPDATE SET
                 election_id = excluded.election_id, reported_at = excluded.reported_at,
                 day = excluded.day, today = excluded.today,
                 conflicts_open = excluded.conflicts_open, waiting = excluded.waiting,
                 held = excluded.held, received_at = now()
             WHERE station_reports.reported_at <= excluded.reported_at",
            &[
                &report.station_id,
                &report.election_id,
                &at,
                &day,
                &today,
                &report.conflicts_open,
                &report.waiting,
                &report.held,
            ],
        )
        .await?;
    client
        .execute(
            "UPDATE stations SET last_contact = now() WHERE station_id = $1",
            &[&report.station_id],
        )
        .await?;
    if let Some(pem) = &report.public_key {
        let fingerprint = ballot_intake_core::signing::fingerprint_of_pem(pem)
            .map_err(|e| HubError::Refused(format!("the report's public key: {e}")))?;
        let new = client
            .execute(
                "INSERT INTO station_keys (station_id, fingerprint, public_key)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&report.station_id, &fingerprint, pem],
            )
            .await?;
        if new > 0 {
            log::info!(
                "station {}'s signing key {fingerprint} recorded",
                report.station_id
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> StationReport {
        StationReport {
            station_id: "S1".into(),
            election_id: "2026-11-03-general".into(),
            at: "2026-11-03T17:00:00.000000Z".into(),
            day: "2026-11-03".into(),
            today: [("accepted".to_string(), 12), ("duplicate".to_string(), 1)]
                .into_iter()
                .collect(),
            conflicts_open: 1,
            waiting: 3,
            held: 0,
            public_key: None,
        }
    }

    #[test]
    fn a_station_reports_only_for_itself_with_sane_counts() {
        assert!(check("S1", &report()).is_ok());
        assert!(matches!(
            check("S2", &report()),
            Err(HubError::Unauthorized(_))
        ));
        let mut r = report();
        r.today.insert("<script>".into(), 1);
        assert!(
            check("S1", &r)
                .unwrap_err()
                .to_string()
                .contains("not a kind")
        );
        let mut r = report();
        r.waiting = -1;
        assert!(
            check("S1", &r)
                .unwrap_err()
                .to_string()
                .contains("negative waiting")
        );
        let mut r = report();
        r.day = "11/03/2026".into();
        assert!(check("S1", &r).unwrap_err().to_string().contains("day"));
        let mut r = report();
        r.today = (0..40).map(|i| ("k".repeat(i + 1), 1)).collect();
        assert!(check("S1", &r).unwrap_err().to_string().contains("at most"));
        let mut r = report();
        r.public_key =
            Some("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n".into());
        assert!(
            check("S1", &r)
                .unwrap_err()
                .to_string()
                .contains("public key")
        );
    }
}
