//! The county's local time as UTC instants. Deadlines ("19:00 on election day"), the
//! nightly file's day and the dashboard's "today" are all local days and hours, and a
//! day on which daylight-saving time changes has 23 or 25 hours: every conversion
//! goes through here so that each uses the offset in force on its own day.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant at which clocks in `tz` read `time` on `day`; in the hour repeated
/// when daylight-saving time ends, the first of the two. `None` for a local time that
/// does not exist (skipped when daylight-saving time starts) or a date out of range.
pub fn instant(day: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The UTC instants bounding the local day `date`: its first instant, and the next
/// day's first instant.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((
        instant(date, NaiveTime::MIN, tz)?,
        instant(date.succ_opt()?, NaiveTime::MIN, tz)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::format_time;

    #[test]
    fn day_bounds_follow_dst() {
        let tz = chrono_tz::America::Denver;
        // 2026-11-01: DST ends, the day has 25 hours.
        let (s, e) = day_bounds(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), tz).unwrap();
        assert_eq!(format_time(s), "2026-11-01T06:00:00.000000Z");
        assert_eq!(format_time(e), "2026-11-02T07:00:00.000000Z");
        assert_eq!((e - s).num_hours(), 25);
        // 2026-03-08: DST starts, 23 hours.
        let (s, e) = day_bounds(NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(), tz).unwrap();
        assert_eq!((e - s).num_hours(), 23);
    }
}
