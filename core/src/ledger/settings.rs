//! The audit trail of the station's settings. The settings themselves live in
//! `config.json` (they are the machine's, not the election's), but who changed a
//! scanner or the idle sign-out, and when, belongs in the tamper-evident log.

use serde_json::Value;

use super::audit_log::AuditEntry;
use super::{Ledger, Result, User};
use crate::audit::AuditEvent;

/// The action named when a settings change is refused.
pub const CHANGE_SETTINGS: &str = "change the station's settings";

impl Ledger {
    /// Records that `user` changed the settings (`changes`: each setting's old and
    /// new value). Refused, and the refusal audited, unless `user` is an admin:
    /// checked here too, not only on the screen.
    pub fn record_settings_change(&mut self, user: &User, changes: Value) -> Result<()> {
        self.require_admin(user, CHANGE_SETTINGS)?;
        self.audit_now(&AuditEntry::user(AuditEvent::SettingsChanged, Some(user)).detail(changes))?;
        Ok(())
    }
}
