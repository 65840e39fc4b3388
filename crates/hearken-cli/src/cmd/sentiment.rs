use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hearken_text::{Scored, Vader};

use super::Ctx;

#[derive(Debug, Args)]
pub struct SentimentArgs {
    /// A file with one text per line; `-` or nothing reads standard input
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// One JSON object per line: {"neg":..,"neu":..,"pos":..,"compound":..} (vaderSentiment's rounding)
    #[arg(long)]
    pub json: bool,
    /// Do not score text that is not English: print {"not_scored":"language","language":".."} instead
    #[arg(long)]
    pub detect_language: bool,
}

pub fn run(_ctx: &Ctx, args: SentimentArgs) -> Result<ExitCode> {
    let input: Box<dyn BufRead> = match args.file.as_deref() {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
    };
    let vader = Vader::shared();
    let mut out = BufWriter::new(std::io::stdout().lock());
    if !args.json {
        writeln!(out, "compound    neg    neu    pos  text")?;
    }
    let mut buf = Vec::new();
    let mut input = input;
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            // Keep output aligned with input: one line out per line in.
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
    Ok(ExitCode::SUCCESS)
}
