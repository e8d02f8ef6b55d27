//! Fiddler session archives (`.saz`): a zip of `raw/N_c.txt` (the raw
//! request), `N_s.txt` (the raw response), `N_m.xml` (timers and flags) and
//! `N_w.txt` (WebSocket frames) per session. Each session becomes a
//! [`Captured`] exchange that [`super::capture`] turns into events, so
//! Fiddler users get the HAR analysis.
//!
//! An archive is untrusted input: members are read with a size bound (a zip
//! bomb is refused, not followed), an encrypted archive is named as such,
//! and an archive whose end is missing is read from the member headers
//! that remain. Sessions are read one at a time, so memory holds one
//! session's files, not the whole archive.

mod http;
mod metadata;
mod websocket;

use super::capture;
pub use super::capture::Parsed;
use crate::event::Event;
use crate::signalr::connections::Exchange;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

/// The largest member read (declared or actual uncompressed size). Fiddler
/// holds sessions in memory, so real members stay far below it.
pub const MEMBER_LIMIT: u64 = 512 << 20;

/// The first bytes of a zip archive.
pub const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

/// What the session files of an archive are called: `raw/N_c.txt` with
/// either separator, any width of N, any case of the suffix.
pub fn session_file(name: &str) -> Option<(u64, char)> {
    let name = name.replace('\\', "/");
    let rest = name
        .get(..4)?
        .eq_ignore_ascii_case("raw/")
        .then(|| &name[4..])?;
    let (number, kind) = rest.split_once('_')?;
    let number = number.parse::<u64>().ok()?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "c.txt" => 'c',
        "s.txt" => 's',
        "m.xml" => 'm',
        "w.txt" => 'w',
        "g.txt" => 'g',
        _ => return None,
    };
    Some((number, kind))
}

/// The files of one session: indexes into [`Archive`]'s members.
#[derive(Default)]
struct Session {
    request: Option<usize>,
    response: Option<usize>,
    metadata: Option<usize>,
    websocket: Option<usize>,
}

/// Reads an archive from memory. `Err` says why nothing could be read:
/// not a zip, encrypted, or no sessions in it.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'static>, String> {
    parse_with_limit(bytes, MEMBER_LIMIT)
}

fn parse_with_limit(bytes: &[u8], limit: u64) -> Result<Parsed<'static>, String> {
    if !bytes.starts_with(&ZIP_MAGIC) {
        return Err("not a zip archive (a .saz file is a zip)".to_string());
    }
    let mut out = Parsed::default();
    let mut archive = Archive::open(bytes, limit, &mut out)?;
    let mut sessions: BTreeMap<u64, Session> = BTreeMap::new();
    for (i, name) in archive.names().iter().enumerate() {
        let Some((n, kind)) = session_file(name) else {
            continue;
        };
        let s = sessions.entry(n).or_default();
        match kind {
            'c' => s.request = Some(i),
            's' => s.response = Some(i),
            'm' => s.metadata = Some(i),
            'w' => s.websocket = Some(i),
            _ => {}
        }
    }
    if sessions.is_empty() {
        return Err(match archive.damage() {
            Some(why) => {
                format!("corrupt zip archive ({why}) with no Fiddler sessions in what remains")
            }
            None => "a zip archive without Fiddler sessions (no raw/N_c.txt member); a zip of logs is read member by member when given by its path, not on stdin or inside another archive".to_string(),
        });
    }
    if let Some(name) = archive.encrypted_member() {
        return Err(format!(
            "password-protected archive ({name} is encrypted): Fiddler saved it with a password; open it in Fiddler and save it again without one, or export the sessions as HAR"
        ));
    }
    out.creator = archive.comment();
    out.diag.lines = sessions.len() as u64;
    // Sessions are independent: each thread reads them through its own
    // handle on the mapped archive; results come back in session order.
    let sessions: Vec<(u64, Session)> = sessions.into_iter().collect();
    let read: Vec<SessionRead> = sessions
        .par_iter()
        .with_min_len(16)
        .map_init(
            || archive.clone(),
            |archive, (number, files)| session(archive, *number, files),
        )
        .collect();
    let mut timed = Vec::new();
    for (r, (number, _)) in read.into_iter().zip(&sessions) {
        out.diag.problems.extend(r.problems);
        out.tunnels += u64::from(r.tunnel);
        if r.bad_timers {
            out.diag.bad_timestamps.add(*number);
        }
        match r.events {
            Some((events, exchange)) => out.push_events(events, exchange, &mut timed),
            None => out.diag.unparsed(
                *number,
                1,
                "a SAZ session whose request (N_c.txt) is missing or unreadable; the number is the session's",
            ),
        }
    }
    out.finish(timed);
    Ok(out)
}

/// What reading one session gave.
struct SessionRead {
    /// Its events and exchange; `None` without a readable request.
    events: Option<(Vec<Event<'static>>, Exchange)>,
    /// Members that could not be read, damaged frames.
    problems: Vec<(Option<u64>, String)>,
    /// A timer was there but unreadable.
    bad_timers: bool,
    /// The session is an HTTPS `CONNECT` tunnel.
    tunnel: bool,
}

/// Reads one session's files and turns them into events.
fn session(archive: &mut Archive<'_>, number: u64, files: &Session) -> SessionRead {
    let mut problems = Vec::new();
    let mut read = |index: Option<usize>| -> Option<Vec<u8>> {
        match archive.read(index?) {
            Ok(data) => Some(data),
            Err(why) => {
                problems.push((Some(number), why));
                None
            }
        }
    };
    let request = read(files.request).and_then(http::Message::parse);
    let response = read(files.response)
        .filter(|r| !r.is_empty())
        .and_then(http::Message::parse);
    let meta = read(files.metadata)
        .map(|m| metadata::Metadata::parse(&String::from_utf8_lossy(&m)))
        .unwrap_or_default();
    let frames = read(files.websocket);
    let bad_timers = meta.bad_timers;
    let (mut websocket, damaged) = frames.map(|w| websocket::messages(&w)).unwrap_or_default();
    // A record without timers happened after the one before it (or the
    // upgrade): it takes that time rather than sorting to the end.
    let mut last = meta.start;
    for m in &mut websocket {
        if m.time.is_none() {
            m.time = last;
        }
        last = m.time;
    }
    if let Some(why) = damaged {
        problems.push((Some(number), format!("WebSocket messages (N_w.txt): {why}")));
    }
    let captured = request.map(|r| http::captured(number, r, response, meta, websocket));
    let tunnel = captured.as_ref().is_some_and(capture::Captured::is_tunnel);
    let events = captured.map(capture::events);
    SessionRead {
        events,
        problems,
        bad_timers,
        tunnel,
    }
}

/// The archive's members, read through its central directory or, when
/// that is missing (a truncated download), salvaged from the local headers.
/// Cloned once per thread: the clones share the mapped bytes and lists.
#[derive(Clone)]
enum Archive<'b> {
    Indexed {
        zip: zip::ZipArchive<Cursor<&'b [u8]>>,
        names: Arc<Vec<String>>,
        limit: u64,
    },
    Salvaged {
        members: Arc<Vec<SalvagedMember>>,
        why: String,
    },
}

impl<'b> Archive<'b> {
    fn open(bytes: &'b [u8], limit: u64, out: &mut Parsed<'static>) -> Result<Self, String> {
        match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(mut zip) => {
                let names = (0..zip.len())
                    .map(|i| {
                        zip.by_index_raw(i)
                            .ok()
                            .and_then(|f| f.name().ok().map(|n| n.to_string()))
                            .unwrap_or_default()
                    })
                    .collect();
                Ok(Archive::Indexed {
                    zip,
                    names: Arc::new(names),
                    limit,
                })
            }
            Err(e) => {
                let why = e.to_string();
                let members = salvage(bytes, limit);
                let sessions = members
                    .iter()
                    .filter(|(n, _)| session_file(n).is_some_and(|(_, k)| k == 'c'))
                    .count();
                if sessions > 0 {
                    out.diag.problems.push((
                        None,
                        format!(
                            "the archive is truncated or its directory is damaged ({why}); read the {sessions} sessions whose files precede the damage, the rest is missing"
                        ),
                    ));
                }
                Ok(Archive::Salvaged {
                    members: Arc::new(members),
                    why,
                })
            }
        }
    }

    fn names(&self) -> Vec<&str> {
        match self {
            Archive::Indexed { names, .. } => names.iter().map(String::as_str).collect(),
            Archive::Salvaged { members, .. } => members.iter().map(|(n, _)| n.as_str()).collect(),
        }
    }

    fn damage(&self) -> Option<&str> {
        match self {
            Archive::Indexed { .. } => None,
            Archive::Salvaged { why, .. } => Some(why),
        }
    }

    fn comment(&self) -> Option<String> {
        match self {
            Archive::Indexed { zip, .. } => {
                let c = String::from_utf8_lossy(zip.comment()).trim().to_string();
                (!c.is_empty()).then_some(c)
            }
            Archive::Salvaged { .. } => None,
        }
    }

    /// The first session member that is encrypted (ZipCrypto or AES).
    fn encrypted_member(&mut self) -> Option<String> {
        match self {
            Archive::Indexed { zip, names, .. } => (0..zip.len()).find_map(|i| {
                let f = zip.by_index_raw(i).ok()?;
                let aes = f.compression() == zip::CompressionMethod::AES;
                ((f.encrypted() || aes) && session_file(&names[i]).is_some())
                    .then(|| names[i].clone())
            }),
            Archive::Salvaged { members, .. } => members.iter().find_map(|(name, data)| {
                matches!(data, Err(e) if e.contains("password")).then(|| name.clone())
            }),
        }
    }

    /// A member's bytes, or why they cannot be had.
    fn read(&mut self, index: usize) -> Result<Vec<u8>, String> {
        match self {
            Archive::Indexed { zip, names, limit } => {
                let name = &names[index];
                let file = zip
                    .by_index(index)
                    .map_err(|e| format!("{name}: cannot read ({e})"))?;
                bounded(file, *limit).map_err(|why| format!("{name}: {why}"))
            }
            Archive::Salvaged { members, .. } => {
                let (name, data) = &members[index];
                data.clone().map_err(|why| format!("{name}: {why}"))
            }
        }
    }
}

/// Reads a member whole unless it declares or turns out to be bigger than
/// `limit`: a zip bomb is refused, not decompressed.
fn bounded<R: Read>(file: zip::read::ZipFile<'_, R>, limit: u64) -> Result<Vec<u8>, String> {
    let declared = file.size();
    if declared > limit {
        return Err(format!(
            "refused: it declares {} uncompressed, over the {} bound (a zip bomb?); not decompressed",
            mib(declared),
            mib(limit)
        ));
    }
    // The declared size may lie: it sizes the buffer only up to a point.
    let mut data = Vec::with_capacity(declared.min(64 << 20) as usize);
    file.take(limit + 1).read_to_end(&mut data).map_err(|e| {
        // The zip reader stops a member at its declared size.
        if e.to_string().contains("larger than its declared") {
            "refused: it inflates to more than it declares (a zip bomb?); decompression stopped"
                .to_string()
        } else {
            format!("cannot decompress ({e})")
        }
    })?;
    if data.len() as u64 > limit {
        return Err(format!(
            "refused: it inflates to more than the {} bound (a zip bomb?); decompression stopped",
            mib(limit)
        ));
    }
    Ok(data)
}

/// A size in MiB, or bytes below one.
fn mib(n: u64) -> String {
    if n < 1 << 20 {
        format!("{n} bytes")
    } else {
        format!("{:.0} MiB", n as f64 / f64::from(1 << 20))
    }
}

/// A member's name, and its bytes or why they could not be read.
type SalvagedMember = (String, Result<Vec<u8>, String>);

/// Members read one after another from their local headers, for an archive
/// without a readable central directory; stops at the first damage.
fn salvage(bytes: &[u8], limit: u64) -> Vec<SalvagedMember> {
    let mut cursor = Cursor::new(bytes);
    let mut out = Vec::new();
    // Damage ends the walk (`Err`), as does the central directory.
    while let Ok(Some(file)) = zip::read::read_zipfile_from_stream(&mut cursor) {
        let name = file.name().map(|n| n.to_string()).unwrap_or_default();
        if file.is_dir() {
            continue;
        }
        let data = if file.encrypted() {
            Err("encrypted (password required)".to_string())
        } else {
            bounded(file, limit)
        };
        let stop = data.is_err();
        out.push((name, data));
        if stop {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A one-session archive whose response is `body_len` bytes.
    fn archive(body_len: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("raw/1_c.txt", opts).unwrap();
        zip.write_all(b"GET https://a/ HTTP/1.1\r\n\r\n").unwrap();
        zip.start_file("raw/1_s.txt", opts).unwrap();
        zip.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        zip.write_all(&vec![b'x'; body_len]).unwrap();
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn members_over_the_bound_are_refused() {
        let p = parse_with_limit(&archive(5000), 1000).unwrap();
        assert_eq!(p.diag.records, 1, "the request is still read");
        assert_eq!(p.exchanges[0].status, None, "the response was refused");
        let (at, why) = &p.diag.problems[0];
        assert_eq!(*at, Some(1));
        assert!(why.starts_with("raw/1_s.txt: refused: it declares 5019 bytes uncompressed, over the 1000 bytes bound"), "{why}");
        // A member that lies about its size stops at the bound too.
        let mut lying = archive(5000);
        let cd = memchr::memmem::rfind(&lying, b"PK\x01\x02").unwrap();
        let local = u32::from_le_bytes(lying[cd + 42..cd + 46].try_into().unwrap()) as usize;
        for at in [cd + 24, local + 22] {
            lying[at..at + 4].copy_from_slice(&100u32.to_le_bytes());
        }
        let p = parse_with_limit(&lying, 1000).unwrap();
        assert_eq!(p.exchanges[0].status, None);
        let why = &p.diag.problems[0].1;
        assert_eq!(
            why,
            "raw/1_s.txt: refused: it inflates to more than it declares (a zip bomb?); decompression stopped"
        );
        assert!(
            parse_with_limit(&archive(500), 1000)
                .unwrap()
                .diag
                .problems
                .is_empty()
        );
    }

    #[test]
    fn session_file_names() {
        assert_eq!(session_file("raw/1_c.txt"), Some((1, 'c')));
        assert_eq!(session_file("raw\\007_S.TXT"), Some((7, 's')));
        assert_eq!(session_file("raw/120_m.xml"), Some((120, 'm')));
        assert_eq!(session_file("raw/3_w.txt"), Some((3, 'w')));
        assert_eq!(session_file("raw/"), None);
        assert_eq!(session_file("_index.htm"), None);
        assert_eq!(session_file("raw/x_c.txt"), None);
        assert_eq!(session_file("other/1_c.txt"), None);
    }
}
