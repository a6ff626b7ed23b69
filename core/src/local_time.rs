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

/// Reads a local time a person typed: `YYYY-MM-DD HH:MM`, or `HH:MM` for that
/// time on `today`. The error says what was expected, in words for the form.
pub fn parse(text: &str, today: NaiveDate, tz: Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M").map(|t| today.and_time(t)))
        .map_err(|_| {
            format!("{text:?} is not a local time: write it as \"HH:MM\" or \"YYYY-MM-DD HH:MM\"")
        })?;
    instant(naive.date(), naive.time(), tz)
        .ok_or_else(|| format!("{text} does not exist in {tz} (the clocks skipped it)"))
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

    #[test]
    fn typed_times_with_or_without_a_date() {
        let tz = chrono_tz::America::Denver;
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let t = parse("18:58", day, tz).unwrap();
        assert_eq!(format_time(t), "2026-11-04T01:58:00.000000Z");
        assert_eq!(parse(" 2026-11-03 18:58 ", day, tz).unwrap(), t);
        assert!(parse("6:58 pm", day, tz).unwrap_err().contains("HH:MM"));
        assert!(
            parse("2026-03-08 02:30", day, tz)
                .unwrap_err()
                .contains("skipped")
        );
    }
}
