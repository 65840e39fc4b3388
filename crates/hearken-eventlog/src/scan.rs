//! A byte-level XML tag scanner made for XES: it finds the next start, empty or end tag in a
//! buffer and reads the `key` and `value` attributes of a start tag in the same pass.
//!
//! Why not a general XML tokenizer: reading XES is almost all attribute elements
//! (`<string key=".." value=".."/>`), and a general tokenizer finds a tag's end, validates and
//! decodes its text and then hands the attributes to a second scan. Here each tag is walked once,
//! nothing is copied or validated that XES reading does not use, and values are borrowed from
//! the buffer (unescaped by the caller only when they hold `&`). Text between tags, comments,
//! processing instructions, CDATA sections and the DOCTYPE are passed over: XES keeps no data in
//! them.
//!
//! The scanner is stateless: it never reads past the buffer it is given and reports a tag that
//! the buffer ends inside as [`Scan::Incomplete`], so a streaming caller can read more and scan
//! again from the same place.

/// What kind of tag was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<name ...>`
    Start,
    /// `<name .../>`
    Empty,
    /// `</name>`
    End,
}

/// A problem in a start tag's attributes. The tag is still returned (its end is found), so the
/// caller decides whether the problem matters (it does for XES attribute elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadAttr {
    /// `name=value` without quotes; the range is the attribute's name.
    Unquoted(usize, usize),
    /// Text in a tag that is not `name="value"`; the range is the text.
    Stray(usize, usize),
}

/// One tag. Ranges are offsets into the scanned buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    pub kind: Kind,
    /// The local name (any `prefix:` removed).
    pub name: &'a [u8],
    /// The raw (still escaped) values of the `key` and `value` attributes.
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub bad: Option<BadAttr>,
    /// Offset of the tag's `<`.
    pub at: usize,
}

/// The result of looking for the next tag from some offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan<'a> {
    /// A tag, and the offset just past it.
    Tag(Tag<'a>, usize),
    /// No tag before the end of the buffer (only text, comments and the like).
    End,
    /// The buffer ends inside a tag, comment, CDATA section or processing instruction that
    /// starts at this offset.
    Incomplete(usize),
    /// Not XML at this offset.
    Malformed(usize, &'static str),
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether `b` ends a tag or attribute name.
#[inline]
fn ends_name(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>' | b'=')
}

/// The offset of the first `q` in `hay`. Attribute values are short (a name, a date): eight
/// bytes at a time in a register (the "has a zero byte" test on `word ^ q`) beats setting up a
/// vector search for them; what is left after 32 bytes goes to memchr.
#[inline]
fn find_quote(hay: &[u8], q: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(q);
    let mut i = 0;
    for chunk in hay.chunks_exact(8).take(4) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w) ^ pattern;
        // The lowest flagged byte is the first match (a borrow only flags bytes above it).
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr(q, &hay[i..]).map(|n| n + i)
}

/// The next tag at or after `from`.
pub fn next_tag(buf: &[u8], from: usize) -> Scan<'_> {
    let mut i = from;
    loop {
        // Between XES tags there is only indentation: a short loop beats a memchr call.
        while i < buf.len() && is_space(buf[i]) {
            i += 1;
        }
        if i >= buf.len() {
            return Scan::End;
        }
        if buf[i] != b'<' {
            match memchr::memchr(b'<', &buf[i..]) {
                Some(n) => i += n,
                None => return Scan::End,
            }
        }
        let at = i;
        match buf.get(at + 1) {
            None => return Scan::Incomplete(at),
            Some(b'/') => return end_tag(buf, at),
            Some(b'?') => match memchr::memmem::find(&buf[at + 2..], b"?>") {
                Some(n) => i = at + 2 + n + 2,
                None => return Scan::Incomplete(at),
            },
            Some(b'!') => match markup(buf, at) {
                Ok(next) => i = next,
                Err(scan) => return scan,
            },
            Some(_) => return start_tag(buf, at),
        }
    }
}

/// Passes over `<!-- -->`, `<![CDATA[ ]]>` or `<!DOCTYPE ...>` (with an internal subset)
/// starting at `at`; the offset after it.
fn markup(buf: &[u8], at: usize) -> Result<usize, Scan<'_>> {
    let rest = &buf[at..];
    let find_after = |open: usize, close: &[u8]| {
        memchr::memmem::find(&rest[open..], close)
            .map(|n| at + open + n + close.len())
            .ok_or(Scan::Incomplete(at))
    };
    if rest.starts_with(b"<!--") {
        return find_after(4, b"-->");
    }
    if rest.starts_with(b"<![CDATA[") {
        return find_after(9, b"]]>");
    }
    // Too short to tell yet.
    if rest.len() < 9 && (b"<!--".starts_with(rest) || b"<![CDATA[".starts_with(rest)) {
        return Err(Scan::Incomplete(at));
    }
    // <!DOCTYPE ...> and other declarations: up to the `>` outside brackets and quotes.
    let mut depth = 0usize;
    let mut j = at + 2;
    while j < buf.len() {
        match buf[j] {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'') => match memchr::memchr(q, &buf[j + 1..]) {
                Some(n) => j += n + 1,
                None => return Err(Scan::Incomplete(at)),
            },
            b'>' if depth == 0 => return Ok(j + 1),
            _ => {}
        }
        j += 1;
    }
    Err(Scan::Incomplete(at))
}

fn local(name: &[u8]) -> &[u8] {
    match memchr::memchr(b':', name) {
        Some(c) => &name[c + 1..],
        None => name,
    }
}

fn end_tag(buf: &[u8], at: usize) -> Scan<'_> {
    let start = at + 2;
    let Some(n) = memchr::memchr(b'>', &buf[start..]) else {
        return Scan::Incomplete(at);
    };
    let name = buf[start..start + n].trim_ascii_end();
    if name.is_empty() || name.iter().any(|&b| ends_name(b)) {
        return Scan::Malformed(at, "a malformed end tag");
    }
    let tag = Tag {
        kind: Kind::End,
        name: local(name),
        key: None,
        value: None,
        bad: None,
        at,
    };
    Scan::Tag(tag, start + n + 1)
}

fn start_tag(buf: &[u8], at: usize) -> Scan<'_> {
    let mut i = at + 1;
    while i < buf.len() && !ends_name(buf[i]) {
        i += 1;
    }
    if i >= buf.len() {
        return Scan::Incomplete(at);
    }
    let name = &buf[at + 1..i];
    if name.is_empty() {
        return Scan::Malformed(at, "a '<' that starts no tag");
    }
    let mut tag = Tag {
        kind: Kind::Start,
        name: local(name),
        key: None,
        value: None,
        bad: None,
        at,
    };
    // Attributes: `name = "value"` separated by whitespace, up to `>` or `/>`.
    loop {
        while i < buf.len() && is_space(buf[i]) {
            i += 1;
        }
        let Some(&b) = buf.get(i) else {
            return Scan::Incomplete(at);
        };
        match b {
            b'>' => return Scan::Tag(tag, i + 1),
            b'/' => match buf.get(i + 1) {
                Some(b'>') => {
                    tag.kind = Kind::Empty;
                    return Scan::Tag(tag, i + 2);
                }
                Some(_) => {
                    tag.bad.get_or_insert(BadAttr::Stray(i, i + 1));
                    i += 1;
                    continue;
                }
                None => return Scan::Incomplete(at),
            },
            b'"' | b'\'' => {
                // A quoted value with no name: stray, but its end must still be found.
                let Some(n) = memchr::memchr(b, &buf[i + 1..]) else {
                    return Scan::Incomplete(at);
                };
                tag.bad.get_or_insert(BadAttr::Stray(i, i + n + 2));
                i += n + 2;
                continue;
            }
            _ => {}
        }
        // XES writes exactly `key="` and `value="`: take them without the general name scan.
        let rest = &buf[i..];
        let fast = if rest.starts_with(b"key=\"") {
            Some((true, 5))
        } else if rest.starts_with(b"value=\"") {
            Some((false, 7))
        } else {
            None
        };
        if let Some((is_key, len)) = fast {
            let from = i + len;
            let Some(n) = find_quote(&buf[from..], b'"') else {
                return Scan::Incomplete(at);
            };
            let value = &buf[from..from + n];
            if is_key {
                tag.key = Some(value);
            } else {
                tag.value = Some(value);
            }
            i = from + n + 1;
            continue;
        }
        let name_at = i;
        while i < buf.len() && !ends_name(buf[i]) && buf[i] != b'"' && buf[i] != b'\'' {
            i += 1;
        }
        let name_end = i;
        while i < buf.len() && is_space(buf[i]) {
            i += 1;
        }
        match buf.get(i) {
            None => return Scan::Incomplete(at),
            Some(b'=') => i += 1,
            Some(_) => {
                // A name with no value (`<trace foo>`).
                tag.bad
                    .get_or_insert(BadAttr::Stray(name_at, name_end.max(name_at + 1)));
                i = i.max(name_at + 1);
                continue;
            }
        }
        while i < buf.len() && is_space(buf[i]) {
            i += 1;
        }
        let Some(&quote) = buf.get(i) else {
            return Scan::Incomplete(at);
        };
        if quote != b'"' && quote != b'\'' {
            tag.bad.get_or_insert(BadAttr::Unquoted(name_at, name_end));
            // Pass over the unquoted value to the next whitespace or tag end.
            while i < buf.len() && !matches!(buf[i], b' ' | b'\t' | b'\r' | b'\n' | b'>') {
                i += 1;
            }
            continue;
        }
        let Some(n) = find_quote(&buf[i + 1..], quote) else {
            return Scan::Incomplete(at);
        };
        let value = &buf[i + 1..i + 1 + n];
        match &buf[name_at..name_end] {
            b"key" => tag.key = Some(value),
            b"value" => tag.value = Some(value),
            _ => {}
        }
        i += n + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (kind, name, key, value, has a bad attribute)
    type Seen = (Kind, String, Option<String>, Option<String>, bool);

    fn tags(xml: &str) -> Vec<Seen> {
        let b = xml.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            match next_tag(b, i) {
                Scan::Tag(t, next) => {
                    let s = |v: Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
                    out.push((
                        t.kind,
                        String::from_utf8_lossy(t.name).into_owned(),
                        s(t.key),
                        s(t.value),
                        t.bad.is_some(),
                    ));
                    assert_eq!(b[t.at], b'<');
                    i = next;
                }
                Scan::End => return out,
                other => panic!("{other:?} in {xml}"),
            }
        }
    }

    #[test]
    fn reads_tags_and_key_value() {
        let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE log [<!ENTITY x \"a>b\">]>\n<!-- <trace> -->\
                   <x:log a='1'>text<string key=\"k\" value='v&amp;>w' />\n<![CDATA[<event>]]>\
                   <date  key = \"t\"\tvalue=\"2\"/></x:log >";
        let t = tags(xml);
        let k = |s: &str| Some(s.to_string());
        assert_eq!(
            t,
            vec![
                (Kind::Start, "log".into(), None, None, false),
                (Kind::Empty, "string".into(), k("k"), k("v&amp;>w"), false),
                (Kind::Empty, "date".into(), k("t"), k("2"), false),
                (Kind::End, "log".into(), None, None, false),
            ]
        );
    }

    #[test]
    fn find_quote_is_memchr() {
        let hay: Vec<u8> = (0..100u8).map(|i| b'a' + i % 26).collect();
        for q in [b'"', b'a', b'b', b'z', 0, 0xff] {
            for start in 0..hay.len() {
                let mut h = hay[start..].to_vec();
                for at in [0, 3, 7, 8, 15, 31, 32, 40, 70] {
                    if at < h.len() {
                        h[at] = q;
                    }
                    assert_eq!(find_quote(&h, q), memchr::memchr(q, &h), "{q} {start} {at}");
                }
            }
        }
    }

    #[test]
    fn bad_attributes_are_flagged_not_fatal() {
        for xml in ["<a key=v/>", "<a foo>", "<a key=\"x\" / >", "<a \"x\">"] {
            let t = tags(xml);
            assert_eq!(t.len(), 1, "{xml}");
            assert!(t[0].4, "{xml}");
        }
    }

    #[test]
    fn a_cut_anywhere_is_incomplete_never_a_wrong_tag() {
        let xml = b"<log><string key=\"a\" value=\"b\"/><!-- c --><?p x?></log>";
        for cut in 0..xml.len() {
            let mut i = 0;
            loop {
                match next_tag(&xml[..cut], i) {
                    Scan::Tag(_, next) => i = next,
                    Scan::End | Scan::Incomplete(_) => break,
                    Scan::Malformed(..) => panic!("cut {cut}"),
                }
            }
        }
        assert!(matches!(next_tag(b"< x>", 0), Scan::Malformed(0, _)));
        assert!(matches!(next_tag(b"</ >", 0), Scan::Malformed(0, _)));
    }
}
