//! Charts drawn on the server as SVG: a line chart with an interval band, horizontal bars and a
//! Lorenz curve. Each has a `<title>` and a `<desc>` (read by screen readers through
//! `aria-labelledby`), scales with its container (`viewBox`), prints sharply, and is always shown
//! with its data table beside it (the page puts it there). Every text is escaped.

use std::fmt::Write;

use crate::html::{clip, esc};

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn open(id: &str, title: &str, desc: &str, h: f64) -> String {
    let id = esc(id);
    format!(
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    )
}

/// One line of a line chart: a value per label (`None`: no data there) and, optionally, the
/// interval around each value.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub band: Vec<Option<(f64, f64)>>,
}

fn extent(lines: &[Line]) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for l in lines {
        for v in l.values.iter().flatten() {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        for (a, b) in l.band.iter().flatten() {
            lo = lo.min(*a);
            hi = hi.max(*b);
        }
    }
    if !lo.is_finite() {
        return None;
    }
    if (hi - lo).abs() < 1e-9 {
        return Some((lo - 1.0, hi + 1.0));
    }
    let pad = (hi - lo) * 0.08;
    Some((lo - pad, hi + pad))
}

/// A line chart over `labels` (periods), one polyline per line, its interval as a band.
pub fn line_chart(id: &str, title: &str, desc: &str, labels: &[String], lines: &[Line]) -> String {
    let mut s = open(id, title, desc, H);
    let Some((lo, hi)) = extent(lines) else {
        s.push_str(r#"<text x="20" y="40">no data</text></svg>"#);
        return s;
    };
    let n = labels.len().max(2) as f64;
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1.0);
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (hi - v) / (hi - lo);
    // Axes and three gridlines with their values.
    for k in 0..3 {
        let v = lo + (hi - lo) * k as f64 / 2.0;
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ccc"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11">{v:.1}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            y(v) + 4.0,
            y = y(v),
        );
    }
    if lo < 0.0 && hi > 0.0 {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#555" stroke-dasharray="3 3"/>"##,
            W - RIGHT,
            y0 = y(0.0)
        );
    }
    let step = (labels.len() / 6).max(1);
    for (i, l) in labels.iter().enumerate().step_by(step) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            x(i),
            H - 8.0,
            esc(&clip(l, 12))
        );
    }
    let colours = ["#1f5fa8", "#b3541e", "#2e7d32", "#6a3d9a"];
    for (li, line) in lines.iter().enumerate() {
        let colour = colours[li % colours.len()];
        // The band: upper edge left to right, lower edge back, for each run of known values.
        let mut upper = Vec::new();
        let mut lower = Vec::new();
        for (i, b) in line.band.iter().enumerate() {
            if let Some((a, b)) = b {
                upper.push(format!("{:.1},{:.1}", x(i), y(*b)));
                lower.push(format!("{:.1},{:.1}", x(i), y(*a)));
            }
        }
        if upper.len() > 1 {
            lower.reverse();
            let _ = write!(
                s,
                r#"<polygon points="{} {}" fill="{colour}" fill-opacity="0.15" stroke="none"/>"#,
                upper.join(" "),
                lower.join(" ")
            );
        }
        let pts: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            pts.join(" ")
        );
        for (i, v) in line.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#,
                    x(i),
                    y(*v)
                );
            }
        }
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" fill="{colour}">{}</text>"#,
            LEFT + 6.0 + 110.0 * li as f64,
            TOP + 10.0,
            esc(&line.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, one per `(label, value)`, longest first as given; values at or above zero.
pub fn bar_chart(id: &str, title: &str, desc: &str, bars: &[(String, f64)], unit: &str) -> String {
    let row = 22.0;
    let h = TOP + row * bars.len().max(1) as f64 + 8.0;
    let mut s = open(id, title, desc, h);
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let label_w = 200.0;
    let span = W - label_w - 80.0;
    for (i, (label, v)) in bars.iter().enumerate() {
        let yy = TOP + row * i as f64;
        let w = if max > 0.0 {
            span * v.max(0.0) / max
        } else {
            0.0
        };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12">{}</text><rect x="{label_w}" y="{yy:.1}" width="{w:.1}" height="{:.1}" fill="#1f5fa8"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"##,
            label_w - 6.0,
            yy + 14.0,
            esc(&clip(label, 30)),
            row - 6.0,
            label_w + w + 4.0,
            yy + 14.0,
            esc(&format!("{}{unit}", trim_num(*v)))
        );
    }
    if bars.is_empty() {
        s.push_str(r#"<text x="20" y="30">no data</text>"#);
    }
    s.push_str("</svg>");
    s
}

fn trim_num(v: f64) -> String {
    if v.fract().abs() < 1e-9 && v.abs() < 1e15 {
        hearken_query::thousands(v as u64)
    } else {
        format!("{v:.1}")
    }
}

/// A Lorenz curve: share of entities (x, from the smallest) against share of contacts (y), with
/// the line of equality.
pub fn lorenz(id: &str, title: &str, desc: &str, points: &[[f64; 2]]) -> String {
    let side = 220.0;
    let mut s = format!(
        r#"<svg class="chart lorenz" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc),
        w = side + 50.0,
        h = side + 40.0,
        id = esc(id),
    );
    let x = |v: f64| 40.0 + side * v;
    let y = |v: f64| 10.0 + side * (1.0 - v);
    let _ = write!(
        s,
        r##"<rect x="40" y="10" width="{side}" height="{side}" fill="none" stroke="#999"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    );
    let pts: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p[0]), y(p[1])))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#b3541e" stroke-width="2"/><text x="40" y="{:.1}" font-size="11">share of entities →</text><text x="12" y="{:.1}" font-size="11" transform="rotate(-90 12 {:.1})">share of contacts →</text>"##,
        pts.join(" "),
        side + 30.0,
        y(0.0),
        y(0.0)
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_their_text_and_carry_title_and_desc() {
        let bad = "<script>alert(1)</script>";
        let s = bar_chart("b", bad, bad, &[(bad.to_string(), 3.0)], "");
        assert!(!s.contains("<script>"), "{s}");
        assert!(s.contains("<title id=\"b-t\">&lt;script&gt;"));
        assert!(s.contains("<desc id=\"b-d\">"));
        let l = Line {
            name: bad.into(),
            values: vec![Some(1.0), None, Some(3.0)],
            band: vec![Some((0.0, 2.0)), None, Some((2.0, 4.0))],
        };
        let s = line_chart("l", "t", "d", &["a".into(), bad.into(), "c".into()], &[l]);
        assert!(!s.contains("<script>"), "{s}");
        let s = lorenz("z", bad, "d", &[[0.0, 0.0], [0.5, 0.2], [1.0, 1.0]]);
        assert!(!s.contains("<script>") && s.contains("polyline"));
        let empty = line_chart("e", "t", "d", &[], &[]);
        assert!(empty.contains("no data"));
    }
}
