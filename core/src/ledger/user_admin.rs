//! What an administrator does with the station's users after adding them: disable
//! and enable them, set a new PIN for one who forgot theirs, end a lock early, and
//! list them.
//!
//! Every change is one transaction with its audit row, and every refusal of a
//! non-administrator is audited as any other. A user is never deleted: a disabled
//! user's scans, batches and audit rows stay theirs, and they cannot sign in or
//! confirm anything until enabled again. No administrator disables their own
//! account, so a station always keeps one enabled administrator.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{AuditEntry, append};
use super::users::user_record_digest;
use super::{Ledger, LedgerError, Result, User, format_time, parse_time};
use crate::audit::AuditEvent;
use crate::auth::{self, Role};

/// A user as the administration screen and `user list` show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    /// Sign-in name.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Disabled by an administrator.
    pub disabled: bool,
    /// Locked after wrong PINs until this time (UTC), if the lock still holds.
    pub locked_until: Option<String>,
    /// Wrong PINs in a row so far.
    pub failures: u32,
}

/// What an administrator changes about a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Disable,
    Enable,
    Unlock,
}

impl Ledger {
    /// The station's users in name order, with their state at `now`.
    pub fn users(&self, now: DateTime<Utc>) -> Result<Vec<UserRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, role, disabled, locked_until, failures FROM users ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, u32>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(name, role, disabled, locked, failures)| {
                let locked_until = match locked {
                    Some(t) if parse_time(&t)? > now => Some(t),
                    _ => None,
                };
                Ok(UserRow {
                    name,
                    role: role.parse().map_err(LedgerError::Sqlite)?,
                    disabled,
                    locked_until,
                    failures,
                })
            })
            .collect()
    }

    /// Disables `name`, `by` an administrator other than themselves (so the station
    /// always keeps an enabled administrator: the one who did it).
    pub fn disable_user(&mut self, by: &User, name: &str) -> Result<()> {
        self.change_user(by, name, Change::Disable)
    }

    /// Enables `name` again, `by` an administrator.
    pub fn enable_user(&mut self, by: &User, name: &str) -> Result<()> {
        self.change_user(by, name, Change::Enable)
    }

    /// Ends `name`'s lock after wrong PINs, `by` an administrator.
    pub fn unlock_user(&mut self, by: &User, name: &str) -> Result<()> {
        self.change_user(by, name, Change::Unlock)
    }

    /// Sets a new PIN for `name` (who forgot theirs), `by` an administrator; ends any
    /// lock too. The audit row vouches for the new record, as adding the user did,
    /// so `verify` still names a PIN hash edited outside the program.
    pub fn reset_pin(&mut self, by: &User, name: &str, pin: &str) -> Result<()> {
        self.require_admin(by, "reset PINs")?;
        if !self.station.demo {
            auth::check_pin_form(pin)?;
            auth::check_not_obvious(pin)?;
        }
        let hash = auth::hash_pin(pin)?;
        self.write(|tx, station| {
            let (user_id, role) = user_row(tx, name)?;
            tx.execute(
                "UPDATE users SET pin_hash = ?1, failures = 0, locked_until = NULL
                 WHERE user_id = ?2",
                params![hash, user_id],
            )?;
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::PinReset, Some(by)).detail(json!({
                    "user": name,
                    "record": user_record_digest(user_id, name, &role, &hash),
                })),
            )?;
            Ok(())
        })
    }

    fn change_user(&mut self, by: &User, name: &str, change: Change) -> Result<()> {
        let action = match change {
            Change::Disable => "disable users",
            Change::Enable => "enable users",
            Change::Unlock => "unlock users",
        };
        self.require_admin(by, action)?;
        self.write(|tx, station| {
            let (user_id, _) = user_row(tx, name)?;
            let disabled: bool = tx.query_row(
                "SELECT disabled FROM users WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )?;
            let event = match change {
                Change::Disable => {
                    if disabled {
                        return Err(LedgerError::Invalid(format!("{name} is already disabled")));
                    }
                    if name == by.name {
                        return Err(LedgerError::Invalid(
                            "an administrator cannot disable their own account: ask another administrator".into(),
                        ));
                    }
                    tx.execute("UPDATE users SET disabled = 1 WHERE user_id = ?1", [user_id])?;
                    AuditEvent::UserDisabled
                }
                Change::Enable => {
                    if !disabled {
                        return Err(LedgerError::Invalid(format!("{name} is not disabled")));
                    }
                    tx.execute("UPDATE users SET disabled = 0 WHERE user_id = ?1", [user_id])?;
                    AuditEvent::UserEnabled
                }
                Change::Unlock => {
                    let locked: Option<String> = tx.query_row(
                        "SELECT locked_until FROM users WHERE user_id = ?1",
                        [user_id],
                        |r| r.get(0),
                    )?;
                    let now = Utc::now();
                    let still = locked.as_deref().map(parse_time).transpose()?;
                    if still.is_none_or(|t| t <= now) {
                        return Err(LedgerError::Invalid(format!("{name} is not locked")));
                    }
                    tx.execute(
                        "UPDATE users SET failures = 0, locked_until = NULL WHERE user_id = ?1",
                        [user_id],
                    )?;
                    AuditEvent::UserUnlocked
                }
            };
            append(
                tx,
                station,
                &AuditEntry::user(event, Some(by))
                    .detail(json!({ "user": name, "at": format_time(Utc::now()) })),
            )?;
            Ok(())
        })
    }
}

/// The id and role of user `name`, or [`LedgerError::UnknownUser`].
fn user_row(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<(i64, String)> {
    tx.query_row(
        "SELECT user_id, role FROM users WHERE name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| LedgerError::UnknownUser(name.to_string()))
}
