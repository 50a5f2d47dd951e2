//! Conditional requests (RFC 9110 §13): the preconditions a request carries
//! and their evaluation in the order of §13.2.2, shared by static files and
//! uploads so GET, HEAD, PUT and DELETE see one rule.

use h1parse::Header;

use crate::date::parse_imf_fixdate;

/// An `If-Match` or `If-None-Match` value. Several field lines of one name
/// are one comma-separated list (RFC 9110 §5.3), so every line counts, not
/// only the first.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TagList<'b> {
    /// One field line (or a list joined already).
    One(&'b [u8]),
    /// Several lines: every header named `name` in `head`.
    Lines {
        head: &'b [u8],
        headers: &'b [Header],
        name: &'static [u8],
    },
}

impl<'b> TagList<'b> {
    /// The list after one more line of `name` (`value`) was seen.
    pub(crate) fn add(
        before: Option<TagList<'b>>,
        value: &'b [u8],
        head: &'b [u8],
        headers: &'b [Header],
        name: &'static [u8],
    ) -> TagList<'b> {
        match before {
            None => TagList::One(value),
            Some(_) => TagList::Lines {
                head,
                headers,
                name,
            },
        }
    }

    /// Each field line's value.
    fn lines(&self) -> impl Iterator<Item = &'b [u8]> + 'b {
        let (one, many) = match *self {
            TagList::One(v) => (Some(v), None),
            TagList::Lines {
                head,
                headers,
                name,
            } => (
                None,
                Some(
                    headers
                        .iter()
                        .filter(move |h| h.name.get(head).eq_ignore_ascii_case(name))
                        .map(move |h| h.value.get(head)),
                ),
            ),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Whether any member of the list matches `tag` (see [`list_matches`]).
    pub(crate) fn matches(&self, tag: &[u8], strong: bool) -> bool {
        self.lines().any(|v| list_matches(v, tag, strong))
    }

    /// The whole list as one value (lines joined with ", "), to keep
    /// after the request's head is gone.
    pub(crate) fn joined(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for v in self.lines() {
            if !out.is_empty() {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(v.trim_ascii());
        }
        out
    }
}

/// The precondition fields of a request (raw values; the entity-tag lists
/// with every line, the dates with the first).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Preconditions<'b> {
    pub(crate) if_match: Option<TagList<'b>>,
    pub(crate) if_none_match: Option<TagList<'b>>,
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
        let ok = current.is_some_and(|c| v.matches(c.etag, true));
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
        if current.is_some_and(|c| v.matches(c.etag, false)) {
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
            if_match: Some(TagList::One(v)),
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
            if_match: Some(TagList::One(b"\"abc\"")),
            if_unmodified_since: Some(b"Sat, 01 Jan 1994 00:00:00 GMT"),
            ..Default::default()
        };
        assert_eq!(eval(both, true, true), Outcome::Proceed);
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
            if_none_match: Some(TagList::One(v)),
            ..Default::default()
        };
        assert_eq!(eval(p(b"W/\"abc\""), true, true), Outcome::NotModified);
        assert_eq!(eval(p(b"\"x\", \"abc\""), true, true), Outcome::NotModified);
        assert_eq!(eval(p(b"*"), true, false), Outcome::Failed);
        assert_eq!(eval(p(b"*"), false, false), Outcome::Proceed);
        assert_eq!(eval(p(b"\"x\""), true, true), Outcome::Proceed);
        // If-None-Match present: If-Modified-Since is not looked at
        let both = Preconditions {
            if_none_match: Some(TagList::One(b"\"x\"")),
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
