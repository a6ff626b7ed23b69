//! `ballot-intake hub ...`: the county hub (the `ballot-intake-hub` crate) from the
//! command line.

use anyhow::{Context, Result, anyhow};
use std::process::ExitCode;
use std::time::Duration;

use super::output::print_json;
use super::{HubArgs, HubCommand, HubStationCommand, HubUserCommand};
use ballot_intake_hub::dashboard::DashboardOptions;
use ballot_intake_hub::relay::{RelayOptions, Target};
use ballot_intake_hub::server::ServeOptions;
use ballot_intake_hub::{admin, db, migrate};

/// Runs `hub` or one of its subcommands.
pub fn run(args: HubArgs) -> Result<ExitCode> {
    let database = args.database.clone().ok_or_else(|| {
        anyhow!("which database? give --database URL or set BALLOT_INTAKE_HUB_DATABASE")
    })?;
    let Some(command) = args.command else {
        return serve(&args, database);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the hub's runtime")?;
    runtime.block_on(async move {
        let mut client = db::connect(&database).await?;
        if let HubCommand::Migrate = command {
            let applied = migrate::migrate(&mut client).await?;
            out!(
                "the hub's database is at schema version {} ({} applied now)",
                migrate::newest(),
                applied.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        migrate::migrate(&mut client).await?;
        match command {
            HubCommand::Migrate => {}
            HubCommand::Station(HubStationCommand::Add { id, token_file }) => {
                admin::add_station(&client, &id, &token_file).await?;
                out!(
                    "added station {id}; its token is in {} (copy it to the station and run \
                     `ballot-intake sync setup --hub --url URL --token-file FILE` there)",
                    token_file.display()
                );
            }
            HubCommand::User(HubUserCommand::Add { name }) => {
                let pin = super::pin::new_pin_from_stdin(&name)?;
                admin::add_user(&client, &name, &pin).await?;
                out!("added dashboard user {name}");
            }
            HubCommand::RelayRetry { batch } => {
                admin::release_relay_batch(&client, &batch).await?;
                out!("relay batch {batch} will be sent again (the running hub picks it up)");
            }
            HubCommand::Status { json } => {
                let status = admin::status(&client).await?;
                if json {
                    print_json(&status)?;
                } else {
                    print_status(&status);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The county's time zone for the dashboard: as given, else the machine's (the TZ
/// variable, then Debian's /etc/timezone), else UTC. A zone given but unknown is an
/// error, not a silent UTC.
fn hub_timezone(given: Option<&str>) -> Result<chrono_tz::Tz> {
    if let Some(name) = given {
        return name.trim().parse().map_err(|_| {
            anyhow!("--timezone {name:?} is not an IANA time zone (e.g. America/Denver)")
        });
    }
    let machine = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string())
        .or_else(|| std::fs::read_to_string("/etc/timezone").ok())
        .and_then(|name| name.trim().parse().ok());
    Ok(machine.unwrap_or(chrono_tz::UTC))
}

fn serve(args: &HubArgs, database: String) -> Result<ExitCode> {
    let relay_target = match (&args.relay_url, &args.relay_directory) {
        (Some(url), _) => Some(Target::Https {
            url: url.clone(),
            token_file: args
                .relay_token_file
                .clone()
                .ok_or_else(|| anyhow!("--relay-url needs --relay-token-file"))?,
            ca_file: args.relay_ca_file.clone(),
        }),
        (None, Some(dir)) => Some(Target::Directory(dir.clone())),
        (None, None) => None,
    };
    if relay_target.is_none() {
        note!(
            "no --relay-url or --relay-directory: events wait in the hub's outbox until the hub \
             is started with one"
        );
    }
    let options = ServeOptions {
        database,
        listen: args.listen,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        relay: relay_target.map(|target| RelayOptions {
            target,
            max_age: Duration::from_millis(args.relay_max_age_ms),
            retry_base: Duration::from_millis(args.relay_retry_base_ms.max(1)),
            timeout: Duration::from_secs(30),
        }),
        pool_size: args.pool_size,
        dashboard: DashboardOptions {
            timezone: hub_timezone(args.timezone.as_deref())?,
            refresh_secs: args.dashboard_refresh_secs,
            session_hours: args.session_hours,
            secure_cookies: false,
        },
    };
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    ballot_intake_hub::server::serve(&options, |addr| {
        out!("hub listening on {scheme}://{addr}");
        out!("county dashboard at {scheme}://{addr}/dashboard");
    })?;
    note!("hub stopped");
    Ok(ExitCode::SUCCESS)
}

fn print_status(s: &admin::HubStatus) {
    out!(
        "schema version {}; {} receipt(s) county-wide; {} cross-station duplicate(s)",
        s.schema_version,
        s.receipts,
        s.conflicts
    );
    out!(
        "relay: {} waiting, {} in flight, {} held, {} acknowledged{}",
        s.relay.waiting,
        s.relay.in_flight,
        s.relay.held,
        s.relay.acknowledged,
        s.relay
            .last_error
            .as_deref()
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default()
    );
    for (batch, events, error) in &s.relay.held_batches {
        out!(
            "relay batch {batch} HELD ({events} events): {error}; fix the cause, then \
             `ballot-intake hub relay-retry {batch}`"
        );
    }
    if s.stations.is_empty() {
        out!("no stations yet: `ballot-intake hub station add ID --token-file FILE`");
    }
    for st in &s.stations {
        out!(
            "station {}: last contact {}, {} batch(es), {} event(s), {} receipt(s), {} conflict(s){}",
            st.station_id,
            st.last_contact.as_deref().unwrap_or("never"),
            st.batches,
            st.events,
            st.receipts,
            st.conflicts,
            if st.chain_alarms > 0 {
                format!(", {} AUDIT CHAIN ALARM(S)", st.chain_alarms)
            } else {
                String::new()
            }
        );
        match st.keys.as_slice() {
            [] => out!("  signing key: not reported yet"),
            [key] => out!("  signing key {key}"),
            [.., newest] => out!(
                "  signing key {newest}: CHANGED ({} keys seen: {})",
                st.keys.len(),
                st.keys.join(", ")
            ),
        }
    }
}
