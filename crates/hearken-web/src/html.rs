//! Small helpers for text on pages: escaping (for the SVG this crate writes by hand; templates
//! escape by themselves), numbers, dates.

use chrono::DateTime;

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `12,345`.
pub fn count(n: u64) -> String {
    hearken_query::thousands(n)
}

/// A signed score with one decimal: `+12.3`, or `n/a`.
pub fn signed(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:+.1}"))
}

/// A value with one decimal, or `n/a`.
pub fn one(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.1}"))
}

/// A fraction as a percentage with one decimal, or `n/a`.
pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A number of hours, readable: `45 min`, `3.2 h`, `4.1 d`.
pub fn hours(v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(h) if h < 1.0 => format!("{:.0} min", h * 60.0),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} d", h / 24.0),
    }
}

/// Unix seconds as a UTC date and time.
pub fn when(at: i64) -> String {
    DateTime::from_timestamp(at, 0).map_or_else(
        || at.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// Unix seconds as a UTC date.
pub fn day(at: i64) -> String {
    DateTime::from_timestamp(at, 0)
        .map_or_else(|| at.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

/// The first `max` characters of `s`, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(hours(Some(0.5)), "30 min");
        assert_eq!(hours(Some(72.0)), "3.0 d");
        assert_eq!(day(86_400), "1970-01-02");
    }
}
