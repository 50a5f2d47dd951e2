//! Conditional requests (RFC 9110 §13): the preconditions a request carries
//! and their evaluation in the order of §13.2.2, shared by static files and
//! uploads so GET, HEAD, PUT and DELETE see one rule.

use h1parse::Span;

use crate::date::parse_imf_fixdate;

/// Field names whose lines are combined into one list.
pub(crate) const IF_MATCH: &[u8] = b"if-match";
/// See [`IF_MATCH`].
pub(crate) const IF_NONE_MATCH: &[u8] = b"if-none-match";

/// What a request keeps of an `If-Match` or `If-None-Match` field: one
/// line's value or, when the field came on several lines, the stretch of
/// the head from the first line's value to the last line's (the lines in
/// between, of this field or others, included). Several lines of one field
/// are one list (RFC 9110 §5.3); only the first was evaluated. A stretch
/// keeps the request's fields small (they are moved on every request).
pub(crate) fn add_line<'b>(kept: Option<&'b [u8]>, head: &'b [u8], value: Span) -> &'b [u8] {
    match kept {
        None => value.get(head),
        Some(first) => {
            let start = (first.as_ptr() as usize).saturating_sub(head.as_ptr() as usize);
            head.get(start..value.end as usize).unwrap_or(first)
        }
    }
}

/// The values of field `name` in what [`add_line`] kept: its first line,
/// then each later line of that name (no value holds CR or LF, h1parse
/// refuses them, so a line break means several lines).
pub(crate) fn field_lines<'a>(
    kept: &'a [u8],
    name: &'static [u8],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let trim_cr = |l: &'a [u8]| l.strip_suffix(b"\r").unwrap_or(l);
    let mut lines = kept.split(|&b| b == b'\n');
    let first = lines.next().map(trim_cr);
    let rest = lines.filter_map(move |l| {
        let l = trim_cr(l);
        let colon = l.iter().position(|&b| b == b':')?;
        if l[..colon].eq_ignore_ascii_case(name) {
            Some(&l[colon + 1..])
        } else {
            None
        }
    });
    first.into_iter().chain(rest)
}

/// Whether any member of the list kept for field `name` matches `tag`
/// (see [`list_matches`]).
pub(crate) fn tags_match(kept: &[u8], name: &'static [u8], tag: &[u8], strong: bool) -> bool {
    field_lines(kept, name).any(|v| list_matches(v, tag, strong))
}

/// The whole list kept for field `name` as one value (lines joined with
/// ", "), to keep after the request's head is gone.
pub(crate) fn joined(kept: &[u8], name: &'static [u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in field_lines(kept, name) {
        if !out.is_empty() {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(v.trim_ascii());
    }
    out
}

/// The precondition fields of a request (raw values; the entity-tag lists
/// with every line, the dates with the first).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Preconditions<'b> {
    /// As [`add_line`] kept it.
    pub(crate) if_match: Option<&'b [u8]>,
    /// As [`add_line`] kept it.
    pub(crate) if_none_match: Option<&'b [u8]>,
    pub(crate) if_modified_since: Option<&'b [u8]>,
    pub(crate) if_unmodified_since: Option<&'b [u8]>,
}

impl Preconditions<'_> {
    /// No precondition at all (the common case: nothing to evaluate).
    pub(crate) fn is_empty(&self) -> bool {
        self.if_match.is_none()
            && self.if_none_match.is_none()
            && self.if_modified_since.is_none()
            && self.if_unmodified_since.is_none()
    }
}

/// The selected representation as preconditions see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current<'a> {
    /// Its strong entity tag, quotes included.
    pub(crate) etag: &'a [u8],
    /// Last modification, seconds since the epoch.
    pub(crate) mtime: i64,
}

/// What the preconditions decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Perform the method.
    Proceed,
    /// 304 Not Modified (GET and HEAD only).
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluates `p` against the current representation (`None`: there is
/// none) for a request whose method is GET or HEAD (`safe`) or not, at time
/// `now` (seconds), in the order RFC 9110 §13.2.2 gives.
pub(crate) fn evaluate(
    p: &Preconditions<'_>,
    current: Option<Current<'_>>,
    safe: bool,
    now: i64,
) -> Outcome {
    // 1. If-Match (§13.1.1): strong comparison; `*` needs a representation.
    if let Some(v) = p.if_match {
        let ok = current.is_some_and(|c| tags_match(v, IF_MATCH, c.etag, true));
        if !ok {
            return Outcome::Failed;
        }
    } else if let (Some(v), Some(c)) = (p.if_unmodified_since, current) {
        // 2. If-Unmodified-Since (§13.1.4), only without If-Match; an
        //    invalid date is ignored.
        if parse_imf_fixdate(v.trim_ascii()).is_some_and(|t| c.mtime > t) {
            return Outcome::Failed;
        }
    }
    // 3. If-None-Match (§13.1.2): weak comparison; `*` matches any
    //    representation. A match is 304 for GET/HEAD, 412 otherwise.
    if let Some(v) = p.if_none_match {
        if current.is_some_and(|c| tags_match(v, IF_NONE_MATCH, c.etag, false)) {
            return if safe {
                Outcome::NotModified
            } else {
                Outcome::Failed
            };
        }
        return Outcome::Proceed;
    }
    // 4. If-Modified-Since (§13.1.3): GET/HEAD only, without If-None-Match;
    //    a date later than the server's clock cannot be a modification date
    //    the client saw, so it is ignored rather than answered 304.
    if let (true, Some(v), Some(c)) = (safe, p.if_modified_since, current) {
        if let Some(t) = parse_imf_fixdate(v.trim_ascii()) {
            if t <= now && c.mtime <= t {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Proceed
}

/// Whether a field value (`*` or a list of entity-tags) matches `tag`:
/// strong comparison (neither weak, same opaque tag) or weak (W/ ignored),
/// RFC 9110 §8.8.3.2.
pub(crate) fn list_matches(value: &[u8], tag: &[u8], strong: bool) -> bool {
    let value = value.trim_ascii();
    if value == b"*" {
        return true;
    }
    value.split(|&b| b == b',').any(|t| {
        let t = t.trim_ascii();
        match t.strip_prefix(b"W/") {
            Some(weak) => !strong && weak == tag,
            None => t == tag,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const TAG: &[u8] = b"\"abc\"";
    // Sun, 06 Nov 1994 08:49:37 GMT
    const T: i64 = 784_111_777;
    const NOW: i64 = 1_800_000_000;

    fn eval(p: Preconditions<'_>, exists: bool, safe: bool) -> Outcome {
        let c = exists.then_some(Current {
            etag: TAG,
            mtime: T,
        });
        evaluate(&p, c, safe, NOW)
    }

    #[test]
    fn if_match_is_strong_and_first() {
        let p = |v: &'static [u8]| Preconditions {
            if_match: Some(v),
            ..Default::default()
        };
        assert_eq!(eval(p(b"\"abc\""), true, true), Outcome::Proceed);
        assert_eq!(eval(p(b"\"x\", \"abc\""), true, false), Outcome::Proceed);
        assert_eq!(eval(p(b"\"nope\""), true, true), Outcome::Failed);
        assert_eq!(eval(p(b"W/\"abc\""), true, false), Outcome::Failed);
        assert_eq!(eval(p(b"*"), true, false), Outcome::Proceed);
        assert_eq!(eval(p(b"*"), false, false), Outcome::Failed);
        // If-Match wins over If-Unmodified-Since (§13.2.2 step 2 only without it)
        let both = Preconditions {
            if_match: Some(b"\"abc\""),
            if_unmodified_since: Some(b"Sat, 01 Jan 1994 00:00:00 GMT"),
            ..Default::default()
        };
        assert_eq!(eval(both, true, true), Outcome::Proceed);
    }

    #[test]
    fn several_lines_are_one_list() {
        let head =
            b"GET / HTTP/1.1\r\nIf-Match: \"a\"\r\nHost: t\r\nif-match: \"b\", \"c\"\r\n\r\n";
        let at = |needle: &[u8]| {
            let i = head
                .windows(needle.len())
                .position(|w| w == needle)
                .unwrap() as u32;
            Span {
                start: i,
                end: i + needle.len() as u32,
            }
        };
        let kept = add_line(None, head, at(b"\"a\""));
        let kept = add_line(Some(kept), head, at(b"\"b\", \"c\""));
        let lines: Vec<&[u8]> = field_lines(kept, IF_MATCH).collect();
        assert_eq!(lines, [&b"\"a\""[..], &b" \"b\", \"c\""[..]]);
        assert!(tags_match(kept, IF_MATCH, b"\"c\"", true));
        assert!(!tags_match(kept, IF_MATCH, b"t", true));
        assert_eq!(joined(kept, IF_MATCH), b"\"a\", \"b\", \"c\"");
    }

    #[test]
    fn if_unmodified_since() {
        let p = |v: &'static [u8]| Preconditions {
            if_unmodified_since: Some(v),
            ..Default::default()
        };
        assert_eq!(
            eval(p(b"Sat, 01 Jan 1994 00:00:00 GMT"), true, true),
            Outcome::Failed
        );
        assert_eq!(
            eval(p(b"Sun, 06 Nov 1994 08:49:37 GMT"), true, true),
            Outcome::Proceed
        );
        assert_eq!(eval(p(b"not a date"), true, true), Outcome::Proceed);
    }

    #[test]
    fn if_none_match_weak_304_or_412() {
        let p = |v: &'static [u8]| Preconditions {
            if_none_match: Some(v),
            ..Default::default()
        };
        assert_eq!(eval(p(b"W/\"abc\""), true, true), Outcome::NotModified);
        assert_eq!(eval(p(b"\"x\", \"abc\""), true, true), Outcome::NotModified);
        assert_eq!(eval(p(b"*"), true, false), Outcome::Failed);
        assert_eq!(eval(p(b"*"), false, false), Outcome::Proceed);
        assert_eq!(eval(p(b"\"x\""), true, true), Outcome::Proceed);
        // If-None-Match present: If-Modified-Since is not looked at
        let both = Preconditions {
            if_none_match: Some(b"\"x\""),
            if_modified_since: Some(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            ..Default::default()
        };
        assert_eq!(eval(both, true, true), Outcome::Proceed);
    }

    #[test]
    fn if_modified_since_ignores_future_dates_and_unsafe_methods() {
        let p = |v: &'static [u8]| Preconditions {
            if_modified_since: Some(v),
            ..Default::default()
        };
        assert_eq!(
            eval(p(b"Sun, 06 Nov 1994 08:49:37 GMT"), true, true),
            Outcome::NotModified
        );
        assert_eq!(
            eval(p(b"Sat, 01 Jan 1994 00:00:00 GMT"), true, true),
            Outcome::Proceed
        );
        assert_eq!(
            eval(p(b"Fri, 31 Dec 9999 23:59:59 GMT"), true, true),
            Outcome::Proceed
        );
        assert_eq!(
            eval(p(b"Sun, 06 Nov 1994 08:49:37 GMT"), true, false),
            Outcome::Proceed
        );
    }
}
