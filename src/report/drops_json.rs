//! The report's `drops` list written straight into JSON text.
//!
//! A long log's report is mostly drops (34,483 of them, 37 MB, for a GiB of
//! ILogger text). Written with serde_json's pretty printer, each drop went
//! through the generic serializer and then a pass that indented its lines
//! for their depth in the report; this writes each drop's fixed shape at its
//! depth directly. The text must stay the pretty printer's, byte for byte
//! (DESIGN.md's JSON report is a contract, and `to_json` is compared with
//! `serde_json::to_string_pretty` in the tests), so strings and numbers
//! still go through serde_json's own escaping and number formatting.

use crate::correlate::drops::{Cause, Drop, Evidence};

/// Appends `drop` as the pretty printer writes an element of a list two
/// levels deep (the first line not indented, the others from 6 spaces;
/// no trailing newline).
pub(super) fn write_drop(out: &mut Vec<u8>, drop: &Drop) {
    out.extend_from_slice(b"{\n      \"time\": ");
    opt_str(out, drop.time.as_deref());
    out.extend_from_slice(b",\n      \"side\": ");
    str(out, drop.side);
    out.extend_from_slice(b",\n      \"connection\": ");
    opt_str(out, drop.connection.as_deref());
    out.extend_from_slice(b",\n      \"input\": ");
    num(out, drop.input as u64);
    out.extend_from_slice(b",\n      \"line\": ");
    num(out, drop.line);
    out.extend_from_slice(b",\n      \"causes\": ");
    list(out, &drop.causes, 6, cause);
    out.extend_from_slice(b",\n      \"rule\": ");
    str(out, &drop.rule);
    out.extend_from_slice(b",\n      \"server_connection\": ");
    opt_str(out, drop.server_connection.as_deref());
    out.extend_from_slice(b",\n      \"clients\": ");
    match drop.clients {
        Some(n) => num(out, n),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"\n    }");
}

/// One cause, at four levels deep (its fields at 10 spaces).
fn cause(out: &mut Vec<u8>, c: &Cause) {
    out.extend_from_slice(b"{\n          \"rule\": ");
    str(out, &c.rule);
    out.extend_from_slice(b",\n          \"confidence\": ");
    str(out, c.confidence);
    out.extend_from_slice(b",\n          \"evidence\": ");
    list(out, &c.evidence, 10, evidence);
    out.extend_from_slice(b",\n          \"why\": ");
    str(out, &c.why);
    out.extend_from_slice(b",\n          \"time\": ");
    opt_str(out, c.time.as_deref());
    out.extend_from_slice(b"\n        }");
}

fn evidence(out: &mut Vec<u8>, e: &Evidence) {
    out.extend_from_slice(b"{\n              \"input\": ");
    num(out, e.input as u64);
    out.extend_from_slice(b",\n              \"line\": ");
    num(out, e.line);
    out.extend_from_slice(b"\n            }");
}

/// A list whose key is indented by `indent` spaces: `[]` when empty, else
/// each element on its own line two spaces further in.
fn list<T>(out: &mut Vec<u8>, items: &[T], indent: usize, each: fn(&mut Vec<u8>, &T)) {
    const SPACES: &[u8] = &[b' '; 16];
    if items.is_empty() {
        out.extend_from_slice(b"[]");
        return;
    }
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        out.extend_from_slice(&SPACES[..indent + 2]);
        each(out, item);
    }
    out.push(b'\n');
    out.extend_from_slice(&SPACES[..indent]);
    out.push(b']');
}

/// A JSON string, escaped as serde_json escapes it.
fn str(out: &mut Vec<u8>, s: &str) {
    if plain(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to memory does not fail");
    }
}

/// True when JSON needs no escape in `bytes` (no quote, backslash or
/// control character), eight bytes at a time: ids, times and the causes'
/// texts are nearly always plain, and a byte-by-byte test of them was
/// most of the time taken to write the drops.
fn plain(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Bytes below 0x20 (with 0x80 clear) or equal to `"` or `\`: the
    // classic "has a zero byte" test on `w ^ byte * ONES`, and a borrow
    // test for the range. False positives only send a plain string to the
    // exact escaper.
    let special = |w: u64| {
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        (w.wrapping_sub(0x20 * ONES) & !w & HIGHS)
            | zero(w ^ (b'"' as u64 * ONES))
            | zero(w ^ (b'\\' as u64 * ONES))
    };
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        if special(u64::from_le_bytes(w.try_into().expect("8 bytes"))) != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn num(out: &mut Vec<u8>, n: u64) {
    serde_json::to_writer(&mut *out, &n).expect("writing to memory does not fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json's pretty printer writes for `drop` two levels deep.
    fn pretty(drop: &Drop) -> Vec<u8> {
        let one = serde_json::to_vec_pretty(drop).unwrap();
        let mut out = Vec::new();
        for (i, line) in one.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\n    ");
            }
            out.extend_from_slice(line);
        }
        out
    }

    fn direct(drop: &Drop) -> Vec<u8> {
        let mut out = Vec::new();
        write_drop(&mut out, drop);
        out
    }

    /// The word-at-a-time test never calls a string plain that needs an
    /// escape (every byte value, at every position of a word).
    #[test]
    fn plain_strings_need_no_escape() {
        for b in 0..=255u8 {
            for at in 0..11 {
                let mut text = b"abcdefghijk".to_vec();
                text[at] = b;
                let needs = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(plain(&text), !needs, "byte {b} at {at}");
            }
        }
        assert!(plain(b""));
    }

    #[test]
    fn every_shape_of_a_drop_is_written_as_the_pretty_printer_does() {
        let cause = |n: usize| Cause {
            rule: "app-server-restart".to_string(),
            confidence: "low",
            evidence: (0..n)
                .map(|i| Evidence {
                    input: i,
                    line: 10 + i as u64,
                })
                .collect(),
            why: "quotes \" back\\slash \u{1} tab\t new\nline é 😀, 1.5s before".to_string(),
            time: n
                .is_multiple_of(2)
                .then(|| "2024-01-15T08:35:53.113Z".to_string()),
        };
        let full = Drop {
            time: Some("2024-01-15T08:35:51.542+02:00".to_string()),
            side: "server",
            connection: Some("9b44fecb-65df-8572-3735-eeb54b3cd52c".to_string()),
            input: 3,
            line: u64::MAX,
            causes: vec![cause(1), cause(0), cause(3)],
            rule: "server-connection-drop".to_string(),
            server_connection: Some("a\"b".to_string()),
            clients: Some(12),
        };
        let bare = Drop {
            time: None,
            side: "client",
            connection: None,
            input: 0,
            line: 0,
            causes: Vec::new(),
            rule: String::new(),
            server_connection: None,
            clients: None,
        };
        for drop in [&full, &bare] {
            assert_eq!(
                String::from_utf8(direct(drop)).unwrap(),
                String::from_utf8(pretty(drop)).unwrap()
            );
        }
    }
}
