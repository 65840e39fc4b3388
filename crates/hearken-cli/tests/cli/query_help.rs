//! The command line as a person meets it: every flag has help, `--by` offers exactly what each
//! command accepts, the README's command table lists every subcommand, and what a person reads
//! (names, amounts, errors) is said once and in their words.

use std::io::Write;

use crate::helpers::*;

fn help(env: &Env, path: &[&str]) -> String {
    let mut args = path.to_vec();
    args.push("--help");
    let out = env.run(&args);
    assert!(out.status.success(), "{path:?} --help");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// The subcommands a `--help` lists (its `Commands:` section), without `help`.
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Every command path: `["scores"]`, `["topics", "train"]`, ...
fn command_paths(env: &Env) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for c in subcommands(&help(env, &[])) {
        let nested = subcommands(&help(env, &[c.as_str()]));
        if nested.is_empty() {
            out.push(vec![c]);
        } else {
            out.extend(nested.into_iter().map(|n| vec![c.clone(), n]));
        }
    }
    out
}

/// `(flag line, has help)` for each option and argument of a `--help`.
fn options(text: &str) -> Vec<(String, bool)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let indent = l.len() - t.len();
        // `  -v, --verbose`, `      --json` (no short form) and `  [FILE]` arguments.
        let is_option = (indent == 2 || indent == 6) && t.starts_with('-')
            || indent == 2 && (t.starts_with('[') || t.starts_with('<'));
        if !is_option {
            continue;
        }
        // The help is on the same line after two spaces, or on the next, deeper-indented line;
        // `[default: ..]` or `[possible values: ..]` alone is not help.
        let words = |text: &str| !without_brackets(text).trim().is_empty();
        let same_line = t.split("  ").skip(1).any(words);
        let next_line = lines.get(i + 1).is_some_and(|n| {
            let nt = n.trim_start();
            n.len() - nt.len() > indent && !nt.starts_with('-') && words(nt)
        });
        out.push((t.to_string(), same_line || next_line));
    }
    out
}

/// `text` without its `[...]` parts.
fn without_brackets(text: &str) -> String {
    let mut depth = 0usize;
    text.chars()
        .filter(|&c| {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect()
}

#[test]
fn help_without_words_is_found() {
    let text = "Options:\n      --level <LEVEL>  [default: 0.9]\n      --json\n      --by <BY>  Split by this\n";
    let found = options(text);
    assert_eq!(
        found.iter().map(|(_, h)| *h).collect::<Vec<_>>(),
        [false, false, true],
        "{found:?}"
    );
}

#[test]
fn every_flag_of_every_command_has_help() {
    let env = Env::new();
    let paths = command_paths(&env);
    assert!(paths.len() > 15, "{paths:?}");
    let mut missing = Vec::new();
    let mut seen = 0;
    for p in &paths {
        let refs: Vec<&str> = p.iter().map(String::as_str).collect();
        for (flag, has_help) in options(&help(&env, &refs)) {
            seen += 1;
            if !has_help {
                missing.push(format!("{}: {flag}", p.join(" ")));
            }
        }
    }
    assert!(seen > 150, "{seen} flags read: is the help parsed?");
    assert!(
        missing.is_empty(),
        "flags without help:\n{}",
        missing.join("\n")
    );
}

/// The values `--help` offers for `flag`.
fn possible_values(text: &str, flag: &str) -> Vec<String> {
    let start = text
        .find(&format!("{flag} <"))
        .unwrap_or_else(|| panic!("{flag} in {text}"));
    let rest = &text[start..];
    let open = rest.find("[possible values: ").expect("possible values") + 18;
    let close = rest[open..].find(']').expect("closing bracket") + open;
    rest[open..close]
        .split(',')
        .map(|v| v.split_whitespace().collect::<String>())
        .collect()
}

#[test]
fn by_offers_exactly_the_groupings_each_command_accepts() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "300", "--months", "3", "--json"]);
    assert!(out.status.success());
    let scores = possible_values(&help(&env, &["scores"]), "--by");
    assert_eq!(scores.len(), 16, "{scores:?}");
    for by in &scores {
        // Every value works with the sentiment of signals ...
        let out = env.run(&["scores", "--metric", "sentiment", "--by", by, "--json"]);
        assert!(
            out.status.success(),
            "scores --metric sentiment --by {by}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // ... and with survey scores all but the signals-only ones, which say why.
        let out = env.run(&["scores", "--by", by, "--json"]);
        if ["topic", "stage", "kind"].contains(&by.as_str()) {
            let err = assert_clean_failure(&out);
            assert!(
                err.contains("--metric sentiment") || err.contains("sentiment metric"),
                "{err}"
            );
        } else {
            assert!(out.status.success(), "scores --by {by}");
        }
    }
    let pareto = possible_values(&help(&env, &["pareto"]), "--by");
    for by in &pareto {
        let out = env.run(&["pareto", "--by", by, "--json"]);
        assert!(
            out.status.success(),
            "pareto --by {by}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for by in scores.iter().filter(|b| !pareto.contains(b)) {
        let err = assert_clean_failure(&env.run(&["pareto", "--by", by]));
        assert!(err.contains("possible values"), "{err}");
    }
}

#[test]
fn the_readme_command_table_lists_every_subcommand() {
    let env = Env::new();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Commands"))
        .take_while(|l| !l.starts_with("## ") || l.starts_with("## Commands"))
        .filter(|l| l.starts_with("| `hearken "))
        .collect();
    for c in subcommands(&help(&env, &[])) {
        assert!(
            table
                .iter()
                .any(|row| row.starts_with(&format!("| `hearken {c}"))),
            "README's command table has no row for `hearken {c}`"
        );
    }
}

#[test]
fn sentiment_reads_gzip_and_refuses_unreadable_input() {
    let env = Env::new();
    let text = "The service was terrible\nGreat help, thank you\n";
    let plain = env.write("texts.txt", text);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = env.write("texts.txt.gz", gz.finish().unwrap());
    let run = |p: &std::path::Path| {
        let out = env.run(&["sentiment", p.to_str().unwrap(), "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(&plain), run(&gz));
    assert_eq!(run(&gz).lines().count(), 2);

    let binary = env.write("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0");
    let err = assert_clean_failure(&env.run(&["sentiment", binary.to_str().unwrap()]));
    assert!(err.contains("binary"), "{err}");
    let latin1 = env.write("latin1.txt", b"caf\xe9 cr\xe8me\nna\xefve\n");
    let err = assert_clean_failure(&env.run(&["sentiment", latin1.to_str().unwrap()]));
    assert!(err.contains("UTF-8"), "{err}");
    let broken = env.write(
        "cut.txt.gz",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x0b\xc9",
    );
    let err = assert_clean_failure(&env.run(&["sentiment", broken.to_str().unwrap()]));
    assert!(err.contains("cut.txt.gz"), "{err}");
    let err = assert_clean_failure(&env.run(&["sentiment", "no-such-file.txt"]));
    assert!(err.contains("no-such-file.txt"), "{err}");
}

#[test]
fn tables_name_entities_and_format_money_and_counts() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "600", "--months", "4", "--json"]);
    assert!(out.status.success());
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let (agent, name): (String, String) = conn
        .query_row(
            "SELECT a.ext_id, a.name FROM signals s JOIN agents a ON a.id = s.agent_id
             GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let out = env.run(&["pareto", "--by", "agent", "--top", "1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.starts_with(&agent)).unwrap();
    assert!(line.contains(&name), "{line}");

    let out = env
        .cmd()
        .env("HEARKEN_CURRENCY", "€")
        .args(["repeats", "--cost-per-contact", "1250"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    let cost = first.split("avoidable cost ").nth(1).expect("a cost");
    assert!(cost.starts_with('€') && cost.contains(','), "{first}");
    // Counts above 999 get thousands separators in every table.
    let out = env.run(&["pareto", "--by", "channel"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().contains(','), "{text}");
}

#[test]
fn errors_are_said_once_in_the_users_words() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "200", "--months", "2", "--json"]);
    assert!(out.status.success());
    let err = assert_clean_failure(&env.run(&["scores", "--segment", "nope"]));
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--segment"), "{err}");
    let err = assert_clean_failure(&env.run(&["scores", "--from", "yesterday-ish"]));
    assert!(err.contains("--from 'yesterday-ish'"), "{err}");
    let err = assert_clean_failure(&env.run(&["drivers", "--target", "nps", "--service", "x"]));
    assert!(
        err.contains("unknown aspect 'x'") && err.contains("--service"),
        "{err}"
    );
    // A cause is not repeated after the context that already says it.
    let dir = env.path("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let err = assert_clean_failure(&env.run(&["--db", dir.to_str().unwrap(), "scores"]));
    let parts: Vec<&str> = err.trim_start_matches("error: ").split(": ").collect();
    for w in parts.windows(2) {
        assert!(!w[0].contains(w[1]), "said twice: {err}");
    }
    for internal in ["Month", "Nps", "ReadOptions", "Some(", "None"] {
        assert!(!err.contains(internal), "{err}");
    }
}
