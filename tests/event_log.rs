//! The audit log as a NIST SP 1500-101 election event log, through the real binary:
//! valid against NIST's own published schema (with a real JSON Schema validator),
//! its hash chain recomputed from the file alone, signed, with no voter's name.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, fixture};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn schema() -> jsonschema::Validator {
    let path = fixture("nist/NIST_V1_election_event_logging.json");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        "55563d1a0d78b8a343a13e17f7d93abbac0134bce798802ad4e49e71e36ceb67",
        "the schema is NIST's, unchanged (fixtures/nist/SOURCE.md)"
    );
    let schema: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn valid(validator: &jsonschema::Validator, file: &Path) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    doc
}

fn export(s: &Station, extra: &[&str]) -> (PathBuf, PathBuf) {
    let out = s.dir.path().join(format!("eel-{}", extra.len()));
    let mut args = vec![
        "audit",
        "export",
        "--user",
        "sam",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let r = s.run_with(&args, b"", &[("BALLOT_INTAKE_PIN", "161803")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    (
        PathBuf::from(v["log"].as_str().unwrap()),
        PathBuf::from(v["documentation"].as_str().unwrap()),
    )
}

/// The station's row hash, written from the rule in the log's own words (the
/// device's Details), not from the station's code.
fn field(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            out.extend_from_slice(&(b.len() as u64).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

fn recomputed(e: &serde_json::Value) -> String {
    let d: serde_json::Value = serde_json::from_str(e["Details"].as_str().unwrap()).unwrap();
    let text = |v: &serde_json::Value| v.as_str().map(|s| s.as_bytes().to_vec());
    let int = |v: &serde_json::Value| v.as_i64().map(|n| n.to_string().into_bytes());
    let mut b = Vec::new();
    field(&mut b, Some(b"ballot-intake/audit/v1"));
    field(&mut b, text(&e["Sequence"]).as_deref());
    field(&mut b, text(&e["TimeStamp"]).as_deref());
    field(&mut b, text(&e["Id"]).as_deref());
    field(&mut b, text(&d["event"]).as_deref());
    field(&mut b, text(&e["Type"]).as_deref());
    field(&mut b, text(&e["Disposition"]).as_deref());
    field(&mut b, text(&e["UserId"]).as_deref());
    field(&mut b, text(&d["role"]).as_deref());
    field(&mut b, text(&d["station_id"]).as_deref());
    field(&mut b, text(&d["election_id"]).as_deref());
    field(&mut b, int(&d["subject_seq"]).as_deref());
    field(&mut b, text(&d["subject_digest"]).as_deref());
    field(&mut b, text(&d["detail"]).as_deref());
    field(&mut b, text(&d["prev_hash"]).as_deref());
    hex::encode(Sha256::digest(&b))
}

#[test]
fn the_audit_log_is_a_valid_signed_nist_event_log_an_auditor_can_rechain() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s.scan("ana", "314159", "B0001\nB0002\nB0001\nNOPE\n");
    // A failure is logged too.
    let (r, _) = s.scan("ana", "000000", "B0003\n");
    assert_ne!(r.code, 0);
    let validator = schema();
    let (log, doc) = export(&s, &[]);
    let log_json = valid(&validator, &log);
    let doc_json = valid(&validator, &doc);

    // The validator is not a formality: a disposition NIST does not list is refused.
    let mut wrong = log_json.clone();
    wrong["Device"][0]["Event"][0]["Disposition"] = "maybe".into();
    assert!(!validator.is_valid(&wrong));
    let device = &log_json["Device"][0];
    assert_eq!(device["Id"], "S1");
    assert_eq!(device["HashType"], "sha-256");
    let events = device["Event"].as_array().unwrap();
    assert!(events.len() > 8, "{}", events.len());
    // Every entry in order, each hash recomputed from the file alone and chained.
    let mut prev = "0".repeat(64);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["Sequence"], (i + 1).to_string());
        let d: serde_json::Value = serde_json::from_str(e["Details"].as_str().unwrap()).unwrap();
        assert_eq!(d["prev_hash"], prev.as_str(), "entry {}", i + 1);
        assert_eq!(e["Hash"], recomputed(e).as_str(), "entry {}", i + 1);
        prev = e["Hash"].as_str().unwrap().to_string();
    }
    assert!(
        events
            .iter()
            .any(|e| e["Disposition"] == "failure" && e["Id"] == "1203")
    );
    assert!(
        events
            .iter()
            .any(|e| e["Id"] == "1501" && e["UserId"] == "ana")
    );
    // Every event id the station can write is documented, and both types.
    let ids = doc_json["EventIdDescription"].as_array().unwrap();
    assert_eq!(ids.len(), ballot_intake_core::audit::AuditEvent::ALL.len());
    assert!(ids.iter().any(|d| {
        d["Id"] == "1705"
            && d["Description"]
                .as_str()
                .unwrap()
                .contains("cross-station duplicate")
    }));
    assert_eq!(
        doc_json["EventTypeDescription"].as_array().unwrap().len(),
        2
    );

    // Signed with the station's key.
    let public = std::fs::read_to_string(
        s.status()["signing_key"]["public_key_file"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    for f in [&log, &doc] {
        let sig = ballot_intake_core::signing::signature_path(f);
        ballot_intake_core::signing::verify_file(f, &sig, &public).unwrap();
    }
    // No voter's name or address, though the ballot file had them.
    let text = std::fs::read_to_string(&log).unwrap();
    for name in ["Núñez", "O'Brien", "Larimer", "Siobhán"] {
        assert!(!text.contains(name), "{name} is in the event log");
    }

    // The export itself is in the log the next time, and a span of days with no
    // entries is still a valid log.
    let (log2, _) = export(&s, &[]);
    let again = valid(&validator, &log2);
    // The same chain, continued: the first export's last entry is in it unchanged.
    assert_eq!(
        again["Device"][0]["Event"][events.len() - 1]["Hash"],
        prev.as_str()
    );
    assert!(
        again["Device"][0]["Event"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["Id"] == "1802")
    );
    let tomorrow = (chrono::Utc::now() + chrono::Days::new(2))
        .date_naive()
        .to_string();
    let (empty, _) = export(&s, &["--from", &tomorrow]);
    let empty = valid(&validator, &empty);
    assert_eq!(empty["Device"][0]["Event"].as_array().unwrap().len(), 0);
    let r = s.run_with(
        &[
            "audit",
            "export",
            "--user",
            "sam",
            "--out",
            "x",
            "--from",
            "2026-12-09",
            "--to",
            "2026-12-01",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is after"), "{}", r.stderr);
}

/// `xmllint --schema` with NIST's XSD: exit 0 and nothing but "validates" said.
fn xsd_check(file: &Path) -> std::process::Output {
    let xsd = fixture("nist/NIST_V1_election_event_logging.xsd");
    assert_eq!(
        hex::encode(Sha256::digest(std::fs::read(&xsd).unwrap())),
        "12b94de15595175c27eacfe16852477fcf8e3881d3cb0be0050167634ac712ae",
        "the XML schema is NIST's, unchanged (fixtures/nist/SOURCE.md)"
    );
    std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint (Debian's libxml2-utils; scripts/deps.sh installs it)")
}

#[test]
fn the_xml_form_is_valid_against_nists_xsd_and_carries_the_same_entries() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s.scan("ana", "314159", "B0001\nB0002\nB0001\nNOPE\n");
    let (r, _) = s.scan("ana", "000000", "B0003\n");
    assert_ne!(r.code, 0);
    let (log, doc) = export(&s, &[]);
    let (log_xml, doc_xml) = (log.with_extension("xml"), doc.with_extension("xml"));
    for f in [&log_xml, &doc_xml] {
        let out = xsd_check(f);
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The validator is not a formality: a disposition NIST does not list is refused.
    let text = std::fs::read_to_string(&log_xml).unwrap();
    let wrong = s.dir.path().join("wrong.xml");
    std::fs::write(
        &wrong,
        text.replacen("<Disposition>success<", "<Disposition>maybe<", 1),
    )
    .unwrap();
    assert!(!xsd_check(&wrong).status.success());

    // The same entries as the JSON, in order, each with its hash and its Details
    // (escaped as XML text).
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
    let events = json["Device"][0]["Event"].as_array().unwrap();
    assert_eq!(text.matches("<Event>").count(), events.len());
    let mut at = 0;
    for e in events {
        let details = e["Details"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        let hash = format!("<Hash>{}</Hash>", e["Hash"].as_str().unwrap());
        let d = text[at..]
            .find(&format!("<Details>{details}</Details>"))
            .unwrap_or_else(|| panic!("entry {} Details not next in the XML", e["Sequence"]));
        let h = text[at..].find(&hash).unwrap();
        assert!(d < h, "entry {}", e["Sequence"]);
        at += h + hash.len();
    }
    assert!(text.contains("<HashType>sha-256</HashType>"));
    let doc_text = std::fs::read_to_string(&doc_xml).unwrap();
    assert_eq!(
        doc_text.matches("<EventIdDescription>").count(),
        ballot_intake_core::audit::AuditEvent::ALL.len()
    );

    // Signed, and checked by verify-file with the public key alone.
    let public = s.status()["signing_key"]["public_key_file"]
        .as_str()
        .unwrap()
        .to_string();
    for f in [&log_xml, &doc_xml] {
        let r = s.run(&["verify-file", f.to_str().unwrap(), "--public-key", &public]);
        assert_eq!(r.code, 0, "{}: {}{}", f.display(), r.stdout, r.stderr);
    }
    // No voter's name or address.
    for name in ["Núñez", "O'Brien", "Larimer", "Siobhán"] {
        assert!(!text.contains(name), "{name} is in the XML event log");
    }
}
