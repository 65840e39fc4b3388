//! Opening a file: gzip detection, BOM, line endings (old Mac files end lines with a bare CR), byte
//! counting for progress, a guard on line length, and the fingerprint that tells a re-import of
//! the same file from a new one.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::IngestError;

/// Longest physical line accepted. Far beyond any real row (texts are capped at 1 MiB), low
/// enough that binary garbage without newlines cannot exhaust memory.
pub const MAX_LINE: usize = 256 << 20;

const BUF: usize = 256 << 10;

/// Counts the bytes read from the file on disk (compressed bytes for gzip), for progress bars.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Fails the read when a physical line grows past [`MAX_LINE`], so memory stays bounded.
struct LineGuard<R> {
    inner: R,
    since_newline: usize,
    limit: usize,
    failed: bool,
}

#[derive(Debug)]
pub(crate) struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("line too long")
    }
}
impl std::error::Error for LineTooLong {}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong));
        }
        let n = self.inner.read(buf)?;
        // Every line in the chunk counts, not only the one it ends in. The complete lines before
        // an over-long one are handed on first, so the rows before it are still read; the next
        // read fails.
        let mut start = 0;
        for (i, segment) in buf[..n].split(|&b| b == b'\n').enumerate() {
            let len = if i == 0 {
                self.since_newline + segment.len()
            } else {
                segment.len()
            };
            if len > self.limit {
                if start == 0 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong));
                }
                self.failed = true;
                return Ok(start);
            }
            self.since_newline = len;
            start += segment.len() + 1;
        }
        Ok(n)
    }
}

/// Line endings of old Mac files: a bare CR ends every line and no LF appears. Such a file is read
/// with each CR turned into an LF, so rows, line numbers and the line guard work as for any
/// other file. Every other file is passed through untouched: there an LF ends a line (CRLF is
/// an LF with a CR before it) and a bare CR is part of the field it stands in, never a row end.
struct CrLines<R> {
    inner: R,
    tail: Tail,
    mode: CrMode,
    /// Bytes read ahead to decide the mode, not yet handed on.
    ahead: Vec<u8>,
    at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrMode {
    Undecided,
    Pass,
    Translate,
}

/// How much of the file is looked at to decide its line endings.
const SNIFF: usize = 64 << 10;

/// What the end of the data looks like, for telling a row cut off by the end of the file (no
/// line break after it, or inside a quote never closed) from one ended by a line break.
#[derive(Debug, Clone, Default)]
pub struct Tail(Arc<TailState>);

#[derive(Debug, Default)]
struct TailState {
    /// Bytes handed on, and bytes of them the parser never sees (a BOM).
    total: AtomicU64,
    skipped: AtomicU64,
    /// The source returned no more bytes.
    eof: std::sync::atomic::AtomicBool,
    /// The last byte handed on, and the last one that is not a line break (0: none).
    last: std::sync::atomic::AtomicU8,
    last_content: std::sync::atomic::AtomicU8,
}

impl Tail {
    /// Whether the parser, having consumed `consumed` bytes, has reached the end of the data.
    pub fn at_end(&self, consumed: u64) -> bool {
        self.0.eof.load(Ordering::Relaxed)
            && consumed + self.0.skipped.load(Ordering::Relaxed)
                >= self.0.total.load(Ordering::Relaxed)
    }

    /// The data's last byte.
    pub fn last(&self) -> Option<u8> {
        match self.0.last.load(Ordering::Relaxed) {
            0 => None,
            b => Some(b),
        }
    }

    /// The data's last byte that is not a line break.
    pub fn last_content(&self) -> Option<u8> {
        match self.0.last_content.load(Ordering::Relaxed) {
            0 => None,
            b => Some(b),
        }
    }

    fn skip(&self, n: u64) {
        self.0.skipped.fetch_add(n, Ordering::Relaxed);
    }

    fn see(&self, buf: &[u8]) {
        let Some(&last) = buf.last() else {
            self.0.eof.store(true, Ordering::Relaxed);
            return;
        };
        self.0.total.fetch_add(buf.len() as u64, Ordering::Relaxed);
        self.0.last.store(last, Ordering::Relaxed);
        if let Some(&b) = buf.iter().rev().find(|&&b| b != b'\n' && b != b'\r') {
            self.0.last_content.store(b, Ordering::Relaxed);
        }
    }
}

impl<R: Read> CrLines<R> {
    fn new(inner: R, tail: Tail) -> CrLines<R> {
        CrLines {
            inner,
            tail,
            mode: CrMode::Undecided,
            ahead: Vec::new(),
            at: 0,
        }
    }

    fn decide(&mut self) -> io::Result<()> {
        // Grown as read, so a small input does not pay for a large buffer.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8 << 10];
        while buf.len() < SNIFF {
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if chunk[..n].contains(&b'\n') {
                break;
            }
        }
        self.mode = if !buf.contains(&b'\n') && buf.contains(&b'\r') {
            CrMode::Translate
        } else {
            CrMode::Pass
        };
        if self.mode == CrMode::Translate {
            translate(&mut buf);
        }
        self.ahead = buf;
        Ok(())
    }
}

fn translate(buf: &mut [u8]) {
    for b in buf.iter_mut().filter(|b| **b == b'\r') {
        *b = b'\n';
    }
}

impl<R: Read> Read for CrLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.mode == CrMode::Undecided {
            self.decide()?;
        }
        if self.at < self.ahead.len() {
            let n = buf.len().min(self.ahead.len() - self.at);
            buf[..n].copy_from_slice(&self.ahead[self.at..self.at + n]);
            self.tail.see(&buf[..n]);
            self.at += n;
            if self.at == self.ahead.len() {
                self.ahead = Vec::new();
                self.at = 0;
            }
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        if self.mode == CrMode::Translate {
            translate(&mut buf[..n]);
        }
        self.tail.see(&buf[..n]);
        Ok(n)
    }
}

pub(crate) fn is_line_too_long(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LineTooLong>())
}

/// Data formats Hearken reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

/// Where an input's bytes come from: a file, or bytes already in memory (a request body, a
/// fuzzer's input). Both are read by exactly the same code.
pub enum Source<'a> {
    File(&'a Path),
    /// The bytes, and the name that stands for them in messages and tells their format by its
    /// extension (`request.json`).
    Bytes {
        name: &'a Path,
        bytes: Vec<u8>,
    },
}

impl Source<'_> {
    pub fn name(&self) -> &Path {
        match self {
            Source::File(p) => p,
            Source::Bytes { name, .. } => name,
        }
    }
}

/// An opened input: decompressed, decoded to UTF-8, BOM stripped, ready to parse.
pub struct Opened {
    pub reader: Box<dyn BufRead + Send>,
    pub format: Format,
    /// Size on disk (or in memory), for progress.
    pub size: u64,
    pub progress: Progress,
    pub tail: Tail,
    /// How the bytes were decoded, when not as UTF-8 (for the import's notes).
    pub decoded: Option<&'static encoding_rs::Encoding>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Buffer sizes for an input of `size` bytes: small inputs (one request's rows, a fuzzer's
/// input) do not pay for buffers sized for large files.
fn buffer_for(size: u64) -> usize {
    usize::try_from(size).map_or(BUF, |n| n.saturating_add(64).clamp(256, BUF))
}

/// Opens an input, sniffing gzip by its magic bytes and the format by extension, then content.
/// With `encoding`, the bytes are decoded from it to UTF-8 (a byte order mark still wins);
/// without, UTF-16 with a byte order mark is decoded, and an input that is not UTF-8 near its
/// start is refused with the encoding it probably is. A spreadsheet workbook or another archive
/// is refused before anything is read as rows.
pub fn open_source(
    source: Source<'_>,
    limit: usize,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> Result<Opened, IngestError> {
    let path = source.name().to_path_buf();
    let path = path.as_path();
    let progress = Progress::default();
    let (inner, size): (Box<dyn Read + Send>, u64) = match source {
        Source::File(p) => {
            let file = File::open(p).map_err(io_err(path))?;
            let size = file.metadata().map_err(io_err(path))?.len();
            (Box::new(file), size)
        }
        Source::Bytes { bytes, .. } => {
            let size = bytes.len() as u64;
            (Box::new(io::Cursor::new(bytes)), size)
        }
    };
    let cap = buffer_for(size);
    let mut raw = BufReader::with_capacity(
        cap,
        Counting {
            inner,
            progress: progress.clone(),
        },
    );
    let head = raw.fill_buf().map_err(io_err(path))?;
    if let Some(what) = container(head) {
        return Err(IngestError::NotText {
            path: path.to_path_buf(),
            what: what.to_string(),
        });
    }
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let tail = Tail::default();
    let decompressed: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    // Decoding comes before everything that looks at lines: they see UTF-8.
    let mut decompressed = BufReader::with_capacity(if gzip { BUF } else { cap }, decompressed);
    let head = decompressed.fill_buf().map_err(|e| {
        if gzip {
            IngestError::Format {
                path: path.to_path_buf(),
                message: format!("not a readable gzip file: {e}"),
            }
        } else {
            IngestError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })?;
    if gzip && let Some(what) = container(head) {
        return Err(IngestError::NotText {
            path: path.to_path_buf(),
            what: format!("{what} (compressed with gzip)"),
        });
    }
    let bom = encoding_rs::Encoding::for_bom(head).map(|(e, _)| e);
    let decoding = match (encoding, bom) {
        // A byte order mark says what the bytes are, whatever was configured.
        (_, Some(e)) if e != encoding_rs::UTF_8 => Some(e),
        (_, Some(_)) => None,
        (Some(e), None) if e != encoding_rs::UTF_8 => Some(e),
        _ => None,
    };
    if decoding.is_none()
        && let Some(bad) = not_utf8(head)
    {
        return Err(IngestError::NotUtf8 {
            path: path.to_path_buf(),
            line: bad.line,
            byte: bad.byte,
            guess: bad.guess,
        });
    }
    let decoded: Box<dyn Read + Send> = match decoding {
        Some(e) => Box::new(Decode::new(decompressed, e)),
        None => Box::new(decompressed),
    };
    let mut reader = BufReader::with_capacity(
        if gzip || decoding.is_some() { BUF } else { cap },
        LineGuard {
            inner: CrLines::new(decoded, tail.clone()),
            since_newline: 0,
            limit,
            failed: false,
        },
    );
    let head = reader.fill_buf().map_err(|e| {
        if is_line_too_long(&e) {
            IngestError::LineTooLong {
                path: path.to_path_buf(),
                line: 1,
                limit,
            }
        } else {
            IngestError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })?;
    if head.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let first = head
        .iter()
        .skip(if bom { 3 } else { 0 })
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    if bom {
        reader.consume(3);
        tail.skip(3);
    }
    let format = format_of(path, first);
    Ok(Opened {
        reader: Box::new(reader),
        format,
        size,
        progress,
        tail,
        decoded: decoding,
    })
}

/// What a file is when it is a known binary container rather than text: an Excel workbook
/// (.xlsx is a zip holding `xl/`, .xls an OLE2 compound file), another zip archive, a PDF.
fn container(head: &[u8]) -> Option<&'static str> {
    const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if head.starts_with(b"PK\x03\x04") {
        return Some(if has(b"xl/") {
            "an Excel workbook (.xlsx)"
        } else if has(b"content.xml") || has(b"opendocument") {
            "an OpenDocument spreadsheet (.ods)"
        } else {
            "a zip archive"
        });
    }
    if head.starts_with(OLE2) {
        return Some("an Excel 97-2003 workbook (.xls) or another Office file");
    }
    if head.starts_with(b"%PDF-") {
        return Some("a PDF document");
    }
    None
}

/// Where an input stops being UTF-8, and what it probably is instead.
struct NotUtf8 {
    line: u64,
    byte: u8,
    guess: &'static str,
}

/// The first byte of `head` that cannot be UTF-8 (an incomplete sequence cut off at the end of
/// the buffer is not one), with a guess at the encoding.
fn not_utf8(head: &[u8]) -> Option<NotUtf8> {
    let e = std::str::from_utf8(head).err()?;
    e.error_len()?;
    let at = e.valid_up_to();
    let line = 1 + head[..at].iter().filter(|&&b| b == b'\n').count() as u64;
    // Every other byte zero: UTF-16 without a byte order mark.
    let zeros = head.iter().take(512).filter(|&&b| b == 0).count();
    let guess = if zeros * 4 > head.len().min(512) {
        if head.first() == Some(&0) {
            "utf-16be"
        } else {
            "utf-16le"
        }
    } else {
        "windows-1252"
    };
    Some(NotUtf8 {
        line,
        byte: head[at],
        guess,
    })
}

/// Decodes bytes of another encoding to UTF-8 as they are read (malformed sequences become
/// U+FFFD, which a Windows-1252 decoder never needs: every byte is a character there).
struct Decode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Decode<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Decode<R> {
        Decode {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 64 << 10],
            output: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Decode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.output.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let want = self.decoder.max_utf8_buffer_length(n).unwrap_or(4 * n + 16);
            self.output.clear();
            self.output.resize(want, 0);
            self.at = 0;
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n, "the output was sized for the whole input");
            self.output.truncate(written);
            self.done = last;
        }
        let n = buf.len().min(self.output.len() - self.at);
        buf[..n].copy_from_slice(&self.output[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The encoding named by a label (`windows-1252`, `latin1`, `utf-16le`, `shift_jis`, ... as
/// the WHATWG Encoding Standard names them).
pub fn encoding_for(label: &str) -> Option<&'static encoding_rs::Encoding> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes())
}

fn format_of(path: &Path, first_byte: Option<u8>) -> Format {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
        return Format::JsonLines;
    }
    if name.ends_with(".csv")
        || name.ends_with(".tsv")
        || name.ends_with(".txt")
        || name.ends_with(".psv")
    {
        return Format::Csv;
    }
    if first_byte == Some(b'{') {
        Format::JsonLines
    } else {
        Format::Csv
    }
}

/// The fingerprint of bytes in memory, as [`fingerprint`] gives for a file holding them.
pub fn fingerprint_bytes(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// A 128-bit hash of the file's bytes as stored on disk: the same file imported again (or resumed
/// after a crash) has the same fingerprint.
pub fn fingerprint(path: &Path) -> Result<String, IngestError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:032x}", hasher.digest128()))
}
