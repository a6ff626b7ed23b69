//! Supervisor flags: outbound packets USPS returned as undeliverable, and return
//! envelopes that need the voter's attention (cure). Each is an event of its own kind
//! with its own reason code, sent to the backend (unless the voter is confidential)
//! and reversible only by a correction.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use std::str::FromStr;

use super::audit_log::{AuditEntry, append};
use super::elections::active_election;
use super::events::EventRow;
use super::scans::{Envelope, ScanInput, find, first_receipt};
use super::{Ledger, LedgerError, Result, User, format_time};
use crate::audit::AuditEvent;
use crate::intake;

macro_rules! reasons {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        pub enum $name { $(#[doc = $label] $variant,)* }

        impl $name {
            /// Every reason, in the order menus list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The code stored, exported and sent.
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code,)* } }
            /// The wording shown to people.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label,)* } }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl $name {
            /// The label of a stored reason code (the code itself if unknown).
            pub fn label_of(code: &str) -> String {
                let bare = code.split(':').next().unwrap_or(code);
                $name::ALL
                    .iter()
                    .find(|r| r.code() == bare)
                    .map_or_else(|| code.to_string(), |r| r.label().to_string())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                $name::ALL.iter().copied().find(|r| r.code() == wanted).ok_or_else(|| {
                    format!("unknown reason {s:?}; one of: {}",
                        $name::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(", "))
                })
            }
        }
    };
}

reasons! {
    /// USPS undeliverable endorsements (Domestic Mail Manual 507).
    UspsReason {
        AttemptedNotKnown = "attempted_not_known", "Attempted - Not Known";
        NoSuchNumber = "no_such_number", "No Such Number";
        NoSuchStreet = "no_such_street", "No Such Street";
        Vacant = "vacant", "Vacant";
        InsufficientAddress = "insufficient_address", "Insufficient Address";
        MovedLeftNoAddress = "moved_left_no_address", "Moved, Left No Address";
        ForwardingTimeExpired = "forwarding_time_expired", "Forwarding Time Expired";
        UnableToForward = "unable_to_forward", "Unable to Forward";
        Refused = "refused", "Refused";
        Unclaimed = "unclaimed", "Unclaimed";
        Deceased = "deceased", "Deceased";
        TemporarilyAway = "temporarily_away", "Temporarily Away";
        NoMailReceptacle = "no_mail_receptacle", "No Mail Receptacle";
        Illegible = "illegible", "Illegible";
        BoxClosedNoOrder = "box_closed_no_order", "Box Closed - No Order";
        InDispute = "in_dispute", "In Dispute";
        OutsideDeliveryLimits = "outside_delivery_limits", "Outside Delivery Limits";
    }
}

reasons! {
    /// Why a return envelope needs the voter to act.
    AttentionReason {
        Unsigned = "unsigned", "Envelope not signed";
        SignatureMismatch = "signature_mismatch", "Signature does not match";
        Damaged = "damaged", "Envelope damaged";
        IdRequired = "id_required", "ID required";
        Other = "other", "Other (see note)";
    }
}

/// A recorded flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagResult {
    /// Ledger sequence number.
    pub seq: i64,
    /// `undeliverable` or `needs_attention`.
    pub kind: String,
    /// The ballot flagged.
    pub ballot_id: String,
    /// The reason as stored (code, and the note for `other`).
    pub reason: String,
    /// When (UTC).
    pub at: String,
    /// Whether it will be sent to the backend (not for confidential voters or demos).
    pub will_sync: bool,
}

struct Flag<'a> {
    kind: &'static str,
    envelope: Envelope,
    event: AuditEvent,
    reason: String,
    input: &'a ScanInput<'a>,
}

impl Ledger {
    /// Flags a returned outbound packet (scanned by ballot id or outbound IMb) as
    /// undeliverable with its USPS endorsement.
    pub fn flag_undeliverable(
        &mut self,
        supervisor: &User,
        input: &ScanInput<'_>,
        reason: UspsReason,
    ) -> Result<FlagResult> {
        self.flag(
            supervisor,
            &Flag {
                kind: "undeliverable",
                envelope: Envelope::Outbound,
                event: AuditEvent::FlaggedUndeliverable,
                reason: reason.code().to_string(),
                input,
            },
        )
    }

    /// Flags a return envelope as needing the voter's attention. `other` needs a note.
    pub fn flag_needs_attention(
        &mut self,
        supervisor: &User,
        input: &ScanInput<'_>,
        reason: AttentionReason,
        note: Option<&str>,
    ) -> Result<FlagResult> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let reason = match (reason, note) {
            (AttentionReason::Other, None) => {
                return Err(LedgerError::Invalid(
                    "the reason \"other\" needs a note".into(),
                ));
            }
            (r, Some(n)) => format!("{}: {n}", r.code()),
            (r, None) => r.code().to_string(),
        };
        self.flag(
            supervisor,
            &Flag {
                kind: "needs_attention",
                envelope: Envelope::Return,
                event: AuditEvent::FlaggedNeedsAttention,
                reason,
                input,
            },
        )
    }

    /// Records the flag, or audits why it was refused (the refusal itself is an
    /// event a supervisor did, and the log must show it).
    fn flag(&mut self, supervisor: &User, f: &Flag<'_>) -> Result<FlagResult> {
        let action = format!("flag an envelope {}", f.kind.replace('_', " "));
        self.require_supervisor(supervisor, &action)?;
        let result = self.write_flag(supervisor, f);
        if let Err(e) = &result
            && !matches!(
                e,
                LedgerError::DiskFull | LedgerError::Busy | LedgerError::Sqlite(_)
            )
        {
            self.audit_now(
                &AuditEntry::user(AuditEvent::FlagRefused, Some(supervisor)).detail(json!({
                    "kind": f.kind,
                    "barcode": String::from_utf8_lossy(f.input.raw),
                    "reason": f.reason,
                    "why": e.to_string(),
                })),
            )?;
        }
        result
    }

    fn write_flag(&mut self, supervisor: &User, f: &Flag<'_>) -> Result<FlagResult> {
        let shown = String::from_utf8_lossy(f.input.raw).into_owned();
        self.write(|tx, station| {
            let election = active_election(tx)?;
            let (normalized, code) = intake::read_barcode(f.input.raw, election.check_digit).map_err(|why| {
                LedgerError::Invalid(format!("barcode {shown:?} is not readable ({}); nothing flagged", why.describe()))
            })?;
            let hit = find(tx, Some(&election.election_id), &code, &normalized, f.envelope)?.ok_or_else(|| {
                LedgerError::Invalid(format!(
                    "no ballot of election {} has the {} barcode {normalized:?}; nothing flagged",
                    election.election_id,
                    if f.envelope == Envelope::Outbound { "outbound packet" } else { "return envelope" }
                ))
            })?;
            if f.kind == "undeliverable"
                && let Some(r) = first_receipt(tx, hit.ballot_pk)?
            {
                return Err(LedgerError::Invalid(format!(
                    "ballot {} was already received ({} at station {}): flagging it undeliverable would tell the voter otherwise; nothing flagged",
                    hit.ballot_id,
                    r.at.with_timezone(&station.timezone).format("%m/%d %H:%M"),
                    r.station
                )));
            }
            let earlier: Option<i64> = tx
                .query_row(
                    "SELECT e.seq FROM events e WHERE e.ballot_pk = ?1 AND e.kind = ?2 AND e.reason = ?3
                       AND NOT EXISTS (SELECT 1 FROM events c WHERE c.corrects = e.seq) LIMIT 1",
                    params![hit.ballot_pk, f.kind, f.reason],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(seq) = earlier {
                return Err(LedgerError::Invalid(format!(
                    "ballot {} is already flagged {} ({}) by event {seq}; nothing flagged",
                    hit.ballot_id, f.kind, f.reason
                )));
            }
            let mut event = EventRow {
                seq: 0,
                election_id: election.election_id.clone(),
                kind: f.kind.to_string(),
                mode: (f.kind == "undeliverable").then(|| "undeliverable".to_string()),
                raw: Some(f.input.raw.to_vec()),
                normalized: Some(normalized),
                outcome: None,
                ballot_pk: Some(hit.ballot_pk),
                station_id: station.station_id.clone(),
                user_id: supervisor.user_id,
                batch_id: None,
                source: f.input.source.to_string(),
                symbology: f.input.symbology.map(str::to_string),
                occurred_at: format_time(f.input.at),
                reason: Some(f.reason.clone()),
                corrects: None,
            };
            let digest = event.insert(tx)?;
            let will_sync = !hit.confidential && !station.demo;
            if will_sync {
                tx.execute(
                    "INSERT INTO outbox (event_seq, event_type, created_at) VALUES (?1, ?2, ?3)",
                    params![event.seq, f.kind, format_time(Utc::now())],
                )?;
            }
            append(
                tx,
                station,
                &AuditEntry::user(f.event, Some(supervisor))
                    .election(&election.election_id)
                    .subject(event.seq, digest)
                    // As for scans: whether it entered the outbox, for `verify`.
                    .detail(json!({"ballot": hit.ballot_id, "reason": f.reason, "queued": will_sync})),
            )?;
            Ok(FlagResult {
                seq: event.seq,
                kind: f.kind.to_string(),
                ballot_id: hit.ballot_id.clone(),
                reason: f.reason.clone(),
                at: event.occurred_at,
                will_sync,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_parse_leniently_and_are_unique() {
        assert!("Moved, Left No Address".parse::<UspsReason>().is_err());
        assert_eq!(
            "moved-left-no-address".parse::<UspsReason>().unwrap(),
            UspsReason::MovedLeftNoAddress
        );
        assert_eq!("VACANT".parse::<UspsReason>().unwrap(), UspsReason::Vacant);
        assert_eq!(
            "signature mismatch".parse::<AttentionReason>().unwrap(),
            AttentionReason::SignatureMismatch
        );
        let err = "lost".parse::<UspsReason>().unwrap_err();
        assert!(err.contains("attempted_not_known") && err.contains("outside_delivery_limits"));
        assert_eq!(UspsReason::ALL.len(), 17);
        let codes: std::collections::HashSet<_> =
            UspsReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), 17);
    }
}
