//! Administering users through the real binary: list, disable and enable, unlock,
//! reset a forgotten PIN; what a non-administrator is refused (audited); a disabled
//! user's history kept; and `verify` naming a disabled flag or PIN hash changed
//! behind the program's back.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{ADMIN, ADMIN_PIN, Run, Station};

fn as_admin(s: &Station, args: &[&str], input: &str) -> Run {
    s.run_with(
        args,
        input.as_bytes(),
        &[
            ("BALLOT_INTAKE_USER", ADMIN),
            ("BALLOT_INTAKE_PIN", ADMIN_PIN),
        ],
    )
}

fn audit_events(s: &Station) -> Vec<String> {
    s.sqlite()
        .prepare("SELECT event FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn loaded() -> Station {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s
}

#[test]
fn a_disabled_user_cannot_sign_in_keeps_their_history_and_is_enabled_again() {
    let s = loaded();
    let (r, _) = s.scan("ben", "271828", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A clerk may not disable anyone, and the refusal is audited.
    let r = s.run_with(
        &["user", "disable", "ben"],
        b"",
        &[
            ("BALLOT_INTAKE_USER", "ana"),
            ("BALLOT_INTAKE_PIN", "314159"),
        ],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("may not disable users"), "{}", r.stderr);
    assert_eq!(audit_events(&s).last().unwrap(), "permission-denied");

    // An administrator may not disable themselves.
    let r = as_admin(&s, &["user", "disable", ADMIN], "");
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("cannot disable their own account"),
        "{}",
        r.stderr
    );

    let r = as_admin(&s, &["user", "disable", "ben"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("ben is disabled"));
    let again = as_admin(&s, &["user", "disable", "ben"], "");
    assert!(
        again.stderr.contains("already disabled"),
        "{}",
        again.stderr
    );

    // The right PIN is told the account is disabled; a wrong one learns nothing.
    let (r, _) = s.scan("ben", "271828", "B0002\n");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("\"ben\" is disabled"), "{}", r.stderr);
    let (r, _) = s.scan("ben", "999111", "B0002\n");
    assert!(r.stderr.contains("wrong name or PIN"), "{}", r.stderr);
    // (A second person's PIN goes through the same check, so a disabled user
    // confirms nothing either.) Their scan from before stays theirs.
    let status = s.status();
    assert_eq!(status["outcomes"]["accepted"], 1, "{status}");

    let list = as_admin(&s, &["user", "list", "--json"], "");
    assert_eq!(list.code, 0, "{}", list.stderr);
    let users: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let ben = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "ben")
        .unwrap();
    assert_eq!(ben["disabled"], true);
    assert_eq!(ben["role"], "clerk");
    assert!(s.ok(&["verify"]).stdout.starts_with("ledger intact:"));

    let r = as_admin(&s, &["user", "enable", "ben"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, results) = s.scan("ben", "271828", "B0002\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "accepted");
    let events = audit_events(&s);
    for e in ["user-disabled", "user-enabled"] {
        assert!(events.iter().any(|x| x == e), "{e} not audited: {events:?}");
    }
}

#[test]
fn a_locked_user_is_unlocked_and_a_forgotten_pin_reset() {
    let s = loaded();
    for _ in 0..5 {
        let (r, _) = s.scan("ana", "000111", "");
        assert_ne!(r.code, 0);
    }
    let (r, _) = s.scan("ana", "314159", "B0001\n");
    assert!(r.stderr.contains("is locked"), "{}", r.stderr);
    let list = as_admin(&s, &["user", "list"], "");
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("ana") && l.contains("locked until")),
        "{}",
        list.stdout
    );

    let r = as_admin(&s, &["user", "unlock", "ana"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, results) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "accepted");
    let r = as_admin(&s, &["user", "unlock", "ana"], "");
    assert!(r.stderr.contains("ana is not locked"), "{}", r.stderr);

    // Ana forgets her PIN: the administrator sets a new one (checked like any PIN).
    let weak = as_admin(&s, &["user", "reset-pin", "ana"], "123456\n");
    assert_ne!(weak.code, 0, "an obvious PIN was taken");
    let r = as_admin(&s, &["user", "reset-pin", "ana"], "507193\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, _) = s.scan("ana", "314159", "B0002\n");
    assert!(r.stderr.contains("wrong name or PIN"), "{}", r.stderr);
    let (r, results) = s.scan("ana", "507193", "B0002\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "accepted");

    // The new hash is vouched for by the reset's audit row.
    assert!(s.ok(&["verify"]).stdout.starts_with("ledger intact:"));
    let events = audit_events(&s);
    for e in ["user-unlocked", "pin-reset"] {
        assert!(events.iter().any(|x| x == e), "{e} not audited: {events:?}");
    }
    // A clerk cannot reset anyone's PIN.
    let r = s.run_with(
        &["user", "reset-pin", "ben"],
        b"507193\n",
        &[
            ("BALLOT_INTAKE_USER", "ana"),
            ("BALLOT_INTAKE_PIN", "507193"),
        ],
    );
    assert!(r.stderr.contains("may not reset PINs"), "{}", r.stderr);
}

#[test]
fn verify_names_a_user_enabled_or_a_pin_changed_behind_the_programs_back() {
    let s = loaded();
    assert_eq!(as_admin(&s, &["user", "disable", "ben"], "").code, 0);
    s.sqlite()
        .execute("UPDATE users SET disabled = 0 WHERE name = 'ben'", [])
        .unwrap();
    let r = s.run(&["verify"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            "user \"ben\" is enabled but the audit log's newest word on it says disabled"
        ),
        "{}",
        r.stderr
    );

    let s = loaded();
    assert_eq!(
        as_admin(&s, &["user", "reset-pin", "ana"], "507193\n").code,
        0
    );
    let sam_hash: String = s
        .sqlite()
        .query_row("SELECT pin_hash FROM users WHERE name = 'sam'", [], |r| {
            r.get(0)
        })
        .unwrap();
    s.sqlite()
        .execute(
            "UPDATE users SET pin_hash = ?1 WHERE name = 'ana'",
            [&sam_hash],
        )
        .unwrap();
    let r = s.run(&["verify"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("user \"ana\"'s role or PIN hash differs"),
        "{}",
        r.stderr
    );
}
