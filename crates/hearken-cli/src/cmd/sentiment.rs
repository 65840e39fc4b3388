use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use hearken_text::{Scored, Vader};

use super::Ctx;

#[derive(Debug, Args)]
pub struct SentimentArgs {
    /// A file with one text per line (plain or gzip); `-` or nothing reads standard input
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// One JSON object per line: {"neg":..,"neu":..,"pos":..,"compound":..} (vaderSentiment's rounding)
    #[arg(long)]
    pub json: bool,
    /// Do not score text that is not English: print {"not_scored":"language","language":".."} instead
    #[arg(long)]
    pub detect_language: bool,
}

/// Bytes looked at to tell text from a binary file.
const SNIFF: usize = 8192;

/// The input, decompressed when it is gzip (by its magic bytes, whatever its name), refused
/// when it looks binary (a NUL byte near the start).
fn open(file: Option<&Path>) -> Result<(Box<dyn BufRead>, String)> {
    let (raw, name): (Box<dyn Read>, String) = match file {
        Some(p) if p.as_os_str() != "-" => (
            Box::new(
                std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
            ),
            p.display().to_string(),
        ),
        _ => (Box::new(std::io::stdin().lock()), "standard input".into()),
    };
    let mut raw = BufReader::with_capacity(1 << 16, raw);
    let head = raw
        .fill_buf()
        .with_context(|| format!("cannot read {name}"))?;
    let mut input: Box<dyn BufRead> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    let head = input
        .fill_buf()
        .with_context(|| format!("cannot read {name}"))?;
    if head[..head.len().min(SNIFF)].contains(&0) {
        bail!("{name} looks like a binary file, not text: give one text per line (plain or gzip)");
    }
    Ok((input, name))
}

pub fn run(_ctx: &Ctx, args: SentimentArgs) -> Result<ExitCode> {
    let (input, name) = open(args.file.as_deref())?;
    let vader = Vader::shared();
    let mut out = BufWriter::new(std::io::stdout().lock());
    if !args.json {
        writeln!(out, "compound    neg    neu    pos  text")?;
    }
    let mut buf = Vec::new();
    let mut input = input;
    let mut line_no = 0u64;
    let mut invalid = 0u64;
    loop {
        buf.clear();
        let read = input
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {name} after line {line_no}"))?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            // Keep output aligned with input: one line out per line in.
            invalid += 1;
            writeln!(out, "{{\"error\":\"line {line_no} is not valid UTF-8\"}}")?;
            continue;
        };
        let scored = if args.detect_language {
            vader.score(text)
        } else {
            Scored::Sentiment {
                language: hearken_text::Language::English,
                sentiment: vader.polarity_scores(text),
            }
        };
        match (&scored, args.json) {
            (Scored::Sentiment { sentiment, .. }, true) => {
                writeln!(out, "{}", sentiment.to_json())?
            }
            (Scored::NotScored { .. }, true) => writeln!(out, "{}", scored.to_json())?,
            (Scored::Sentiment { sentiment, .. }, false) => {
                let s = sentiment.rounded();
                let shown: String = text.chars().take(70).collect();
                writeln!(
                    out,
                    "{:>8.4} {:>6.3} {:>6.3} {:>6.3}  {shown}",
                    s.compound, s.neg, s.neu, s.pos
                )?;
            }
            (Scored::NotScored { language }, false) => {
                let shown: String = text.chars().take(70).collect();
                writeln!(out, "not scored: language {}  {shown}", language.code())?;
            }
        }
    }
    out.flush()?;
    if line_no > 0 && invalid == line_no {
        bail!(
            "no line of {name} is valid UTF-8 text: convert it to UTF-8 (e.g. `iconv -f windows-1252 -t utf-8`)"
        );
    }
    Ok(ExitCode::SUCCESS)
}
