//! A session's `N_m.xml`: the timers that give the exchange its time and
//! duration, and the flags that say it was aborted.
//!
//! Only a few attributes of a fixed, machine-written layout are needed, so
//! this reads `name="value"` pairs of the elements it knows rather than
//! pulling in an XML parser. Timers are `XmlConvert` round-trip times: a
//! local offset, 0–7 fraction digits; `0001-01-01T00:00:00` means unset.

use crate::time::Timestamp;

/// What a session's metadata says.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Metadata {
    /// When the client began the request.
    pub start: Option<Timestamp>,
    /// Client request begin to client response done, in milliseconds.
    pub duration_ms: Option<f64>,
    /// Server got the request to server began the response, in milliseconds.
    pub wait_ms: Option<f64>,
    /// Why the session was aborted, when it was.
    pub aborted: Option<String>,
    /// A timer was present but not readable as a time.
    pub bad_timers: bool,
}

impl Metadata {
    pub(super) fn parse(xml: &str) -> Metadata {
        let mut m = Metadata::default();
        let session = element(xml, "Session").unwrap_or("");
        let timers = element(xml, "SessionTimers").unwrap_or("");
        let mut timer = |name: &str| -> Option<Timestamp> {
            let v = attribute(timers, name)?;
            if v.starts_with("0001-01-01") {
                return None;
            }
            let t = crate::time::parse(&v);
            m.bad_timers |= t.is_none();
            t
        };
        let start = timer("ClientBeginRequest").or_else(|| timer("ClientConnected"));
        let end = timer("ClientDoneResponse").or_else(|| timer("ServerDoneResponse"));
        let wait = (timer("ServerGotRequest"), timer("ServerBeginResponse"));
        m.start = start;
        m.duration_ms = between(start, end);
        m.wait_ms = between(wait.0, wait.1);
        let flag = |name: &str| {
            let mut rest = xml;
            while let Some(i) = rest.find("<SessionFlag ") {
                let el = element(&rest[i..], "SessionFlag").unwrap_or("");
                if attribute(el, "N").as_deref() == Some(name) {
                    return attribute(el, "V");
                }
                rest = &rest[i + 1..];
            }
            None
        };
        let aborted_attr = attribute(session, "Aborted").is_some_and(|v| v == "true");
        m.aborted = match (flag("x-aborted-when"), flag("x-failsession-when")) {
            (Some(when), _) => Some(format!("aborted while {}", words(&when))),
            (None, Some(when)) => Some(format!("failed while {}", words(&when))),
            (None, None) if aborted_attr => Some("aborted".to_string()),
            _ => None,
        };
        m
    }
}

/// `SendingRequest` as `sending request`.
fn words(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn between(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<f64> {
    let (a, b) = (a?.sort_key(), b?.sort_key());
    let ms = (b.0 - a.0) as f64 * 1000.0 + (f64::from(b.1) - f64::from(a.1)) / 1e6;
    (ms >= 0.0).then_some(ms)
}

/// The attributes text of the first `<name …>` element.
fn element<'x>(xml: &'x str, name: &str) -> Option<&'x str> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = xml[from..].find(&open) {
        let at = from + i + open.len();
        // `<Session` must not match `<SessionTimers`.
        if xml[at..].starts_with([' ', '>', '/', '\r', '\n', '\t']) {
            let end = xml[at..].find('>').map_or(xml.len(), |j| at + j);
            return Some(&xml[at..end]);
        }
        from = at;
    }
    None
}

/// An attribute's value, entities decoded.
fn attribute(attrs: &str, name: &str) -> Option<String> {
    let mut from = 0;
    let pattern = format!("{name}=\"");
    while let Some(i) = attrs[from..].find(&pattern) {
        let at = from + i;
        let before = attrs[..at].chars().next_back();
        if before.is_none_or(char::is_whitespace) {
            let start = at + pattern.len();
            let end = attrs[start..].find('"').map_or(attrs.len(), |j| start + j);
            return Some(unescape(&attrs[start..end]));
        }
        from = at + pattern.len();
    }
    None
}

/// The five XML entities and numeric references.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Session SID=\"1\" BitFlags=\"181\">\r\n  <SessionTimers ClientConnected=\"2023-04-06T14:25:12.2728316+02:00\" ClientBeginRequest=\"2023-04-06T14:25:12.27283+02:00\" ServerGotRequest=\"0001-01-01T00:00:00\" ServerBeginResponse=\"2023-04-06T14:25:12.4+02:00\" ClientDoneResponse=\"2023-04-06T14:25:12.5398095+02:00\" />\r\n  <SessionFlags>\r\n    <SessionFlag N=\"x-failsession-when\" V=\"SendingRequest\" />\r\n    <SessionFlag N=\"ui-comments\" V=\"a &amp; b &#x41;\" />\r\n  </SessionFlags>\r\n</Session>";

    #[test]
    fn timers_unset_timers_and_flags() {
        let m = Metadata::parse(XML);
        assert_eq!(
            m.start.unwrap().to_string(),
            "2023-04-06T14:25:12.27283+02:00"
        );
        let d = m.duration_ms.unwrap();
        assert!((d - 266.9795).abs() < 0.001, "{d}");
        assert_eq!(m.wait_ms, None, "an unset timer gives no wait");
        assert_eq!(m.aborted.as_deref(), Some("failed while sending request"));
        assert!(!m.bad_timers);
        assert_eq!(
            unescape("a &amp; b &#x41;&#66; &bogus; &"),
            "a & b AB &bogus; &"
        );
    }

    #[test]
    fn unreadable_and_missing_timers() {
        let m = Metadata::parse(
            "<Session><SessionTimers ClientBeginRequest=\"yesterday\" /></Session>",
        );
        assert!(m.bad_timers && m.start.is_none());
        assert_eq!(Metadata::parse(""), Metadata::default());
        let aborted = Metadata::parse("<Session SID=\"2\" Aborted=\"true\"></Session>");
        assert_eq!(aborted.aborted.as_deref(), Some("aborted"));
    }
}
