//! The county's receipts per hour as an SVG bar chart, drawn by the hub: no script,
//! so the page works under a strict content policy and in any browser the office
//! has. Each bar carries its count as text (not only as height) and a title, so the
//! figures can be read without a mouse and by a screen reader.

use chrono::{DateTime, Timelike};
use chrono_tz::Tz;
use maud::{Markup, html};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 30.0;

/// A count as a coordinate: counts of ballots are far below 2^52, where an f64
/// stops holding every integer.
#[allow(clippy::cast_precision_loss)]
fn f(n: i64) -> f64 {
    n as f64
}

/// The round number at or above `max` that the axis ends at (1, 2 or 5 times a
/// power of ten), so the gridlines fall on figures a person reads at a glance.
pub fn axis_top(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let top = step.saturating_mul(m);
            if top >= max {
                return top;
            }
        }
        if step > i64::MAX / 10 {
            return max;
        }
        step *= 10;
    }
}

/// The chart of `per_hour` (each local hour's start and its receipts); the hour
/// `now` falls in is marked as the current one.
pub fn receipts_per_hour(per_hour: &[(DateTime<Tz>, i64)], now: DateTime<Tz>) -> Markup {
    let max = per_hour.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let top = axis_top(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / f(i64::try_from(per_hour.len().max(1)).unwrap_or(1));
    let bar_w = (slot * 0.72).max(1.0);
    let y_of = |n: i64| TOP + plot_h - plot_h * (f(n) / f(top));
    let total: i64 = per_hour.iter().map(|(_, n)| *n).sum();
    html! {
        svg class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img"
            aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg" {
            title id="chart-title" { "First receipts per hour today" }
            desc id="chart-desc" {
                (total) " receipts today; the busiest hour had " (max) "."
            }
            @for i in 0..=4_i64 {
                @let n = top * i / 4;
                @let y = y_of(n);
                line class="grid" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) {}
                text class="axis" x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" { (n) }
            }
            @for (i, (hour, n)) in per_hour.iter().enumerate() {
                @let x = LEFT + slot * f(i64::try_from(i).unwrap_or(0)) + (slot - bar_w) / 2.0;
                @let y = y_of(*n);
                @let current = hour.date_naive() == now.date_naive() && hour.hour() == now.hour()
                    && *hour <= now;
                g class=(if current { "bar current" } else { "bar" }) data-hour=(hour.format("%H:00")) data-receipts=(n) {
                    title { (hour.format("%H:00")) "–" (hour.format("%H:59")) ": " (n) " receipts" }
                    rect x=(x) y=(y) width=(bar_w) height=(TOP + plot_h - y) {}
                    @if *n > 0 {
                        text class="count" x=(x + bar_w / 2.0) y=(y - 4.0) text-anchor="middle" { (n) }
                    }
                    text class="axis" x=(x + bar_w / 2.0) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" {
                        (hour.format("%H"))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[test]
    fn the_axis_ends_on_a_round_figure() {
        assert_eq!(axis_top(0), 1);
        assert_eq!(axis_top(1), 1);
        assert_eq!(axis_top(3), 5);
        assert_eq!(axis_top(7), 10);
        assert_eq!(axis_top(11), 20);
        assert_eq!(axis_top(180), 200);
        assert_eq!(axis_top(4_100), 5_000);
        assert_eq!(axis_top(i64::MAX), i64::MAX);
    }

    #[test]
    fn every_hour_has_a_bar_and_its_count_in_words() {
        let tz: Tz = "America/Denver".parse().unwrap();
        // 1 November 2026: the clocks go back, a 25-hour day.
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let (start, end) = ballot_intake_core::local_time::day_bounds(day, tz).unwrap();
        let mut hours = Vec::new();
        let mut h = start;
        while h < end {
            hours.push((h.with_timezone(&tz), if hours.len() == 9 { 42 } else { 0 }));
            h += chrono::TimeDelta::hours(1);
        }
        assert_eq!(hours.len(), 25);
        let now = tz.with_ymd_and_hms(2026, 11, 1, 9, 30, 0).unwrap();
        let svg = receipts_per_hour(&hours, now).into_string();
        assert_eq!(svg.matches("<rect").count(), 25);
        assert!(
            svg.contains("data-hour=\"08:00\" data-receipts=\"42\""),
            "{svg}"
        );
        assert!(svg.contains("42 receipts today; the busiest hour had 42."));
        assert_eq!(svg.matches("bar current").count(), 1);
        // The repeated 01:00 hour is labelled twice, as the clocks read.
        assert_eq!(svg.matches("data-hour=\"01:00\"").count(), 2);
    }
}
