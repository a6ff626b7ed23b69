//! The county dashboard: in a real headless browser (Debian's chromium, driven through
//! chromedriver), against the real hub binary on a throwaway PostgreSQL cluster, with
//! real stations scanning and syncing; and its refusals over plain HTTP.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::hub::{Hub, add_station, manage, station};
use common::pg::Cluster;
use common::{Station, have};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PIN: &str = "402917";

fn scan(s: &Station, codes: &[&str]) {
    let lines: String = codes.iter().map(|c| format!("{c}\n")).collect();
    let (r, _) = s.scan("ana", "314159", &lines);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn sync(s: &Station) {
    let r = s.run(&["sync", "--max-wait", "20"]);
    assert_eq!(r.code, 0, "sync: {}{}", r.stdout, r.stderr);
}

fn add_user(db: &str, name: &str) {
    let r = manage(db, &["user", "add", name], &format!("{PIN}\n"));
    assert_eq!(r.code, 0, "hub user add: {}{}", r.stdout, r.stderr);
}

/// chromedriver on a port of its own, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        assert!(
            have("chromium") && have("chromedriver"),
            "the dashboard's test needs Debian's chromium and chromium-driver: run scripts/deps.sh test"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn browser(&self, profile: &std::path::Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-dev-shm-usage", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1100",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a chromium session through chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits (the page refreshing itself) until `css` reads `want`.
async fn wait_text(c: &Client, css: &str, want: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if now.trim() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} reads {now:?}, not {want:?}\n{}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sign_in(c: &Client, name: &str, pin: &str) {
    let field = c.wait().for_element(Locator::Id("name")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(name).await.unwrap();
    let pin_field = c.find(Locator::Id("pin")).await.unwrap();
    pin_field.send_keys(pin).await.unwrap();
    // Enter, as a person signs in.
    pin_field.send_keys("\u{E007}").await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_supervisor_signs_in_and_watches_the_county() {
    let pg = Cluster::start();
    let db = pg.url();
    let hub = Hub::start(
        &db,
        &[
            "--dashboard-refresh-secs",
            "2",
            "--timezone",
            "America/Denver",
        ],
    );
    let folder = tempfile::tempdir().unwrap();
    let t1 = add_station(&db, "S1", folder.path());
    let t2 = add_station(&db, "S2", folder.path());
    let s1 = station("S1", &hub, &t1, 40, &[]);
    let s2 = station("S2", &hub, &t2, 40, &[]);
    add_user(&db, "maria");
    // S1 takes ten; S2, not yet knowing of them, takes three of those again, two of
    // its own, and one barcode the county never mailed.
    scan(
        &s1,
        &(1..=10)
            .map(|i| format!("B{i:05}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    sync(&s1);
    scan(
        &s2,
        &["B00008", "B00009", "B00010", "B00011", "B00012", "B99999"],
    );
    sync(&s2);

    // Each station's report carried its public signing key, and the hub recorded it:
    // what an auditor checks the station's signed files with.
    for s in [&s1, &s2] {
        let status = s.status();
        let id = status["station"].as_str().unwrap().to_string();
        let fingerprint = status["signing_key"]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            pg.psql(&format!(
                "SELECT string_agg(fingerprint, ',') FROM station_keys WHERE station_id = '{id}'"
            )),
            fingerprint
        );
    }
    let hub_status: serde_json::Value =
        serde_json::from_str(&manage(&db, &["status", "--json"], "").stdout).unwrap();
    assert_eq!(
        hub_status["stations"][0]["keys"].as_array().unwrap().len(),
        1
    );

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = driver.browser(profile.path()).await;

    // Not signed in: the dashboard sends the browser to the sign-in form.
    c.goto(&format!("{}/dashboard", hub.url)).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/signin"));
    sign_in(&c, "maria", "111111").await;
    wait_text(
        &c,
        "#problem",
        "That name and PIN do not match.",
        Duration::from_secs(10),
    )
    .await;
    // The name stays typed; only the PIN is asked again.
    let kept = c
        .find(Locator::Id("name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("maria"));
    sign_in(&c, "maria", PIN).await;
    wait_text(&c, "#user", "maria", Duration::from_secs(10)).await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/dashboard")
    );

    // The county: twelve first receipts, three cross-station duplicates open at S2.
    assert_eq!(text(&c, "#receipts-today .value").await, "12");
    assert_eq!(text(&c, "#conflicts-today .value").await, "3");
    assert_eq!(text(&c, "#conflicts-open .value").await, "3");
    // Each station's own counts, as it reported them.
    assert_eq!(text(&c, "#station-S1 [data-kind=accepted]").await, "10");
    assert_eq!(text(&c, "#station-S2 [data-kind=accepted]").await, "5");
    assert_eq!(text(&c, "#station-S2 [data-kind=unknown]").await, "1");
    assert_eq!(
        text(&c, "#station-S2 [data-kind=conflicts_open]").await,
        "3"
    );
    assert_eq!(text(&c, "#station-S1 [data-kind=receipts]").await, "10");
    assert_eq!(text(&c, "#station-S2 [data-kind=receipts]").await, "2");
    assert_eq!(text(&c, "#station-S2 [data-kind=waiting]").await, "0");
    assert!(text(&c, "#station-S1 th .key").await.starts_with("key "));
    // The chart: a bar for every hour of the day, today's receipts in them.
    let bars = c.find_all(Locator::Css("svg.chart g.bar")).await.unwrap();
    assert!((23..=25).contains(&bars.len()), "{} bars", bars.len());
    let mut total = 0;
    for b in &bars {
        total += b
            .attr("data-receipts")
            .await
            .unwrap()
            .unwrap()
            .parse::<i64>()
            .unwrap();
    }
    assert_eq!(total, 12);
    assert_eq!(
        c.find_all(Locator::Css("svg.chart g.bar.current"))
            .await
            .unwrap()
            .len(),
        1
    );

    // More envelopes at S1: the open page shows them by itself.
    scan(&s1, &["B00013", "B00014", "B00015"]);
    sync(&s1);
    wait_text(&c, "#receipts-today .value", "15", Duration::from_secs(15)).await;
    wait_text(
        &c,
        "#station-S1 [data-kind=accepted]",
        "13",
        Duration::from_secs(15),
    )
    .await;

    let png = c.screenshot().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let shots = std::env::var_os("BALLOT_INTAKE_SCREENSHOTS")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    std::fs::write(shots.join("hub-dashboard.png"), &png).unwrap();

    // Signing out ends the session: the dashboard asks for a sign-in again.
    c.find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("pin")).await.unwrap();
    c.goto(&format!("{}/dashboard", hub.url)).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/signin"));
    c.close().await.unwrap();
}

/// A raw HTTP agent that neither follows redirects nor treats 4xx as an error.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

fn post_form(hub: &Hub, name: &str, pin: &str) -> (u16, String, Option<String>) {
    let mut r = agent()
        .post(&format!("{}/signin", hub.url))
        .content_type("application/x-www-form-urlencoded")
        .send(format!("name={name}&pin={pin}").as_bytes())
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string());
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap(),
        cookie,
    )
}

#[test]
fn the_dashboard_refuses_what_it_should() {
    let pg = Cluster::start();
    let db = pg.url();
    let hub = Hub::start(&db, &[]);
    let folder = tempfile::tempdir().unwrap();
    let t1 = add_station(&db, "S1", folder.path());
    add_station(&db, "S2", folder.path());
    add_user(&db, "maria");

    // No session, or a made-up one: to the sign-in form, nothing shown.
    let r = agent()
        .get(&format!("{}/dashboard", hub.url))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/signin");
    let r = agent()
        .get(&format!("{}/dashboard", hub.url))
        .header("Cookie", "hub_session=00112233")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);

    // An unknown name and a wrong PIN get the same answer.
    let (status, body, cookie) = post_form(&hub, "nobody", PIN);
    assert_eq!((status, cookie), (401, None));
    assert!(body.contains("do not match"));
    // Four wrong PINs are refused; the fifth locks the name, and while locked even
    // the right PIN opens nothing.
    for _ in 0..4 {
        assert_eq!(post_form(&hub, "maria", "999999").0, 401);
    }
    let (status, body, _) = post_form(&hub, "maria", "999999");
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("Too many wrong PINs"), "{body}");
    let (status, _, cookie) = post_form(&hub, "maria", PIN);
    assert_eq!((status, cookie), (429, None));
    pg.psql("UPDATE users SET locked_until = now() - interval '1 second'");
    let (status, _, cookie) = post_form(&hub, "maria", PIN);
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let session = cookie.split(';').next().unwrap().to_string();
    let mut r = agent()
        .get(&format!("{}/dashboard", hub.url))
        .header("Cookie", &session)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let page = r.body_mut().read_to_string().unwrap();
    assert!(page.contains("no report yet"), "{page}");
    // The hub keeps the session's digest, never the cookie itself.
    let value = session.split_once('=').unwrap().1;
    assert!(
        !pg.psql("SELECT encode(token_sha256, 'hex') FROM sessions")
            .contains(value)
    );

    // Reports: only with a station's token, only for that station, only sane.
    let token = std::fs::read_to_string(&t1).unwrap();
    let report = |who: &str, waiting: i64| {
        serde_json::json!({
            "station_id": who, "election_id": "2026-GEN", "at": "2026-11-03T17:00:00Z",
            "day": "2026-11-03", "today": {"accepted": 4}, "conflicts_open": 0,
            "waiting": waiting, "held": 0
        })
        .to_string()
    };
    let post = |bearer: &str, body: String| {
        agent()
            .post(&format!("{}/v1/status", hub.url))
            .header("Authorization", &format!("Bearer {}", bearer.trim()))
            .content_type("application/json")
            .send(body.as_bytes())
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(post("not-a-token", report("S1", 0)), 401);
    assert_eq!(post(&token, report("S2", 0)), 401);
    assert_eq!(post(&token, report("S1", -5)), 400);
    assert_eq!(post(&token, "{\"station_id\":".into()), 400);
    let mut forged: serde_json::Value = serde_json::from_str(&report("S1", 0)).unwrap();
    forged["public_key"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into();
    assert_eq!(post(&token, forged.to_string()), 400);
    assert_eq!(post(&token, report("S1", 7)), 204);
    assert_eq!(
        pg.psql("SELECT waiting FROM station_reports WHERE station_id = 'S1'")
            .trim(),
        "7"
    );
}

#[test]
fn a_hub_upgraded_from_the_first_schema_counts_the_receipts_it_already_had() {
    let pg = Cluster::start();
    let db = pg.url();
    // A database as the first hub left it: schema 1, two stations' receipts in two
    // hours, one of them a cross-station duplicate.
    pg.psql(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now())",
    );
    pg.psql(include_str!("../hub/migrations/0001_hub.sql"));
    pg.psql(
        "INSERT INTO schema_migrations (version, name) VALUES (1, 'hub');
         INSERT INTO stations (station_id, token_sha256) VALUES ('S1', '\\x01'), ('S2', '\\x02');
         INSERT INTO events (event_id, station_id, batch_id, election_id, county, type,
                 ballot_id, occurred_at, confidential)
         VALUES ('S1-1', 'S1', 'b1', 'E', 'Denver', 'received', 'B1', '2026-11-03T14:05:00Z', false),
                ('S1-2', 'S1', 'b1', 'E', 'Denver', 'received', 'B2', '2026-11-03T14:55:00Z', false),
                ('S2-1', 'S2', 'b2', 'E', 'Denver', 'received', 'B3', '2026-11-03T15:01:00Z', false),
                ('S2-2', 'S2', 'b2', 'E', 'Denver', 'received', 'B1', '2026-11-03T15:02:00Z', false);
         INSERT INTO receipts (election_id, ballot_id, event_id)
         VALUES ('E', 'B1', 'S1-1'), ('E', 'B2', 'S1-2'), ('E', 'B3', 'S2-1');",
    );
    let r = manage(&db, &["migrate"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("schema version 4 (3 applied now)"),
        "{}",
        r.stdout
    );
    // The running hub's tally counts them (within its 2 s), each once.
    let _hub = Hub::start(&db, &[]);
    let counts = || {
        pg.psql(
            "SELECT station_id, to_char(hour AT TIME ZONE 'UTC', 'HH24'), receipts
             FROM receipt_hours ORDER BY 1, 2",
        )
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while counts().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(counts(), "S1|14|2\nS2|15|1");
}
