//! # h1parse
//!
//! A `no_std`, allocation-free, incremental and strict HTTP/1.1 parser
//! (RFC 9112): request heads, response heads, message framing and chunked
//! bodies.
//!
//! * **Incremental, never going back.** A parser value keeps its phase and
//!   offset. Keep one growing buffer per message and call `parse` again after
//!   every read: it resumes where it stopped and never goes back over a
//!   line it has finished, so a head fed one byte at a time costs about what
//!   it costs whole. (A field line that is all there is read in one SIMD
//!   pass. Any other line goes to the resumable phases, which start where
//!   that pass found its first control byte or the end of the input, so
//!   only the line's first sixteen bytes are looked at again; a line whose
//!   name is longer than that is read twice. Never more, never quadratic.)
//! * **Offsets, not borrows.** Parsed pieces are [`Span`]s (`u32` offsets)
//!   into your buffer, so the buffer may grow or move between calls. Headers go
//!   into a slice you provide; its length is the header-count limit.
//! * **Framing decided in the same pass**: [`BodyKind`], persistence,
//!   `Expect: 100-continue` and Host are known when the head completes, and
//!   framing conflicts (the stuff of request smuggling) are errors.
//! * **Precise errors**: one [`Error`] with an [`ErrorKind`] and a byte offset;
//!   [`Error::status`] gives the status a server should answer with.
//!
//! # Layout
//!
//! * `request` — [`RequestParser`], [`Request`], [`RequestHead`].
//! * `response` — [`ResponseParser`], [`Response`], [`ResponseHead`].
//! * `chunked` — [`ChunkedDecoder`] for `Transfer-Encoding: chunked` bodies.
//! * `section` — [`FieldsParser`] for a field section on its own (CGI output).
//! * `fields` — the field-section scanner shared by all three.
//! * `chars` — the byte classes of the grammar, as tables, and the SWAR
//!   (eight bytes at a time) scanners for field values and targets.
//! * `simd` — SSE2 versions of those scanners and the one-pass field-line
//!   scanner (x86_64); the crate's only `unsafe`, allowed there alone (the
//!   crate is `deny(unsafe_code)`), and kept because it measurably pays (see
//!   docs/benchmarks.md). Feature `no-simd` turns it off; tests compare both paths.
//! * `error` — [`Error`] and [`ErrorKind`].
//!
//! # Example: the resume loop
//!
//! ```
//! use h1parse::{BodyKind, Header, RequestParser, Status};
//!
//! // Bytes as they might arrive from a socket, in pieces.
//! let pieces: [&[u8]; 3] = [b"GET /index.html HT", b"TP/1.1\r\nHost: exa", b"mple.com\r\n\r\n"];
//!
//! let mut parser = RequestParser::new();
//! let mut headers = [Header::EMPTY; 32];
//! let mut buf = Vec::new(); // any growable buffer; h1parse itself never allocates
//! let mut done = None;
//! for piece in pieces {
//!     buf.extend_from_slice(piece);
//!     match parser.parse(&buf, &mut headers) {
//!         Ok(Status::Complete(req)) => { done = Some(req); break; }
//!         Ok(Status::Partial) => continue,               // read more
//!         Err(e) => panic!("answer {} ({e})", e.status()),
//!     }
//! }
//! let req = done.expect("complete");
//! let head = req.head(&buf, &headers);
//! assert_eq!(head.method(), b"GET");
//! assert_eq!(head.target(), b"/index.html");
//! assert_eq!(head.header("host"), Some(&b"example.com"[..]));
//! assert_eq!(req.body, BodyKind::None);
//! assert!(req.keep_alive);
//! assert_eq!(req.head_len, buf.len());
//! ```
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod chars;
mod chunked;
mod error;
mod fields;
mod request;
mod response;
mod section;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "no-simd")
))]
mod simd;

pub use chunked::{Chunk, ChunkedDecoder, ChunkedLimits};
pub use error::{Error, ErrorKind};
pub use request::{Request, RequestHead, RequestParser, TargetForm};
pub use response::{Response, ResponseHead, ResponseParser};
pub use section::{Fields, FieldsParser};

// The README's examples are doctests, so the page a user copies from compiles.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// A byte range `start..end` in the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The empty span at 0.
    pub const EMPTY: Span = Span { start: 0, end: 0 };

    pub(crate) const fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The bytes of this span in `buf` (empty if `buf` is too short).
    pub fn get<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        buf.get(self.start as usize..self.end as usize)
            .unwrap_or(&[])
    }

    /// Length in bytes.
    pub const fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span is empty.
    pub const fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One field line: name and value spans (the value without surrounding whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// The field name, as sent (compare case-insensitively).
    pub name: Span,
    /// The field value, without leading or trailing whitespace.
    pub value: Span,
}

impl Header {
    /// An unused slot, to fill a header array with.
    pub const EMPTY: Header = Header {
        name: Span::EMPTY,
        value: Span::EMPTY,
    };
}

/// Iterator over `(name, value)` byte slices of a parsed head.
#[derive(Debug, Clone)]
pub struct HeaderIter<'b> {
    buf: &'b [u8],
    inner: core::slice::Iter<'b, Header>,
}

impl<'b> HeaderIter<'b> {
    pub(crate) fn new(buf: &'b [u8], headers: &'b [Header]) -> Self {
        HeaderIter {
            buf,
            inner: headers.iter(),
        }
    }
}

impl<'b> Iterator for HeaderIter<'b> {
    type Item = (&'b [u8], &'b [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner
            .next()
            .map(|h| (h.name.get(self.buf), h.value.get(self.buf)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// The outcome of a parse call that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// The head is complete.
    Complete(T),
    /// More bytes are needed; call again with the grown buffer.
    Partial,
}

impl<T> Status<T> {
    /// Whether the head is complete.
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete(_))
    }
    /// The complete value, if any.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(t) => Some(t),
            Status::Partial => None,
        }
    }
}

/// The version a message is processed as (RFC 9110 §2.5: a higher 1.x minor
/// is processed as 1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1 (or a later 1.x).
    Http11,
}

/// How a message body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// No body.
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// A chunked body follows: decode it with [`ChunkedDecoder`].
    Chunked,
    /// The body runs until the connection closes (responses only).
    UntilClose,
}

/// What the `Expect` field asks for (RFC 9110 §10.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expect {
    /// No `Expect` field.
    None,
    /// `Expect: 100-continue`.
    Continue,
    /// Some other expectation: a server answers 417.
    Other,
}

/// Size limits, checked while scanning: no input makes the parser look past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest head (start line + fields + blank line) in bytes; beyond it the
    /// parser fails with [`ErrorKind::HeaderSectionTooLarge`] (431).
    pub max_head: u32,
    /// Longest request-target; beyond it [`ErrorKind::UriTooLong`] (414).
    /// RFC 9112 §3 recommends supporting at least 8000 octets.
    pub max_uri: u32,
    /// Longest field line (name, colon and value, without CRLF); beyond it
    /// [`ErrorKind::HeaderLineTooLong`] (431).
    pub max_header_line: u32,
}

impl Limits {
    /// 16 KiB head, 8 KiB target, 8 KiB field line.
    pub const DEFAULT: Limits = Limits {
        max_head: 16 * 1024,
        max_uri: 8 * 1024,
        max_header_line: 8 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
