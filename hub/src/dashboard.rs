//! The county's dashboard: a page the hub serves to supervisors who signed in, with
//! every station (last contact, today's scans by outcome, conflicts open, events
//! waiting) and the county's first receipts per hour. Read-only: nothing on it
//! changes a record, so a session can do no more than look.

pub mod chart;
pub mod data;
pub mod page;
pub mod session;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use chrono_tz::Tz;
use maud::Markup;
use serde::Deserialize;

use crate::HubError;
use crate::server::Hub;
use session::SignIn;

/// How the dashboard behaves.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// The county's time zone: "today" and the chart's hours are its local ones.
    pub timezone: Tz,
    /// Seconds between the page's own refreshes.
    pub refresh_secs: u32,
    /// How long a sign-in lasts.
    pub session_hours: i64,
    /// Whether cookies are sent only over TLS (the hub has TLS).
    pub secure_cookies: bool,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        DashboardOptions {
            timezone: chrono_tz::UTC,
            refresh_secs: 15,
            session_hours: 12,
            secure_cookies: false,
        }
    }
}

const CSS: &str = include_str!("dashboard/dashboard.css");

/// The dashboard's routes.
pub fn routes() -> Router<Hub> {
    Router::new()
        .route("/", get(|| async { see_other("/dashboard", None) }))
        .route("/dashboard", get(show))
        .route("/dashboard.css", get(css))
        .route("/signin", get(sign_in_form).post(sign_in))
        .route("/signout", axum::routing::post(sign_out))
}

/// Headers every page carries: no script, nothing from elsewhere, never framed,
/// never cached (the figures are of the moment, and a shared office browser must
/// not keep them), no referrer.
fn page(status: StatusCode, markup: Markup, cookie: Option<String>) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, c);
    }
    response
}

fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn see_other(to: &'static str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static(to));
    secure_headers(h);
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, c);
    }
    response
}

async fn css() -> Response {
    let mut response = CSS.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The signed-in user, if the request carries a live session.
async fn user(hub: &Hub, headers: &HeaderMap) -> Result<Option<String>, HubError> {
    let Some(token) = session::cookie_of(headers) else {
        return Ok(None);
    };
    let client = hub.pool.get().await?;
    session::user_of(&client, &token).await
}

#[derive(Deserialize)]
struct ShowQuery {
    election: Option<String>,
}

async fn show(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Query(q): Query<ShowQuery>,
) -> Result<Response, HubError> {
    let Some(user) = user(&hub, &headers).await? else {
        return Ok(see_other("/signin", None));
    };
    let options = &hub.dashboard;
    let mut client = hub.pool.get().await?;
    // What was stored since the tally's last pass is counted now: the page is as
    // current as the feed.
    crate::tally::catch_up(&mut client).await?;
    let county = data::read(
        &client,
        q.election.as_deref().filter(|e| !e.is_empty()),
        options.timezone,
        Utc::now(),
    )
    .await?;
    Ok(page(
        StatusCode::OK,
        page::dashboard(&county, &user, options.timezone, options.refresh_secs),
        None,
    ))
}

async fn sign_in_form(State(hub): State<Hub>, headers: HeaderMap) -> Result<Response, HubError> {
    if user(&hub, &headers).await?.is_some() {
        return Ok(see_other("/dashboard", None));
    }
    Ok(page(StatusCode::OK, page::sign_in(None, ""), None))
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    pin: String,
}

async fn sign_in(
    State(hub): State<Hub>,
    Form(form): Form<SignInForm>,
) -> Result<Response, HubError> {
    let name = form.name.trim();
    if name.is_empty() || form.pin.is_empty() || name.len() > 64 || form.pin.len() > 64 {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            page::sign_in(Some("Give your name and PIN."), name),
            None,
        ));
    }
    let options = &hub.dashboard;
    let mut client = hub.pool.get().await?;
    let outcome = session::sign_in(&mut client, name, &form.pin, options.session_hours).await?;
    Ok(match outcome {
        SignIn::Session(token) => see_other(
            "/dashboard",
            Some(session::set_cookie(
                &token,
                options.session_hours,
                options.secure_cookies,
            )),
        ),
        SignIn::Refused => page(
            StatusCode::UNAUTHORIZED,
            page::sign_in(Some("That name and PIN do not match."), name),
            None,
        ),
        SignIn::Locked(until) => page(
            StatusCode::TOO_MANY_REQUESTS,
            page::sign_in(
                Some(&format!(
                    "Too many wrong PINs in a row: {name} can sign in again after {}.",
                    until.with_timezone(&options.timezone).format("%H:%M:%S")
                )),
                name,
            ),
            None,
        ),
    })
}

async fn sign_out(State(hub): State<Hub>, headers: HeaderMap) -> Result<Response, HubError> {
    if let Some(token) = session::cookie_of(&headers) {
        let client = hub.pool.get().await?;
        session::sign_out(&client, &token).await?;
    }
    Ok(see_other(
        "/signin",
        Some(session::clear_cookie(hub.dashboard.secure_cookies)),
    ))
}
