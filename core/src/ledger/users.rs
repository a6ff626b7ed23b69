//! Users and sign-in, with the lockout counters kept in the ledger so that a lock
//! survives restarting the program.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::AuditEntry;
use super::audit_log::append;
use super::{Ledger, LedgerError, Result, format_time, parse_time};
use crate::audit::AuditEvent;
use crate::auth::{self, LockState, Role};

/// A station user, as the rest of the program sees them (never with the PIN hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Ledger id.
    pub user_id: i64,
    /// Sign-in name.
    pub name: String,
    /// What they may do.
    pub role: Role,
}

impl User {
    /// Fails with [`LedgerError::NotAllowed`] unless the user may supervise.
    pub fn require_supervisor(&self, action: &str) -> Result<()> {
        self.require(self.role.can_supervise(), action)
    }

    /// Fails with [`LedgerError::NotAllowed`] unless the user is an administrator.
    pub fn require_admin(&self, action: &str) -> Result<()> {
        self.require(self.role == crate::auth::Role::Admin, action)
    }

    fn require(&self, allowed: bool, action: &str) -> Result<()> {
        if allowed {
            Ok(())
        } else {
            Err(LedgerError::NotAllowed {
                user: self.name.clone(),
                role: self.role,
                action: action.to_string(),
            })
        }
    }
}

struct StoredUser {
    user: User,
    pin_hash: String,
    lock: LockState,
    disabled: bool,
}

/// The digest of what decides who a user is and what they may do (id, name, role,
/// PIN hash), which the audit row adding them vouches for: `verify` recomputes it,
/// so an edited role or PIN hash is named even though the users table itself is
/// not append-only (its lockout counters change).
pub(crate) fn user_record_digest(user_id: i64, name: &str, role: &str, pin_hash: &str) -> String {
    super::audit_log::record_digest(&[&user_id.to_string(), name, role, pin_hash])
}

/// A user's row as read: id, name, role, PIN hash, failures, locked until, disabled.
type UserColumns = (i64, String, String, String, u32, Option<String>, bool);

/// A user's row, hash and lock included, read on `conn`.
fn stored_user(conn: &rusqlite::Connection, name: &str) -> Result<Option<StoredUser>> {
    let row: Option<UserColumns> = conn
        .query_row(
            "SELECT user_id, name, role, pin_hash, failures, locked_until, disabled
                 FROM users WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            },
        )
        .optional()?;
    row.map(
        |(user_id, name, role, pin_hash, failures, locked, disabled)| {
            Ok(StoredUser {
                user: User {
                    user_id,
                    name,
                    role: role.parse().map_err(LedgerError::Sqlite)?,
                },
                pin_hash,
                lock: LockState {
                    failures,
                    locked_until: locked.as_deref().map(parse_time).transpose()?,
                },
                disabled,
            })
        },
    )
    .transpose()
}

impl Ledger {
    /// Adds a user with a PIN (hashed with Argon2id; the PIN itself is never stored),
    /// `by` an administrator. Without one (`None`), only the station's first
    /// administrator may be added (what `init` does), or a demo station's users.
    pub fn add_user(
        &mut self,
        by: Option<&User>,
        name: &str,
        role: Role,
        pin: &str,
    ) -> Result<User> {
        match by {
            Some(admin) => admin.require_admin("add users")?,
            None if self.station.demo => {}
            None => {
                let admins: i64 = self.conn.query_row(
                    "SELECT count(*) FROM users WHERE role = 'admin'",
                    [],
                    |r| r.get(0),
                )?;
                if admins > 0 || role != Role::Admin {
                    return Err(LedgerError::Invalid(
                        "users are added by an administrator (--user ADMIN); only the station's first administrator is added without one".into(),
                    ));
                }
            }
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(LedgerError::Invalid(
                "a user name must be 1 to 64 printable characters".into(),
            ));
        }
        // A demo station's users have the well-known PINs its screen shows.
        if !self.station.demo {
            auth::check_pin_form(pin)?;
            auth::check_not_obvious(pin)?;
        }
        let hash = auth::hash_pin(pin)?;
        self.write(|tx, station| {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )?;
            if exists {
                return Err(LedgerError::UserExists(name.to_string()));
            }
            tx.execute(
                "INSERT INTO users (name, role, pin_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.as_str(), hash, format_time(Utc::now())],
            )?;
            let user = User {
                user_id: tx.last_insert_rowid(),
                name: name.to_string(),
                role,
            };
            append(
                tx,
                station,
                // By the administrator who added them; the first administrator
                // (no one to add them) is named as the actor.
                &match by {
                    Some(_) => AuditEntry::user(AuditEvent::UserAdded, by),
                    None => AuditEntry::user(AuditEvent::UserAdded, None).named(&user.name),
                }
                .detail(json!({
                    "user": user.name,
                    "role": role.as_str(),
                    "record": user_record_digest(user.user_id, &user.name, role.as_str(), &hash),
                })),
            )?;
            Ok(user)
        })
    }

    /// Looks a user up by name without signing them in (for reports).
    pub fn user(&self, name: &str) -> Result<User> {
        stored_user(&self.conn, name)?
            .map(|s| s.user)
            .ok_or_else(|| LedgerError::UnknownUser(name.to_string()))
    }

    /// Signs a user in with their PIN at `now`. Every success, failure and lock is
    /// audited; a locked user is refused without the PIN being checked.
    pub fn sign_in(&mut self, name: &str, pin: &str, now: DateTime<Utc>) -> Result<User> {
        self.check_pin(name, pin, now, None)
    }

    /// Checks a second person's PIN to confirm `what` another user is doing (close
    /// a batch with its count, date a batch's receipt back): audited as a
    /// confirmation, not a sign-in; wrong PINs count towards the same lockout.
    pub fn confirm_pin(
        &mut self,
        name: &str,
        pin: &str,
        now: DateTime<Utc>,
        what: &str,
    ) -> Result<User> {
        self.check_pin(name, pin, now, Some(what))
    }

    /// Records that `user` signed out, by choice or (`idle`) after a time without
    /// activity.
    pub fn record_sign_out(&mut self, user: &User, idle: bool) -> Result<()> {
        let event = if idle {
            AuditEvent::SignedOutIdle
        } else {
            AuditEvent::SignOut
        };
        self.audit_now(&AuditEntry::user(event, Some(user)))?;
        Ok(())
    }

    /// The PIN check behind [`Ledger::sign_in`] and [`Ledger::confirm_pin`]:
    /// `confirming` is what a second person's PIN confirms, `None` for a sign-in.
    ///
    /// Races: the lock is checked, the hash compared and the attempt recorded in one
    /// IMMEDIATE transaction, so attempts started at once are judged one after
    /// another (forty wrong PINs at once are five counted ones and thirty-five
    /// refusals, and a right PIN started after the fifth is refused), and a program
    /// killed in the middle leaves nothing counted. Scans on other stations wait for
    /// the hash (tens of milliseconds): the price of a lock that cannot be raced. An
    /// unknown name is hashed against a dummy and refused with the same words as a
    /// wrong PIN: the refusal does not say which names exist.
    fn check_pin(
        &mut self,
        name: &str,
        pin: &str,
        now: DateTime<Utc>,
        confirming: Option<&str>,
    ) -> Result<User> {
        let tz = self.station.timezone;
        let local = move |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
        let checked = self.write(|tx, station| {
            let Some(stored) = stored_user(tx, name)? else {
                auth::verify_dummy(pin);
                append(
                    tx,
                    station,
                    &AuditEntry::user(AuditEvent::SignInFailed, None)
                        .named(name)
                        .detail(json!({ "reason": "unknown user", "confirms": confirming })),
                )?;
                return Ok(Checked::Wrong(name.to_string()));
            };
            let user = stored.user;
            if stored.lock.is_locked(now) {
                let until = stored.lock.locked_until.map(local).unwrap_or_default();
                append(
                    tx,
                    station,
                    &AuditEntry::user(AuditEvent::SignInWhileLocked, Some(&user))
                        .detail(json!({ "locked_until": until })),
                )?;
                return Ok(Checked::Locked(user.name, until));
            }
            if auth::verify_pin(pin, &stored.pin_hash)? {
                if stored.disabled {
                    append(
                        tx,
                        station,
                        &AuditEntry::user(AuditEvent::SignInFailed, Some(&user))
                            .detail(json!({ "reason": "disabled", "confirms": confirming })),
                    )?;
                    return Ok(Checked::Disabled(user.name));
                }
                tx.execute(
                    "UPDATE users SET failures = 0, locked_until = NULL WHERE user_id = ?1",
                    [user.user_id],
                )?;
                let entry = match confirming {
                    None => AuditEntry::user(AuditEvent::SignIn, Some(&user)),
                    Some(what) => AuditEntry::user(AuditEvent::SecondPersonConfirmed, Some(&user))
                        .detail(json!({ "confirms": what })),
                };
                append(tx, station, &entry)?;
                return Ok(Checked::Right(user));
            }
            let lock = stored.lock.after_failure(now);
            tx.execute(
                "UPDATE users SET failures = ?1, locked_until = ?2 WHERE user_id = ?3",
                params![
                    lock.failures,
                    lock.locked_until.map(format_time),
                    user.user_id
                ],
            )?;
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::SignInFailed, Some(&user)).detail(json!({
                    "reason": "wrong PIN",
                    "failures": lock.failures,
                    "confirms": confirming,
                })),
            )?;
            if let Some(until) = lock.locked_until {
                append(
                    tx,
                    station,
                    &AuditEntry::user(AuditEvent::UserLocked, Some(&user))
                        .detail(json!({ "locked_until": format_time(until) })),
                )?;
                return Ok(Checked::Locked(user.name, local(until)));
            }
            Ok(Checked::Wrong(user.name))
        })?;
        match checked {
            Checked::Right(user) => Ok(user),
            Checked::Wrong(user) => Err(LedgerError::WrongPin { user }),
            Checked::Locked(user, until) => Err(LedgerError::Locked { user, until }),
            Checked::Disabled(user) => Err(LedgerError::Disabled { user }),
        }
    }
}

/// What a PIN check found (recorded before it is acted on).
enum Checked {
    /// The right PIN.
    Right(User),
    /// A wrong PIN, or a name the station does not know.
    Wrong(String),
    /// Locked until the local time given (now, or already).
    Locked(String, String),
    /// The right PIN of a disabled user.
    Disabled(String),
}
