//! Where inputs come from: paths, directories, stdin, gzip and zip.
//!
//! [`expand`] turns the command line into a flat list of [`InputSpec`]s —
//! directories walked, zip archives opened into one input per member (but
//! a Fiddler `.saz`, which is a zip, stays one input) — and
//! keeps every path that could not be used as an input carrying its error,
//! so reports list it. [`with_content`] then gives each input's bytes either
//! as a memory map (plain files) or as a stream (stdin, gzip, zip members).

pub mod chunk;
pub mod detect;
pub mod encoding;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zip archive.
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

/// Where one input's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
    /// One member of a zip archive.
    ZipMember {
        /// The archive.
        archive: PathBuf,
        /// The member's index in the archive.
        index: usize,
    },
    /// A path that cannot be read, with the reason.
    Unavailable(String),
}

/// One input as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// The path as given (`-` for stdin, `archive.zip:member` for members).
    pub path: String,
    /// Where the bytes are.
    pub origin: Origin,
    /// True when the user named it; false when found in a directory (a
    /// binary file found while walking is skipped, a named one is an error).
    pub named: bool,
    /// The directory argument it was found under, if any.
    pub found_in: Option<String>,
}

/// The bytes of an input.
pub enum Content<'a> {
    /// The whole input in memory (a mapped file).
    Bytes(&'a [u8]),
    /// A stream read in windows.
    Stream(&'a mut dyn Read),
}

/// Expands command-line paths into inputs, in the order given; directories
/// are walked recursively in name order.
pub fn expand(paths: &[String]) -> Vec<InputSpec> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            out.push(InputSpec {
                path: p.clone(),
                origin: Origin::Stdin,
                named: true,
                found_in: None,
            });
            continue;
        }
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Err(e) => out.push(unavailable(p, format!("cannot read: {}", io_reason(&e)))),
            Ok(m) if m.is_dir() => {
                let before = out.len();
                walk(path, &mut out);
                if out.len() == before {
                    out.push(unavailable(p, "directory contains no files".to_string()));
                }
                for spec in &mut out[before..] {
                    spec.found_in = Some(p.clone());
                }
            }
            Ok(_) => add_file(path, p.clone(), true, &mut out),
        }
    }
    out
}

fn unavailable(path: &str, why: String) -> InputSpec {
    InputSpec {
        path: path.to_string(),
        origin: Origin::Unavailable(why),
        named: true,
        found_in: None,
    }
}

/// An I/O error in words, without Rust's `(os error 2)` noise.
pub fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn walk(dir: &Path, out: &mut Vec<InputSpec>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            let p = dir.display().to_string();
            out.push(unavailable(
                &p,
                format!("cannot list directory: {}", io_reason(&e)),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Symlinked directories are not followed (no loops); linked files are.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, out);
        } else if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            add_file(&path, path.display().to_string(), false, out);
        }
    }
}

/// Adds a file, or one input per member when it is a zip archive of
/// files (a Fiddler `.saz`, or a zip whose directory is damaged, stays one
/// input: the SAZ parser reads it whole, salvaging what it can).
fn add_file(path: &Path, display: String, named: bool, out: &mut Vec<InputSpec>) {
    let mut magic = [0u8; 4];
    let is_zip = File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == ZIP_MAGIC;
    let members = is_zip
        .then(|| {
            File::open(path)
                .ok()
                .and_then(|f| zip::ZipArchive::new(f).ok())
        })
        .flatten()
        .filter(|a| !is_fiddler_archive(a));
    let Some(mut archive) = members else {
        out.push(InputSpec {
            path: display,
            origin: Origin::File(path.to_path_buf()),
            named,
            found_in: None,
        });
        return;
    };
    let before = out.len();
    for index in 0..archive.len() {
        let (name, is_dir) = match archive.by_index_raw(index) {
            Ok(f) => (
                f.name().map(|n| n.to_string()).unwrap_or_default(),
                f.is_dir(),
            ),
            Err(e) => (format!("#{index}: {e}"), false),
        };
        if is_dir {
            continue;
        }
        out.push(InputSpec {
            path: format!("{display}:{name}"),
            origin: Origin::ZipMember {
                archive: path.to_path_buf(),
                index,
            },
            // Archives hold all sorts of files: members are "found", not named.
            named: false,
            found_in: None,
        });
    }
    if out.len() == before {
        out.push(InputSpec {
            path: display,
            origin: Origin::Unavailable("zip archive contains no files".to_string()),
            named,
            found_in: None,
        });
    }
}

/// True when the archive holds Fiddler sessions (`raw/N_c.txt`).
fn is_fiddler_archive<R: Read + io::Seek>(archive: &zip::ZipArchive<R>) -> bool {
    archive
        .file_names()
        .filter_map(Result::ok)
        .any(|n| crate::parse::saz::session_file(&n).is_some_and(|(_, kind)| kind == 'c'))
}

/// A file mapped into memory, unmapped when dropped.
///
/// Unmapping a gigabyte takes tens of milliseconds (the kernel clears an
/// entry per page), so the caller picks the moment: the command line
/// drops it on a worker thread while it writes the report, the one step
/// that leaves the second core idle (measured on 1 GiB of ILogger text,
/// alternating runs: medians 542 → 538 ms and 536 → 531 ms on the trace
/// listener's, against unmapping it as soon as the scan ended).
#[derive(Debug)]
pub struct Mapping {
    _map: memmap2::Mmap,
}

/// Calls `f` with the input's bytes. Gzip data (a `.gz` file, gzip on stdin,
/// a gzipped zip member) is decompressed as a stream. A file's mapping is
/// returned with `f`'s result. `Err` says why the input cannot be read at
/// all.
pub fn with_content<R>(
    origin: &Origin,
    f: impl FnOnce(Content<'_>) -> R,
) -> Result<(R, Option<Mapping>), String> {
    match origin {
        Origin::Unavailable(why) => Err(why.clone()),
        Origin::Stdin => {
            let stdin = io::stdin();
            with_stream(BufReader::with_capacity(1 << 16, stdin.lock()), f).map(|r| (r, None))
        }
        Origin::File(path) => {
            let file = File::open(path).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
            let len = file.metadata().map_err(|e| io_reason(&e))?.len();
            if len == 0 {
                return Ok((f(Content::Bytes(&[])), None));
            }
            // SAFETY: the map is read-only. If another process truncates the
            // file while we read it we may see a SIGBUS, which ripgrep and
            // every mmap-based reader accept; logs are appended, not truncated.
            let map = unsafe { memmap2::Mmap::map(&file) }
                .map_err(|e| format!("cannot map: {}", io_reason(&e)))?;
            let out = if map.starts_with(&GZIP_MAGIC) {
                let mut dec = Gzip(flate2::bufread::MultiGzDecoder::new(&map[..]));
                f(Content::Stream(&mut dec))
            } else {
                f(Content::Bytes(&map))
            };
            Ok((out, Some(Mapping { _map: map })))
        }
        Origin::ZipMember { archive, index } => {
            let file =
                File::open(archive).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
            let mut zip =
                zip::ZipArchive::new(file).map_err(|e| format!("corrupt zip archive: {e}"))?;
            let member = zip.by_index(*index).map_err(|e| match e {
                zip::result::ZipError::UnsupportedArchive(m)
                    if m == zip::result::ZipError::PASSWORD_REQUIRED =>
                {
                    "the zip member is password-protected".to_string()
                }
                e => format!("cannot read zip member: {e}"),
            })?;
            with_stream(BufReader::new(member), f).map(|r| (r, None))
        }
    }
}

/// Streams a reader, decompressing it first when it starts with gzip magic.
fn with_stream<B: BufRead, R>(
    mut reader: B,
    f: impl FnOnce(Content<'_>) -> R,
) -> Result<R, String> {
    let head = reader
        .fill_buf()
        .map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    if head.starts_with(&ZIP_MAGIC) {
        // A zip needs its end (the central directory) first: read it whole.
        // This is how a Fiddler archive arrives on stdin or inside a zip.
        let mut all = Vec::new();
        reader
            .read_to_end(&mut all)
            .map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
        return Ok(f(Content::Bytes(&all)));
    }
    if head.starts_with(&GZIP_MAGIC) {
        let mut dec = Gzip(flate2::bufread::MultiGzDecoder::new(reader));
        return Ok(f(Content::Stream(&mut dec)));
    }
    Ok(f(Content::Stream(&mut reader)))
}

/// A gzip decoder whose errors say that the gzip data is at fault.
struct Gzip<R>(flate2::bufread::MultiGzDecoder<R>);

impl<R: BufRead> Read for Gzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let what = if e.kind() == io::ErrorKind::UnexpectedEof {
                "truncated gzip data".to_string()
            } else {
                format!("corrupt gzip data ({})", io_reason(&e))
            };
            io::Error::new(e.kind(), what)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain file comes back mapped (for the caller to unmap), with `f`
    /// given its bytes; an empty file is not mapped; a missing one is an
    /// error.
    #[test]
    fn a_file_is_mapped_and_its_mapping_returned() {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str, text: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let (len, mapping) = with_content(&Origin::File(path), |c| match c {
                Content::Bytes(b) => b.len(),
                Content::Stream(_) => usize::MAX,
            })
            .unwrap();
            (len, mapping.is_some())
        };
        assert_eq!(read("a.log", b"info: A[1]\n"), (11, true));
        assert_eq!(read("b.log", b""), (0, false));
        let missing = Origin::File(dir.path().join("none.log"));
        assert!(with_content(&missing, |_| ()).is_err());
    }
}
