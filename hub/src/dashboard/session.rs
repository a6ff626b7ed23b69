//! Supervisors' sign-in to the dashboard: a PIN checked with Argon2 (as the stations
//! check theirs, with the same lock after wrong PINs in a row), then a session
//! cookie. The cookie holds 256 random bits; the hub keeps only their SHA-256, so
//! its database holds nothing that signs anyone in.

use chrono::{DateTime, TimeDelta, Utc};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use ballot_intake_core::auth::{LockState, verify_dummy, verify_pin};

use crate::HubError;

/// The session cookie's name.
pub const COOKIE: &str = "hub_session";

/// How a sign-in went.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: the cookie's value.
    Session(String),
    /// Wrong name or PIN (which of the two is not said).
    Refused,
    /// Too many wrong PINs in a row: locked until then.
    Locked(DateTime<Utc>),
}

/// Checks `name` and `pin` and, if they match, opens a session of `hours`.
///
/// The user's row stays locked while the PIN is checked, so wrong PINs tried in
/// parallel are each counted, and the lock they earn holds for all of them.
pub async fn sign_in(
    client: &mut tokio_postgres::Client,
    name: &str,
    pin: &str,
    hours: i64,
) -> Result<SignIn, HubError> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT pin_hash, failures, locked_until FROM users WHERE name = $1 FOR UPDATE",
            &[&name],
        )
        .await?;
    let pin_owned = pin.to_string();
    let Some(row) = row else {
        // As long as a real check, so the answer's speed does not tell whether the
        // name exists.
        let _ = tokio::task::spawn_blocking(move || verify_dummy(&pin_owned)).await;
        return Ok(SignIn::Refused);
    };
    let now = Utc::now();
    let state = LockState {
        failures: u32::try_from(row.get::<_, i32>(1)).unwrap_or(0),
        locked_until: row.get(2),
    };
    if state.is_locked(now) {
        return Ok(SignIn::Locked(state.locked_until.unwrap_or(now)));
    }
    let hash: String = row.get(0);
    let matched = tokio::task::spawn_blocking(move || verify_pin(&pin_owned, &hash))
        .await
        .map_err(|e| HubError::Refused(format!("the PIN check failed: {e}")))?
        .map_err(|e| HubError::Refused(format!("user {name}'s stored PIN is damaged: {e}")))?;
    if !matched {
        let after = state.after_failure(now);
        tx.execute(
            "UPDATE users SET failures = $2, locked_until = $3 WHERE name = $1",
            &[
                &name,
                &i32::try_from(after.failures).unwrap_or(i32::MAX),
                &after.locked_until,
            ],
        )
        .await?;
        tx.commit().await?;
        log::warn!(
            "dashboard: wrong PIN for {name} ({} in a row)",
            after.failures
        );
        return Ok(match after.locked_until {
            Some(until) => SignIn::Locked(until),
            None => SignIn::Refused,
        });
    }
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let expires = now + TimeDelta::hours(hours.max(1));
    tx.execute(
        "UPDATE users SET failures = 0, locked_until = NULL WHERE name = $1",
        &[&name],
    )
    .await?;
    tx.execute(
        "INSERT INTO sessions (token_sha256, user_name, expires_at) VALUES ($1, $2, $3)",
        &[&digest(&token), &name, &expires],
    )
    .await?;
    // Sessions that ran out are of no use to anyone: cleared as new ones open.
    tx.execute("DELETE FROM sessions WHERE expires_at < now()", &[])
        .await?;
    tx.commit().await?;
    log::info!("dashboard: {name} signed in");
    Ok(SignIn::Session(token))
}

/// The user a session cookie's value belongs to, while the session lasts.
pub async fn user_of(
    client: &tokio_postgres::Client,
    token: &str,
) -> Result<Option<String>, HubError> {
    Ok(client
        .query_opt(
            "SELECT user_name FROM sessions WHERE token_sha256 = $1 AND expires_at > now()",
            &[&digest(token)],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Ends a session.
pub async fn sign_out(client: &tokio_postgres::Client, token: &str) -> Result<(), HubError> {
    client
        .execute(
            "DELETE FROM sessions WHERE token_sha256 = $1",
            &[&digest(token)],
        )
        .await?;
    Ok(())
}

/// The session cookie's value in a request's `Cookie` headers, if any.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string())
}

/// The `Set-Cookie` value for a session: not readable by scripts, sent only to
/// this hub's own pages (never from another site's link or form), and only over
/// TLS when the hub has it.
pub fn set_cookie(token: &str, hours: i64, secure: bool) -> String {
    cookie::Cookie::build((COOKIE, token.to_string()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::hours(hours.max(1)))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    cookie::Cookie::build((COOKIE, ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_strict_private_and_found_among_others() {
        let set = set_cookie("abc", 12, true);
        for part in [
            "hub_session=abc",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
        ] {
            assert!(set.contains(part), "{set}");
        }
        assert!(!set_cookie("abc", 12, false).contains("Secure"));
        let mut headers = axum::http::HeaderMap::new();
        headers.append(
            axum::http::header::COOKIE,
            "theme=dark; hub_session=f00d".parse().unwrap(),
        );
        assert_eq!(cookie_of(&headers).as_deref(), Some("f00d"));
        assert_eq!(cookie_of(&axum::http::HeaderMap::new()), None);
    }
}
