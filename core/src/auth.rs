//! Roles, PIN hashing and the lockout policy.
//!
//! PINs are short, so the hash must be expensive: Argon2id with at least the OWASP
//! minimum (m=19456 KiB, t=2, p=1), and repeated wrong PINs lock the user for a
//! doubling wait so that a PIN cannot be guessed at the station.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Argon2id memory cost in KiB (OWASP minimum).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id iterations (OWASP minimum).
pub const ARGON2_T: u32 = 2;
/// Argon2id parallelism (OWASP minimum).
pub const ARGON2_P: u32 = 1;
/// Shortest PIN accepted.
pub const MIN_PIN_LEN: usize = 6;
/// Wrong PINs in a row that lock a user.
pub const MAX_FAILURES: u32 = 5;
/// The first lock's length; each further wrong PIN after a lock doubles it.
pub const FIRST_LOCK_SECS: i64 = 60;
/// The longest lock, so that a user is never locked out for the rest of an election.
pub const MAX_LOCK_SECS: i64 = 4 * 60 * 60;

/// What a user may do at the station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Scans envelopes and opens and closes batches.
    Clerk,
    /// Also resolves discrepancies, reverses scans and flags envelopes.
    Supervisor,
    /// Also manages users, elections and settings.
    Admin,
}

impl Role {
    /// The word stored in the ledger and accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may resolve discrepancies, reverse scans and flag envelopes.
    pub fn can_supervise(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clerk" => Ok(Role::Clerk),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?} (expected clerk, supervisor or admin)"
            )),
        }
    }
}

/// Why a PIN could not be set or checked.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PinError {
    /// The PIN is shorter than [`MIN_PIN_LEN`] or not all digits.
    #[error("a PIN must be at least {MIN_PIN_LEN} digits (0-9) and nothing else")]
    Weak,
    /// The PIN is one a guesser tries first.
    #[error(
        "that PIN is among the first a guesser tries (one digit repeated, a run such as 123456 or 654321, or a short group repeated); choose another"
    )]
    Obvious,
    /// The stored hash cannot be read (a damaged user row).
    #[error("the stored PIN hash is damaged: {0}")]
    Damaged(String),
}

fn hasher() -> Argon2<'static> {
    // The constants are valid Argon2 parameters; `Params::new` only fails on values
    // outside the algorithm's bounds, which a unit test checks.
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new PIN's form.
pub fn check_pin_form(pin: &str) -> Result<(), PinError> {
    if pin.len() >= MIN_PIN_LEN && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::Weak)
    }
}

/// Whether a PIN (of the right form) is one a guesser tries first: one digit
/// repeated (000000), a run up or down (123456, 654321, 345678), or a group of one
/// to three digits repeated (121212, 123123). The lockout gives a guesser five tries;
/// these would spend them well.
pub fn is_obvious(pin: &str) -> bool {
    let d: Vec<i32> = pin
        .bytes()
        .map(|b| i32::from(b) - i32::from(b'0'))
        .collect();
    let steps: Vec<i32> = d.windows(2).map(|w| w[1] - w[0]).collect();
    let run = |step: i32| steps.iter().all(|s| *s == step);
    let repeats = (1..=3).any(|n| d.len().is_multiple_of(n) && d.chunks(n).all(|c| c == &d[..n]));
    run(1) || run(-1) || repeats
}

/// Refuses an obvious PIN (see [`is_obvious`]) for a new PIN on a real station.
pub fn check_not_obvious(pin: &str) -> Result<(), PinError> {
    if is_obvious(pin) {
        Err(PinError::Obvious)
    } else {
        Ok(())
    }
}

/// Hashes a PIN into a PHC string (algorithm, parameters, salt and hash together).
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    check_pin_form(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PinError::Damaged(e.to_string()))
}

/// Whether `pin` matches the stored PHC string. The parameters are read from the
/// string, so hashes made with stronger settings later still verify.
pub fn verify_pin(pin: &str, phc: &str) -> Result<bool, PinError> {
    let parsed = PasswordHash::new(phc).map_err(|e| PinError::Damaged(e.to_string()))?;
    Ok(hasher().verify_password(pin.as_bytes(), &parsed).is_ok())
}

/// Spends the time a real PIN check takes, for a name the station does not know: a
/// refusal that came back faster would tell that the name does not exist.
pub fn verify_dummy(pin: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(phc) = DUMMY.get_or_init(|| hash_pin("918273").ok()) {
        let _ = verify_pin(pin, phc);
    }
}

/// The lock that follows the `failures`-th wrong PIN in a row, if any: none for the
/// first four, then 60 s, 120 s, 240 s ... up to [`MAX_LOCK_SECS`].
pub fn lock_after(failures: u32) -> Option<Duration> {
    if failures < MAX_FAILURES {
        return None;
    }
    let doublings = (failures - MAX_FAILURES).min(20);
    let secs = FIRST_LOCK_SECS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_LOCK_SECS);
    Some(Duration::seconds(secs))
}

/// A user's lockout state as stored in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    /// Wrong PINs since the last successful sign-in.
    pub failures: u32,
    /// Until when the user is locked, if locked.
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockState {
    /// Whether the user is locked at `now`.
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// The state after one more wrong PIN at `now`.
    pub fn after_failure(self, now: DateTime<Utc>) -> LockState {
        let failures = self.failures.saturating_add(1);
        LockState {
            failures,
            locked_until: lock_after(failures).map(|d| now + d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_valid_and_at_least_owasp() {
        let p = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).unwrap();
        assert!(p.m_cost() >= 19_456 && p.t_cost() >= 2 && p.p_cost() >= 1);
    }

    #[test]
    fn hash_and_verify() {
        let phc = hash_pin("246810").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_pin("246810", &phc).unwrap());
        assert!(!verify_pin("246811", &phc).unwrap());
        // Two hashes of one PIN differ (random salt).
        assert_ne!(phc, hash_pin("246810").unwrap());
        assert!(matches!(
            verify_pin("1", "not a hash"),
            Err(PinError::Damaged(_))
        ));
    }

    #[test]
    fn obvious_pins_are_told() {
        for pin in [
            "000000",
            "111111",
            "123456",
            "654321",
            "345678",
            "121212",
            "123123",
            "9876543210",
        ] {
            assert!(is_obvious(pin), "{pin}");
        }
        for pin in ["246810", "314159", "271828", "135790", "112358", "907513"] {
            assert!(!is_obvious(pin), "{pin}");
        }
        assert_eq!(check_not_obvious("123456"), Err(PinError::Obvious));
    }

    #[test]
    fn weak_pins_refused() {
        for pin in ["", "12345", "12345a", " 123456", "١٢٣٤٥٦"] {
            assert_eq!(hash_pin(pin), Err(PinError::Weak), "{pin:?}");
        }
        assert!(check_pin_form("000000").is_ok());
    }

    #[test]
    fn lock_doubles_and_caps() {
        for f in 0..MAX_FAILURES {
            assert_eq!(lock_after(f), None);
        }
        assert_eq!(lock_after(5), Some(Duration::seconds(60)));
        assert_eq!(lock_after(6), Some(Duration::seconds(120)));
        assert_eq!(lock_after(7), Some(Duration::seconds(240)));
        assert_eq!(lock_after(40), Some(Duration::seconds(MAX_LOCK_SECS)));
        assert_eq!(lock_after(u32::MAX), Some(Duration::seconds(MAX_LOCK_SECS)));
    }

    #[test]
    fn lock_state_transitions() {
        let now = DateTime::parse_from_rfc3339("2026-11-03T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut s = LockState {
            failures: 0,
            locked_until: None,
        };
        for _ in 0..4 {
            s = s.after_failure(now);
            assert!(!s.is_locked(now));
        }
        s = s.after_failure(now);
        assert!(s.is_locked(now));
        assert!(s.is_locked(now + Duration::seconds(59)));
        assert!(!s.is_locked(now + Duration::seconds(60)));
    }

    #[test]
    fn roles() {
        for r in [Role::Clerk, Role::Supervisor, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!(!Role::Clerk.can_supervise());
        assert!(Role::Supervisor.can_supervise() && Role::Admin.can_supervise());
        assert!("root".parse::<Role>().is_err());
    }
}
