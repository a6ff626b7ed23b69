//! The dashboard's pages as HTML (maud escapes every value it writes, so nothing a
//! station sends can become markup). No script: the page refreshes itself with a
//! meta refresh, which also works under the hub's strict content policy.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use super::chart;
use super::data::{County, StationRow};

/// A station not heard from for this long is marked as out of touch.
pub const QUIET_SECS: i64 = 120;

fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(secs) = refresh {
                meta http-equiv="refresh" content=(secs);
            }
            title { (title) }
            link rel="stylesheet" href="/dashboard.css";
        }
    }
}

/// The sign-in form, with what went wrong last time, if anything.
pub fn sign_in(problem: Option<&str>, name: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in: county hub", None))
            body class="signin" {
                main {
                    h1 { "County hub" }
                    p { "Sign in with your supervisor name and PIN." }
                    @if let Some(p) = problem {
                        p class="problem" role="alert" id="problem" { (p) }
                    }
                    form method="post" action="/signin" {
                        label for="name" { "Name" }
                        input id="name" name="name" type="text" autocomplete="username"
                            value=(name) required autofocus[name.is_empty()];
                        label for="pin" { "PIN" }
                        input id="pin" name="pin" type="password" inputmode="numeric"
                            autocomplete="current-password" required autofocus[!name.is_empty()];
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h {} min ago", secs / 3600, secs % 3600 / 60),
        _ => format!("{} days ago", secs / 86400),
    }
}

/// The kinds of count shown as columns: accepted always, then every other kind a
/// station reported today, in the station's own order.
fn columns(stations: &[StationRow]) -> Vec<String> {
    let order = ballot_intake_core::intake::Outcome::ALL
        .iter()
        .map(|o| o.as_str().to_string())
        .chain(["undeliverable", "needs_attention", "reversed"].map(String::from))
        .collect::<Vec<_>>();
    let mut shown: Vec<String> = vec!["accepted".into()];
    let reported = |k: &str| {
        stations
            .iter()
            .filter_map(|s| s.report.as_ref())
            .any(|r| r.today.get(k).is_some_and(|n| *n > 0))
    };
    for k in &order {
        if k != "accepted" && reported(k) {
            shown.push(k.clone());
        }
    }
    // Kinds a newer station counts that this hub does not know by name.
    let mut others: Vec<String> = stations
        .iter()
        .filter_map(|s| s.report.as_ref())
        .flat_map(|r| r.today.iter())
        .filter(|(k, n)| **n > 0 && !order.contains(k))
        .map(|(k, _)| k.clone())
        .collect();
    others.sort();
    others.dedup();
    shown.extend(others);
    shown
}

fn label(kind: &str) -> String {
    let mut s = kind.replace('_', " ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

fn tile(id: &str, label: &str, value: i64, alert: bool) -> Markup {
    html! {
        div class=(if alert && value > 0 { "tile alert" } else { "tile" }) id=(id) {
            span class="value" { (value) }
            span class="label" { (label) }
        }
    }
}

/// The dashboard for `user`, refreshing every `refresh` seconds.
pub fn dashboard(county: &County, user: &str, tz: Tz, refresh: u32) -> Markup {
    let now_utc = county.now.with_timezone(&Utc);
    let cols = columns(&county.stations);
    let title = match &county.county {
        Some(c) => format!("{c}: county hub"),
        None => "County hub".to_string(),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&title, Some(refresh)))
            body {
                header {
                    h1 { (title) }
                    p class="meta" {
                        "Election " strong id="election" { (county.election.as_deref().unwrap_or("(none yet)")) }
                        " · " time datetime=(county.now.to_rfc3339()) id="now" {
                            (county.now.format("%A %-d %B %Y, %H:%M:%S")) " " (tz.name())
                        }
                        " · refreshes every " (refresh) " s"
                    }
                    form method="post" action="/signout" class="signout" {
                        span { "Signed in as " strong id="user" { (user) } }
                        button type="submit" { "Sign out" }
                    }
                }
                main {
                    section class="tiles" aria-label="County totals" {
                        (tile("receipts-today", "first receipts today", county.receipts_today, false))
                        (tile("receipts-election", "first receipts this election", county.receipts_election, false))
                        (tile("conflicts-today", "cross-station duplicates today", county.conflicts_today, true))
                        (tile("conflicts-open", "duplicates to pull, open at stations", county.conflicts_open, true))
                        (tile("relay-waiting", "events waiting for the backend", county.relay.waiting + county.relay.in_flight, false))
                        (tile("relay-held", "events the backend refused (held)", county.relay.held, true))
                    }
                    section aria-labelledby="stations-h" {
                        h2 id="stations-h" { "Stations" }
                        table id="stations" {
                            thead {
                                tr {
                                    th scope="col" { "Station" }
                                    th scope="col" { "Last contact" }
                                    @for c in &cols {
                                        th scope="col" class="num" { (label(c)) }
                                    }
                                    th scope="col" class="num" { "First receipts at hub" }
                                    th scope="col" class="num" { "Conflicts open" }
                                    th scope="col" class="num" { "Waiting to send" }
                                    th scope="col" class="num" { "Held" }
                                }
                            }
                            tbody {
                                @for s in &county.stations {
                                    (station_row(s, &cols, now_utc, tz))
                                }
                                @if county.stations.is_empty() {
                                    tr { td colspan=(cols.len() + 6) { "No station has been added: run " code { "ballot-intake hub station add ID --token-file FILE" } "." } }
                                }
                            }
                        }
                        p class="note" {
                            "Scan counts are each station's own, as it last reported them (every 30 s while its sync runs); "
                            "first receipts and duplicates are the hub's."
                        }
                    }
                    section aria-labelledby="chart-h" {
                        h2 id="chart-h" { "First receipts per hour, " (county.day.format("%-d %B")) }
                        (chart::receipts_per_hour(&county.per_hour, county.now))
                    }
                    @if let Some(err) = &county.relay.last_error {
                        section aria-labelledby="relay-h" {
                            h2 id="relay-h" { "Notification backend" }
                            p class="problem" { "Last error: " (err) }
                        }
                    }
                }
            }
        }
    }
}

fn station_row(s: &StationRow, cols: &[String], now: DateTime<Utc>, tz: Tz) -> Markup {
    let quiet = s
        .last_contact
        .is_none_or(|t| (now - t).num_seconds() > QUIET_SECS);
    html! {
        tr id={"station-" (s.station_id)} class=(if quiet { "quiet" } else { "" }) {
            th scope="row" {
                (s.station_id)
                @if s.chain_alarms > 0 {
                    " " span class="badge alert" title="Its audit chain went back: a ledger restored or replaced" {
                        "chain alarm"
                    }
                }
                @if let Some(key) = s.keys.last() {
                    br;
                    span class="key" title=(key) {
                        "key " (key.trim_start_matches("SHA256:").get(..12).unwrap_or(key))
                    }
                    @if s.keys.len() > 1 {
                        " " span class="badge alert" title="It signs with another key than it did before" {
                            "key changed"
                        }
                    }
                }
            }
            td class="contact" {
                @match s.last_contact {
                    Some(t) => {
                        (t.with_timezone(&tz).format("%H:%M:%S")) " "
                        span class="ago" { "(" (ago(now, t)) ")" }
                    }
                    None => "never",
                }
            }
            @match &s.report {
                Some(r) => {
                    @for c in cols {
                        td class="num" data-kind=(c) { (r.today.get(c).copied().unwrap_or(0)) }
                    }
                }
                None => {
                    td colspan=(cols.len()) class="missing" {
                        @match s.stale_report_day {
                            Some(d) => { "no report today (last on " (d.format("%-d %B")) ")" }
                            None => "no report yet",
                        }
                    }
                }
            }
            td class="num" data-kind="receipts" { (s.receipts_today) }
            @match &s.report {
                Some(r) => {
                    td class=(if r.conflicts_open > 0 { "num alert" } else { "num" }) data-kind="conflicts_open" { (r.conflicts_open) }
                    td class="num" data-kind="waiting" { (r.waiting) }
                    td class=(if r.held > 0 { "num alert" } else { "num" }) data-kind="held" { (r.held) }
                }
                None => { td class="num" { "–" } td class="num" { "–" } td class="num" { "–" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_since_reads_as_a_person_says_it() {
        let now = Utc::now();
        assert_eq!(ago(now, now - chrono::TimeDelta::seconds(8)), "8 s ago");
        assert_eq!(ago(now, now - chrono::TimeDelta::seconds(150)), "2 min ago");
        assert_eq!(
            ago(now, now - chrono::TimeDelta::seconds(3725)),
            "1 h 2 min ago"
        );
        assert_eq!(ago(now, now + chrono::TimeDelta::seconds(3)), "0 s ago");
        assert_eq!(label("wrong_election"), "Wrong election");
    }

    #[test]
    fn the_sign_in_form_escapes_what_was_typed() {
        let page = sign_in(Some("Wrong name or PIN."), "<b>x</b>").into_string();
        assert!(page.contains("value=\"&lt;b&gt;x&lt;/b&gt;\""), "{page}");
        assert!(page.contains("role=\"alert\""));
    }
}
