//! The event log and its documentation in NIST SP 1500-101's XML form, beside the
//! JSON: the same entries, the same fields, in the element order NIST's schema
//! (`NIST_V1_election_event_logging.xsd`) requires, which is alphabetical, not the
//! order a reader expects (a device's events come before its id).
//!
//! Written one row at a time through quick-xml, which escapes every text. XML 1.0
//! cannot carry most control characters at all, even escaped: each is written as
//! U+FFFD. None reaches a hashed field unescaped, because the hashed fields travel
//! in `Details` as JSON text, where serde has already written them as `\u00XX`.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::audit::AuditRow;

/// NIST SP 1500-101's XML namespace.
pub const NAMESPACE: &str = "http://itl.nist.gov/ns/voting/1500-101/v1";

/// What the log's root and device say about themselves.
pub struct Head<'a> {
    /// The root's `Details`.
    pub details: &'a str,
    /// The device's `Details` (with the hash rule).
    pub device_details: &'a str,
    /// The device's `Id`: the station.
    pub device_id: &'a str,
    /// The active election, if any.
    pub election_id: Option<&'a str>,
    /// When the export was made (`xsd:dateTime`).
    pub generated: &'a str,
}

/// `text` as XML 1.0 can hold it: the characters it forbids even escaped (every
/// control character but tab, newline and carriage return) become U+FFFD.
fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let forbidden = |c: char| c < ' ' && !matches!(c, '\t' | '\n' | '\r');
    if text.chars().any(forbidden) {
        text.chars()
            .map(|c| if forbidden(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

fn open<W: Write>(w: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close<W: Write>(w: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// `<name>text</name>`.
fn leaf<W: Write>(w: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    open(w, name)?;
    w.write_event(Event::Text(BytesText::new(&xml_safe(text))))?;
    close(w, name)
}

fn start_root<W: Write>(w: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Text(BytesText::from_escaped("\n")))?;
    w.write_event(Event::Start(
        BytesStart::new(name).with_attributes([("xmlns", NAMESPACE)]),
    ))
}

/// Writes an `ElectionEventLog` as the rows come: [`LogWriter::start`], an
/// [`LogWriter::event`] per audit row, then [`LogWriter::finish`].
pub struct LogWriter<W: Write> {
    w: Writer<W>,
}

impl<W: Write> LogWriter<W> {
    /// Opens the log and its one device, up to where the events go.
    pub fn start(out: W, head: &Head<'_>) -> std::io::Result<Self> {
        let mut w = Writer::new(out);
        start_root(&mut w, "ElectionEventLog")?;
        leaf(&mut w, "Details", head.details)?;
        open(&mut w, "Device")?;
        leaf(&mut w, "Details", head.device_details)?;
        Ok(LogWriter { w })
    }

    /// One audit row as an `Event`, with what the JSON form carries.
    pub fn event(&mut self, row: &AuditRow, details: &str) -> std::io::Result<()> {
        let w = &mut self.w;
        w.write_event(Event::Text(BytesText::from_escaped("\n")))?;
        open(w, "Event")?;
        leaf(w, "Description", &row.event)?;
        leaf(w, "Details", details)?;
        leaf(w, "Disposition", &row.disposition)?;
        leaf(w, "Hash", &row.hash)?;
        leaf(w, "Id", &row.event_id.to_string())?;
        leaf(w, "Sequence", &row.seq.to_string())?;
        leaf(w, "TimeStamp", &row.at)?;
        leaf(w, "Type", &row.kind)?;
        if let Some(user) = &row.user_name {
            leaf(w, "UserId", user)?;
        }
        close(w, "Event")
    }

    /// Closes the device (its fields after its events, as the schema orders them)
    /// and the log; gives the writer back.
    pub fn finish(mut self, head: &Head<'_>) -> std::io::Result<W> {
        let w = &mut self.w;
        w.write_event(Event::Text(BytesText::from_escaped("\n")))?;
        leaf(w, "HashType", "sha-256")?;
        leaf(w, "Id", head.device_id)?;
        leaf(w, "Manufacturer", super::MANUFACTURER)?;
        leaf(w, "Model", super::MODEL)?;
        leaf(w, "Type", "other")?;
        leaf(w, "OtherType", super::DEVICE_KIND)?;
        leaf(w, "Version", env!("CARGO_PKG_VERSION"))?;
        close(w, "Device")?;
        if let Some(e) = head.election_id {
            leaf(w, "ElectionId", e)?;
        }
        leaf(w, "GeneratedTime", head.generated)?;
        close(w, "ElectionEventLog")?;
        w.write_event(Event::Text(BytesText::from_escaped("\n")))?;
        Ok(self.w.into_inner())
    }
}

/// The `ElectionEventLogDocumentation` in XML: the same ids and types as the JSON.
pub fn documentation(
    station_id: &str,
    ids: &[(String, String)],
    types: &[(&str, &str)],
    generated_date: &str,
) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    start_root(&mut w, "ElectionEventLogDocumentation")?;
    leaf(&mut w, "DeviceId", station_id)?;
    leaf(&mut w, "DeviceManufacturer", super::MANUFACTURER)?;
    leaf(&mut w, "DeviceModel", super::MODEL)?;
    leaf(&mut w, "DeviceVersion", env!("CARGO_PKG_VERSION"))?;
    for (id, description) in ids {
        open(&mut w, "EventIdDescription")?;
        leaf(&mut w, "Description", description)?;
        leaf(&mut w, "Id", id)?;
        close(&mut w, "EventIdDescription")?;
    }
    for (kind, description) in types {
        open(&mut w, "EventTypeDescription")?;
        leaf(&mut w, "Description", description)?;
        leaf(&mut w, "Type", kind)?;
        close(&mut w, "EventTypeDescription")?;
    }
    leaf(&mut w, "GeneratedDate", generated_date)?;
    close(&mut w, "ElectionEventLogDocumentation")?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::xml_safe;

    #[test]
    fn control_characters_xml_cannot_hold_are_replaced() {
        assert_eq!(xml_safe("a\u{1}b\tc\n"), "a\u{FFFD}b\tc\n");
        assert_eq!(xml_safe("plain <&>"), "plain <&>");
    }
}
