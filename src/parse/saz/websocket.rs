//! A session's `N_w.txt`: Fiddler's WebSocket message records, each a few
//! header lines (`Request-Length` for client to server, `Response-Length`
//! for server to client, `ID`, `BitFlags`, timers), a blank line and the
//! whole frame as it crossed the wire — header, mask key and payload, so
//! client frames are masked. Frames are decoded here (length forms, mask,
//! fragments, permessage-deflate) into plain messages.

use crate::parse::capture::WsMessage;
use std::borrow::Cow;

/// The most one message may inflate to (permessage-deflate).
const MESSAGE_LIMIT: usize = 16 << 20;

/// The messages of a `_w.txt`, and what stopped the reading early, if
/// anything did (the messages before it are kept).
pub(super) fn messages(bytes: &[u8]) -> (Vec<WsMessage<'static>>, Option<String>) {
    let mut out = Vec::new();
    let mut directions = [Direction::default(), Direction::default()];
    let mut rest = bytes;
    loop {
        rest = skip_newlines(rest);
        if rest.is_empty() {
            return (out, None);
        }
        let record = match Record::parse(rest) {
            Ok(r) => r,
            Err(why) => {
                let at = bytes.len() - rest.len();
                return (
                    out,
                    Some(format!("{why} at byte {at}; later messages not read")),
                );
            }
        };
        rest = record.rest;
        let Some(frame) = Frame::parse(record.frame) else {
            let at = bytes.len() - rest.len();
            return (
                out,
                Some(format!("an unreadable WebSocket frame before byte {at}")),
            );
        };
        let dir = &mut directions[usize::from(record.send)];
        if let Some((opcode, payload)) = dir.add(frame) {
            out.push(WsMessage {
                kind: Cow::Borrowed(if record.send { "send" } else { "receive" }),
                time: record.time,
                opcode: i64::from(opcode),
                payload: Cow::Owned(payload),
            });
        }
    }
}

/// Blank lines between records (Fiddler writes an extra one when a record
/// has no timers). A frame never starts with CR or LF: those would be
/// reserved or fragmented control opcodes.
fn skip_newlines(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
    &b[n..]
}

/// One record: its direction, time and frame bytes.
struct Record<'b> {
    send: bool,
    time: Option<crate::time::Timestamp>,
    frame: &'b [u8],
    rest: &'b [u8],
}

impl<'b> Record<'b> {
    fn parse(bytes: &'b [u8]) -> Result<Record<'b>, String> {
        let mut rest = bytes;
        let mut length = None;
        let mut send = false;
        let mut time = None;
        loop {
            let eol = memchr::memchr(b'\n', rest).ok_or("a record header cut off")?;
            let line = String::from_utf8_lossy(&rest[..eol]);
            let line = line.trim_end_matches('\r');
            rest = &rest[eol + 1..];
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| {
                format!(
                    "`{}` is not a record header",
                    crate::event::shorten(line, 40)
                )
            })?;
            let value = value.trim();
            match name {
                "Request-Length" | "Response-Length" => {
                    send = name == "Request-Length";
                    length = Some(value.parse::<usize>().map_err(|_| {
                        format!(
                            "`{name}: {}` is not a length",
                            crate::event::shorten(value, 20)
                        )
                    })?);
                }
                "DoneRead" | "BeginSend" | "DoneSend" if time.is_none() => {
                    time = crate::time::parse(value);
                }
                _ => {}
            }
        }
        let length = length.ok_or("a record without Request-Length or Response-Length")?;
        let rest = skip_newlines(rest);
        if length > rest.len() {
            return Err(format!(
                "a frame of {length} bytes cut off after {} bytes",
                rest.len()
            ));
        }
        Ok(Record {
            send,
            time,
            frame: &rest[..length],
            rest: &rest[length..],
        })
    }
}

/// A decoded frame.
struct Frame {
    fin: bool,
    compressed: bool,
    opcode: u8,
    payload: Vec<u8>,
}

impl Frame {
    /// RFC 6455 §5.2; `None` when the header is cut off.
    fn parse(b: &[u8]) -> Option<Frame> {
        let (&b0, &b1) = (b.first()?, b.get(1)?);
        let mut at = 2;
        let mut len = u64::from(b1 & 0x7f);
        if len == 126 {
            len = u64::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?));
            at = 4;
        } else if len == 127 {
            len = u64::from_be_bytes(b.get(2..10)?.try_into().ok()?);
            at = 10;
        }
        let mask: Option<[u8; 4]> = if b1 & 0x80 != 0 {
            let m = b.get(at..at + 4)?.try_into().ok()?;
            at += 4;
            Some(m)
        } else {
            None
        };
        // A short frame keeps what was captured.
        let end = at
            .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
            .min(b.len());
        let mut payload = b.get(at..end)?.to_vec();
        if let Some(m) = mask {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= m[i % 4];
            }
        }
        Some(Frame {
            fin: b0 & 0x80 != 0,
            compressed: b0 & 0x40 != 0,
            opcode: b0 & 0x0f,
            payload,
        })
    }
}

/// One direction of a socket: a message being assembled from fragments,
/// and the permessage-deflate window, which carries over between messages.
#[derive(Default)]
struct Direction {
    pending: Option<(u8, bool, Vec<u8>)>,
    inflater: Option<flate2::Decompress>,
}

impl Direction {
    /// Adds a frame; a whole message when this frame completes one.
    fn add(&mut self, f: Frame) -> Option<(u8, Vec<u8>)> {
        // Control frames (close, ping, pong) arrive whole, even between
        // the fragments of a message.
        if f.opcode >= 8 {
            return Some((f.opcode, f.payload));
        }
        let (opcode, compressed, mut payload) = match (f.opcode, self.pending.take()) {
            (0, Some((op, c, mut data))) => {
                data.extend_from_slice(&f.payload);
                (op, c, data)
            }
            (op, _) => (op, f.compressed, f.payload),
        };
        if !f.fin {
            self.pending = Some((opcode, compressed, payload));
            return None;
        }
        if compressed {
            payload = self.inflate(&payload);
        }
        Some((opcode, payload))
    }

    /// permessage-deflate (RFC 7692): raw deflate with the final empty
    /// block's `00 00 ff ff` stripped. What cannot be inflated is shown as
    /// it came, marked.
    fn inflate(&mut self, data: &[u8]) -> Vec<u8> {
        let z = self
            .inflater
            .get_or_insert_with(|| flate2::Decompress::new(false));
        let mut input = data.to_vec();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out = Vec::new();
        let mut consumed = 0;
        loop {
            out.reserve(input.len().saturating_mul(4).max(4096));
            let (in_before, out_before) = (z.total_in(), z.total_out());
            if z.decompress_vec(&input[consumed..], &mut out, flate2::FlushDecompress::Sync)
                .is_err()
            {
                return b"[compressed frame that could not be inflated]".to_vec();
            }
            let read = (z.total_in() - in_before) as usize;
            consumed += read;
            let done = consumed >= input.len() && out.len() < out.capacity();
            let stuck = read == 0 && z.total_out() == out_before;
            if out.len() > MESSAGE_LIMIT {
                out.truncate(MESSAGE_LIMIT);
                break;
            }
            if done || stuck {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(send: bool, timers: bool, frame: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "{}-Length: {}\r\nID: 1\r\nBitFlags: 0\r\n",
            if send { "Request" } else { "Response" },
            frame.len()
        );
        if timers {
            r.push_str("DoneRead: 2024-01-15T00:30:05.3412120-08:00\r\n");
        }
        r.push_str("\r\n");
        if !timers {
            r.push_str("\r\n");
        }
        let mut b = r.into_bytes();
        b.extend_from_slice(frame);
        b.extend_from_slice(b"\r\n");
        b
    }

    fn masked(op: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x12, 0x34, 0x56, 0x78];
        let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    #[test]
    fn masked_unmasked_fragmented_and_close() {
        let mut w = record(
            true,
            true,
            &masked(1, b"{\"protocol\":\"json\",\"version\":1}\x1e"),
        );
        w.extend(record(false, false, b"\x01\x03{}\x1e"));
        w.extend(record(false, true, b"\x80\x0b{\"type\":6}\x1e"));
        w.extend(record(false, true, b"\x88\x02\x03\xe8"));
        let (msgs, err) = messages(&w);
        assert_eq!(err, None);
        assert_eq!(
            msgs.len(),
            3,
            "the fragment and its continuation are one message"
        );
        assert_eq!(msgs[0].kind, "send");
        assert_eq!(
            &*msgs[0].payload,
            b"{\"protocol\":\"json\",\"version\":1}\x1e"
        );
        assert_eq!(
            msgs[0].time.unwrap().to_string(),
            "2024-01-15T00:30:05.341212-08:00"
        );
        assert_eq!(
            (msgs[1].opcode, &*msgs[1].payload),
            (1, &b"{}\x1e{\"type\":6}\x1e"[..])
        );
        assert_eq!((msgs[2].opcode, &*msgs[2].payload), (8, &b"\x03\xe8"[..]));
    }

    #[test]
    fn extended_lengths_and_deflate() {
        let text = "x".repeat(300);
        let mut f = vec![0x81, 126, 0x01, 0x2c];
        f.extend_from_slice(text.as_bytes());
        let (msgs, _) = messages(&record(false, true, &f));
        assert_eq!(msgs[0].payload.len(), 300);
        // permessage-deflate: raw deflate, sync-flushed, tail stripped.
        let mut c = flate2::Compress::new(flate2::Compression::fast(), false);
        let mut out = Vec::with_capacity(100);
        c.compress_vec(b"{\"type\":1}\x1e", &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        let mut frame = vec![0xc1, out.len() as u8];
        frame.extend_from_slice(&out);
        let (msgs, _) = messages(&record(false, true, &frame));
        assert_eq!(&*msgs[0].payload, b"{\"type\":1}\x1e");
    }

    #[test]
    fn damage_keeps_what_came_before() {
        let mut w = record(false, true, b"\x81\x03{}\x1e");
        w.extend_from_slice(b"Response-Length: 500\r\nID: 2\r\n\r\n\x81\x7e");
        let (msgs, err) = messages(&w);
        assert_eq!(msgs.len(), 1);
        assert!(err.unwrap().contains("cut off"));
        let (msgs, err) = messages(b"garbage\r\n\r\n");
        assert!(msgs.is_empty() && err.unwrap().contains("not a record header"));
    }
}
