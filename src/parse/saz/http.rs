//! Raw HTTP messages as Fiddler stores them (`N_c.txt`, `N_s.txt`): a start
//! line, headers, a blank line and the body bytes as they crossed the wire —
//! chunked framing kept, `Content-Encoding` not undone. Bodies are decoded
//! only when asked, with a bound on what decompression may produce.

use super::metadata::Metadata;
use crate::parse::capture::{Captured, LazyBody, WsMessage};
use std::borrow::Cow;
use std::io::Read;

/// The most a body may decode to; only negotiate replies and error bodies
/// are ever decoded, and those are small.
const BODY_LIMIT: u64 = 16 << 20;

/// A raw request or response.
#[derive(Debug)]
pub(super) struct Message {
    /// The three parts of the start line (`GET url HTTP/1.1`,
    /// `HTTP/1.1 200 OK`); the third keeps its spaces.
    pub start: [String; 3],
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The member's bytes, kept whole: the body is a slice of them (bodies
    /// are large and seldom decoded, so they are not copied).
    raw: Vec<u8>,
    /// Where the body starts in `raw`.
    body_at: usize,
}

impl Message {
    /// `None` when the bytes do not start with an HTTP start line.
    pub(super) fn parse(raw: Vec<u8>) -> Option<Message> {
        let body_at = head_end(&raw);
        let head = String::from_utf8_lossy(&raw[..body_at]);
        let mut lines = head.lines();
        let first = lines.find(|l| !l.trim().is_empty())?;
        let mut parts = first.trim().splitn(3, ' ');
        let start = [
            parts.next()?.to_string(),
            parts.next()?.to_string(),
            parts.next().unwrap_or("").to_string(),
        ];
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(Message {
            start,
            headers,
            raw,
            body_at,
        })
    }

    /// The body bytes as stored.
    pub(super) fn body(&self) -> &[u8] {
        &self.raw[self.body_at..]
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Where the body starts: after the blank line that ends the head (CRLF
/// or bare LF), or at the end when there is none. A bare-LF blank line can
/// only come before the CRLF one, so the body is never searched.
fn head_end(bytes: &[u8]) -> usize {
    let crlf = memchr::memmem::find(bytes, b"\r\n\r\n").map(|i| i + 4);
    let before = &bytes[..crlf.unwrap_or(bytes.len())];
    match memchr::memmem::find(before, b"\n\n") {
        Some(i) => i + 2,
        None => crlf.unwrap_or(bytes.len()),
    }
}

/// A session as a captured exchange.
pub(super) fn captured(
    number: u64,
    request: Message,
    response: Option<Message>,
    meta: Metadata,
    websocket: Vec<WsMessage<'static>>,
) -> Captured<'static> {
    let [method, url, _] = request.start;
    let (status, status_text, body) = match response {
        Some(r) => {
            let status = r.start[1].parse::<f64>().ok();
            let text = r.start[2].clone();
            let body = (!r.body().is_empty()).then(|| {
                let chunked = r
                    .header("transfer-encoding")
                    .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
                let encoding = r.header("content-encoding").unwrap_or("").to_string();
                let (raw, at) = (r.raw, r.body_at);
                Box::new(move || decode_body(&raw[at..], chunked, &encoding)) as LazyBody<'static>
            });
            (status, Some(Cow::Owned(text)), body)
        }
        None => (None, None, None),
    };
    Captured {
        number,
        time: meta.start,
        duration_ms: meta.duration_ms,
        wait_ms: meta.wait_ms,
        method: Cow::Owned(method),
        url: Cow::Owned(url),
        request_headers: request
            .headers
            .into_iter()
            .map(|(n, v)| (Cow::Owned(n), Cow::Owned(v)))
            .collect(),
        resource_type: None,
        status,
        status_text,
        error: meta.aborted.map(Cow::Owned),
        body,
        websocket,
    }
}

/// A stored body as text: de-chunked, then decompressed (`gzip`,
/// `deflate`, `br`, in the reverse of the order they were applied).
pub(super) fn decode_body(bytes: &[u8], chunked: bool, encoding: &str) -> Option<String> {
    let mut data = if chunked {
        dechunk(bytes)
    } else {
        bytes.to_vec()
    };
    for coding in encoding
        .split(',')
        .rev()
        .map(|c| c.trim().to_ascii_lowercase())
    {
        data = match coding.as_str() {
            "" | "identity" => data,
            "gzip" | "x-gzip" => inflate(flate2::read::MultiGzDecoder::new(&data[..]))?,
            "deflate" => inflate(flate2::read::ZlibDecoder::new(&data[..]))
                .or_else(|| inflate(flate2::read::DeflateDecoder::new(&data[..])))?,
            "br" => inflate(brotli_decompressor::Decompressor::new(&data[..], 4096))?,
            _ => return None,
        };
    }
    Some(String::from_utf8_lossy(&data).into_owned())
}

/// Decompresses up to [`BODY_LIMIT`]; `None` when the data is not what the
/// header said.
fn inflate(reader: impl Read) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    reader.take(BODY_LIMIT).read_to_end(&mut out).ok()?;
    Some(out)
}

/// Undoes chunked transfer coding; a cut-off body yields what arrived.
fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = memchr::memchr(b'\n', bytes) {
        let size_text = String::from_utf8_lossy(&bytes[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        bytes = &bytes[eol + 1..];
        if size == 0 {
            break;
        }
        let take = size.min(bytes.len());
        out.extend_from_slice(&bytes[..take]);
        bytes = &bytes[take..];
        bytes = bytes
            .strip_prefix(b"\r\n")
            .or_else(|| bytes.strip_prefix(b"\n"))
            .unwrap_or(bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn start_line_headers_and_body() {
        let m = Message::parse(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX: a:b\r\n\r\nbody\r\n\r\nmore"
                .to_vec(),
        )
        .unwrap();
        assert_eq!(m.start, ["HTTP/1.1", "404", "Not Found"].map(String::from));
        assert_eq!(m.header("content-type"), Some("text/plain"));
        assert_eq!(m.header("x"), Some("a:b"));
        assert_eq!(m.body(), b"body\r\n\r\nmore");
        let lf = Message::parse(b"CONNECT host:443 HTTP/1.1\nHost: host:443\n\n".to_vec()).unwrap();
        assert_eq!(lf.start[1], "host:443");
        assert!(lf.body().is_empty());
        assert!(Message::parse(Vec::new()).is_none());
    }

    #[test]
    fn chunked_and_compressed_bodies() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"),
            b"hello world"
        );
        assert_eq!(
            dechunk(b"a\r\nhel"),
            b"hel",
            "a cut-off chunk keeps what arrived"
        );
        let text = "{\"error\":\"not connected\"}";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", gz.len()).into_bytes();
        chunked.extend_from_slice(&gz);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(decode_body(&chunked, true, "gzip").as_deref(), Some(text));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(text.as_bytes()).unwrap();
        assert_eq!(
            decode_body(&z.finish().unwrap(), false, "deflate").as_deref(),
            Some(text)
        );
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(text.as_bytes()).unwrap();
        assert_eq!(
            decode_body(&raw.finish().unwrap(), false, "deflate").as_deref(),
            Some(text)
        );
        // "hello" compressed with brotli (quality 11, window 22).
        let br = [0x0b, 0x02, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x03];
        assert_eq!(decode_body(&br, false, "br").as_deref(), Some("hello"));
        assert_eq!(decode_body(b"not gzip", false, "gzip"), None);
        assert_eq!(decode_body(b"x", false, "zstd"), None, "unknown coding");
    }
}
