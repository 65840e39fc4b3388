//! Printing an HTML page to PDF with headless Chromium (`chromium --headless --print-to-pdf`),
//! when it is installed, and counting a PDF's pages.
//!
//! Chromium is looked for as `$HEARKEN_CHROMIUM`, else `chromium`, `chromium-browser`,
//! `google-chrome` on the `PATH`. It runs with a fresh profile directory, no network side
//! traffic (`--disable-background-networking`, no component updates, no sync) and no sandbox
//! (Chromium's sandbox needs user namespaces, often missing in containers); it opens only the
//! file written here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What can go wrong when printing.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "headless Chromium is not installed, so no PDF can be printed: install it (Debian: `apt-get install chromium`) or set HEARKEN_CHROMIUM to its path; the HTML report does not need it"
    )]
    NoChromium,
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("chromium ({program}) failed to print the PDF: {detail}")]
    Failed { program: String, detail: String },
}

/// The Chromium to print with, if one is installed.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HEARKEN_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The flags of a headless Chromium that stays off the network and leaves nothing behind.
pub const HEADLESS_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

static SEQ: AtomicU64 = AtomicU64::new(0);

fn scratch() -> Result<PathBuf, PdfError> {
    let dir = std::env::temp_dir().join(format!(
        "hearken-pdf-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|source| PdfError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// Prints `html` (a whole document) to the PDF file `out`, with the page size and margins its
/// CSS `@page` asks for, and no header or footer.
pub fn print(html: &str, out: &Path) -> Result<(), PdfError> {
    let chromium = find_chromium().ok_or(PdfError::NoChromium)?;
    let dir = scratch()?;
    let result = print_in(&chromium, &dir, html, out);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn print_in(chromium: &Path, dir: &Path, html: &str, out: &Path) -> Result<(), PdfError> {
    let page = dir.join("report.html");
    std::fs::write(&page, html).map_err(|source| PdfError::Io {
        path: page.clone(),
        source,
    })?;
    let out_abs = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(out))
            .unwrap_or_else(|_| out.to_path_buf())
    };
    let _ = std::fs::remove_file(&out_abs);
    let program = chromium.display().to_string();
    let mut child = Command::new(chromium)
        .args(HEADLESS_FLAGS)
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--no-pdf-header-footer")
        .arg("--print-to-pdf-no-header")
        .arg(format!("--print-to-pdf={}", out_abs.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| PdfError::Failed {
            program: program.clone(),
            detail: format!("cannot start it: {e}"),
        })?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > Duration::from_secs(60) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PdfError::Failed {
                    program,
                    detail: "it did not finish within 60 s".into(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                return Err(PdfError::Failed {
                    program,
                    detail: e.to_string(),
                });
            }
        }
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    let written = std::fs::metadata(&out_abs).map(|m| m.len()).unwrap_or(0);
    if !status.success() || written == 0 {
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(PdfError::Failed {
            program,
            detail: format!("exit {status}; {}", last.join(" | ")),
        });
    }
    Ok(())
}

/// The number of pages of a PDF: its page objects (`/Type /Page`, not `/Pages`).
pub fn page_count(pdf: &[u8]) -> usize {
    let mut n = 0;
    let needle = b"/Type";
    let mut i = 0;
    while i + needle.len() <= pdf.len() {
        if &pdf[i..i + needle.len()] == needle {
            let mut j = i + needle.len();
            while j < pdf.len() && (pdf[j] == b' ' || pdf[j] == b'\n' || pdf[j] == b'\r') {
                j += 1;
            }
            if pdf[j..].starts_with(b"/Page")
                && !pdf.get(j + 5).is_some_and(|c| c.is_ascii_alphanumeric())
            {
                n += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    n
}

/// The `/MediaBox` sizes of a PDF's pages, in points (A4 is 595 x 842).
pub fn media_boxes(pdf: &[u8]) -> Vec<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/MediaBox")
        .filter_map(|(i, _)| {
            let rest = &text[i + 9..];
            let open = rest.find('[')?;
            let close = rest.find(']')?;
            let nums: Vec<f64> = rest[open + 1..close]
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (nums.len() == 4).then(|| (nums[2] - nums[0], nums[3] - nums[1]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_without_the_page_tree() {
        let pdf = b"1 0 obj <</Type /Pages /Kids [2 0 R 3 0 R]>> 2 0 obj <</Type /Page /MediaBox [0 0 594.96 841.92]>> 3 0 obj <</Type/Page>>";
        assert_eq!(page_count(pdf), 2);
        assert_eq!(media_boxes(pdf), vec![(594.96, 841.92)]);
        assert_eq!(page_count(b"<</Type /Pages>>"), 0);
    }
}
