//! The station's report to its county hub (`StationReport`): the same figures the
//! station's own dashboard and `status` show, gathered in one place so the county
//! sees what the station sees.

use chrono::{DateTime, Utc};

use super::{Ledger, Result, format_time};
use crate::sync::hub::StationReport;

impl Ledger {
    /// The station's public signing key, made beside the ledger if it has none yet
    /// (a station set up before keys existed). A key that cannot be had is logged
    /// and left out of the report: the report only feeds the dashboard.
    fn public_key(&self) -> Option<String> {
        match crate::signing::station_key(self) {
            Ok(key) => Some(key.public_pem()),
            Err(e) => {
                log::warn!("the station's signing key: {e}");
                None
            }
        }
    }

    /// The report at `now` for the active election.
    pub fn station_report(&self, now: DateTime<Utc>) -> Result<StationReport> {
        let dashboard = self.dashboard(now)?;
        let hub = self.hub_counts()?;
        let sync = self.sync_counts()?;
        let election = super::elections::active_election(&self.conn)?;
        Ok(StationReport {
            station_id: self.station.station_id.clone(),
            election_id: election.election_id,
            at: format_time(now),
            day: now
                .with_timezone(&self.station.timezone)
                .date_naive()
                .to_string(),
            today: dashboard.today,
            conflicts_open: hub.conflicts_open,
            waiting: sync.pending + sync.in_flight,
            held: sync.held,
            public_key: self.public_key(),
        })
    }
}
