//! A bare field section (`*( field-line CRLF ) CRLF`, RFC 9112 §5) without a
//! start line: the header block of a CGI script's output (RFC 3875 §6.2), or
//! any other place fields come on their own.

use crate::fields::{FieldConfig, FieldSection};
use crate::{Error, ErrorKind, Header, HeaderIter, Limits, Status};

/// A parsed field section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// Number of entries written to the caller's header slice.
    pub header_count: usize,
    /// Length of the section including the blank line: what follows starts here.
    pub len: usize,
}

impl Fields {
    /// `(name, value)` pairs, given the buffer and slice passed to the parser.
    pub fn iter<'b>(&self, buf: &'b [u8], headers: &'b [Header]) -> HeaderIter<'b> {
        HeaderIter::new(buf, &headers[..self.header_count])
    }
}

/// Incremental parser for a field section on its own, with the same resume
/// rules as [`RequestParser`](crate::RequestParser): pass the same growing
/// buffer *and the same header slice* on every call (entries written by
/// earlier calls are not written again). Framing fields are not interpreted;
/// syntax is checked as strictly as in a request.
///
/// ```
/// use h1parse::{FieldsParser, Header, Status};
///
/// // A CGI script's output: its header block uses bare LF.
/// let out = b"Status: 404 Not Found\nContent-Type: text/plain\n\nno such thing";
/// let mut headers = [Header::EMPTY; 8];
/// let mut p = FieldsParser::new().allow_bare_lf(true);
/// let Ok(Status::Complete(f)) = p.parse(out, &mut headers) else { panic!() };
/// let mut it = f.iter(out, &headers);
/// assert_eq!(it.next(), Some((&b"Status"[..], &b"404 Not Found"[..])));
/// assert_eq!(&out[f.len..], b"no such thing");
/// ```
#[derive(Debug, Clone)]
pub struct FieldsParser {
    limits: Limits,
    allow_bare_lf: bool,
    pos: u32,
    fields: FieldSection,
    outcome: Option<Result<Fields, Error>>,
}

impl Default for FieldsParser {
    fn default() -> Self {
        Self::new()
    }
}

impl FieldsParser {
    /// A parser with the default limits (`max_head` bounds the section).
    pub const fn new() -> Self {
        Self::with_limits(Limits::DEFAULT)
    }

    /// A parser with the given limits.
    pub const fn with_limits(limits: Limits) -> Self {
        FieldsParser {
            limits,
            allow_bare_lf: false,
            pos: 0,
            fields: FieldSection::new(),
            outcome: None,
        }
    }

    /// Accept a bare LF as a line terminator (CGI scripts often send one).
    pub const fn allow_bare_lf(mut self, allow: bool) -> Self {
        self.allow_bare_lf = allow;
        self
    }

    /// Parses as much of `buf` as has arrived.
    pub fn parse(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Status<Fields>, Error> {
        if let Some(outcome) = self.outcome {
            return outcome.map(Status::Complete);
        }
        let end = buf.len().min(self.limits.max_head as usize);
        let mut p = self.pos as usize;
        let cfg = FieldConfig {
            max_line: self.limits.max_header_line,
            allow_bare_lf: self.allow_bare_lf,
            request: false,
        };
        let result = self.fields.scan(buf, &mut p, end, headers, cfg);
        self.pos = p as u32;
        let outcome = match result {
            Ok(true) => Ok(Fields {
                header_count: self.fields.count as usize,
                len: p,
            }),
            Ok(false) if buf.len() < self.limits.max_head as usize => return Ok(Status::Partial),
            Ok(false) => Err(Error::new(
                ErrorKind::HeaderSectionTooLarge,
                self.limits.max_head as usize,
            )),
            Err(e) => Err(e),
        };
        self.outcome = Some(outcome);
        outcome.map(Status::Complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn crlf_section_and_resume() {
        let input = b"A: 1\r\nB:  two \r\n\r\nrest";
        let mut h = [Header::EMPTY; 4];
        let mut p = FieldsParser::new();
        for n in 0..18 {
            assert_eq!(p.parse(&input[..n], &mut h), Ok(Status::Partial), "{n}");
        }
        let f = p.parse(input, &mut h).unwrap().complete().unwrap();
        assert_eq!(f.len, 18);
        let all: [(&[u8], &[u8]); 2] = [(b"A", b"1"), (b"B", b"two")];
        assert!(f.iter(input, &h).eq(all.iter().copied()));
    }

    #[test]
    fn empty_section() {
        let mut h = [Header::EMPTY; 1];
        let f = FieldsParser::new()
            .parse(b"\r\nbody", &mut h)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!((f.len, f.header_count), (2, 0));
    }

    #[test]
    fn strict_by_default() {
        let mut h = [Header::EMPTY; 4];
        let e = FieldsParser::new().parse(b"A: 1\nB: 2\n\n", &mut h);
        assert_eq!(
            e,
            Err(Error {
                kind: ErrorKind::BareLf,
                offset: 4
            })
        );
        let e = FieldsParser::new().parse(b"A : 1\r\n\r\n", &mut h);
        assert_eq!(
            e,
            Err(Error {
                kind: ErrorKind::WhitespaceBeforeColon,
                offset: 1
            })
        );
    }
}
