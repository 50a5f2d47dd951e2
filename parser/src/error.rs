//! The one error type of h1parse: what went wrong, and where.

use core::fmt;

/// A parse error: its kind and the byte offset where it was detected.
///
/// For the request and response parsers the offset counts from the start of
/// the caller's buffer; for the [`ChunkedDecoder`](crate::ChunkedDecoder) it
/// counts from the first byte of the chunked body. The offset never exceeds
/// the number of bytes the parser was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What rule the input broke.
    pub kind: ErrorKind,
    /// Offset of the offending byte (or of the start of the offending field line).
    pub offset: usize,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, offset: usize) -> Self {
        Error { kind, offset }
    }

    /// The HTTP status a server should answer this error with.
    pub const fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.description(), self.offset)
    }
}

impl core::error::Error for Error {}

/// Every way a message can be malformed or unacceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The method is empty or has a byte that is not a `tchar` (RFC 9110 §9.1).
    InvalidMethod,
    /// The request-target is empty or holds whitespace, a CTL or a non-ASCII byte,
    /// or its form does not fit the method (RFC 9112 §3.2).
    InvalidTarget,
    /// The request-target is longer than [`Limits::max_uri`](crate::Limits::max_uri) (RFC 9112 §3, 414).
    UriTooLong,
    /// The request line has no HTTP-version: an HTTP/0.9 request, not supported (RFC 9112 §3).
    MissingVersion,
    /// The HTTP-version is not `HTTP/` DIGIT `.` DIGIT (case-sensitive), or is HTTP/0.x (RFC 9112 §2.3).
    InvalidVersion,
    /// A well-formed HTTP-version whose major version is 2 or more (505, RFC 9110 §15.6.6).
    UnsupportedVersion,
    /// The status line of a response is malformed: status not three digits in 100..=599,
    /// or a missing space (RFC 9112 §4).
    InvalidStatusLine,
    /// The reason phrase holds a CTL (RFC 9112 §4).
    InvalidReasonPhrase,
    /// A field name is empty or has a non-`tchar` byte (RFC 9110 §5.1).
    InvalidHeaderName,
    /// Whitespace between a field name and its colon (RFC 9112 §5.1: MUST reject with 400).
    WhitespaceBeforeColon,
    /// A field line without a colon: the name is followed by whitespace and then
    /// something other than a colon, or by the line's end (RFC 9112 §5:
    /// `field-line = field-name ":" OWS field-value OWS`). The offset is where
    /// the name stopped.
    MissingColon,
    /// A field value holds NUL or another CTL other than HTAB (RFC 9110 §5.5).
    InvalidHeaderValue,
    /// A field line starts with whitespace: obsolete line folding (RFC 9112 §5.2),
    /// or whitespace between the start line and the first field (RFC 9112 §2.2).
    ObsFold,
    /// A CR not followed by LF (RFC 9112 §2.2).
    BareCr,
    /// An LF not preceded by CR, while bare LF leniency is off (RFC 9112 §2.2).
    BareLf,
    /// The head is larger than [`Limits::max_head`](crate::Limits::max_head) (431, RFC 6585 §5).
    HeaderSectionTooLarge,
    /// One field line is longer than [`Limits::max_header_line`](crate::Limits::max_header_line) (431).
    HeaderLineTooLong,
    /// More field lines than the caller's header slice holds (431).
    TooManyHeaders,
    /// Content-Length is not `1*DIGIT`, or overflows u64 (RFC 9112 §6.3 rule 5).
    InvalidContentLength,
    /// Several Content-Length values that differ (RFC 9112 §6.3 rule 5).
    ConflictingContentLength,
    /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.1, §6.3 rule 3).
    ContentLengthWithTransferEncoding,
    /// Transfer-Encoding is malformed, its final coding is not chunked, or chunked is applied twice
    /// (RFC 9112 §6.1, §6.3 rule 4: MUST 400).
    InvalidTransferEncoding,
    /// A transfer coding this parser does not implement (RFC 9112 §6.1: SHOULD 501).
    UnsupportedTransferCoding,
    /// Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// An HTTP/1.1 request without a Host field (RFC 9112 §3.2: MUST 400).
    MissingHost,
    /// More than one Host field line (RFC 9112 §3.2: MUST 400).
    DuplicateHost,
    /// A Host value that is not `uri-host [ ":" port ]` (RFC 9112 §3.2: MUST 400).
    InvalidHost,
    /// A chunk size that is empty or has a non-hex byte, or junk after it (RFC 9112 §7.1).
    InvalidChunkSize,
    /// A chunk size of more than 16 hex digits (it could overflow u64).
    ChunkSizeOverflow,
    /// A chunk extension with a CTL byte (RFC 9112 §7.1.1).
    InvalidChunkExtension,
    /// A chunk extension longer than the decoder's limit.
    ChunkExtensionTooLong,
    /// Chunk data not followed by CRLF (RFC 9112 §7.1).
    InvalidChunkTerminator,
    /// The trailer section is larger than the decoder's limit.
    TrailerSectionTooLarge,
}

impl ErrorKind {
    /// The HTTP status a server should answer with (RFC 9110 §15, RFC 6585).
    pub const fn status(self) -> u16 {
        use ErrorKind::*;
        match self {
            UriTooLong => 414,
            HeaderSectionTooLarge | HeaderLineTooLong | TooManyHeaders => 431,
            UnsupportedTransferCoding => 501,
            UnsupportedVersion => 505,
            _ => 400,
        }
    }

    /// A short human description.
    pub const fn description(self) -> &'static str {
        use ErrorKind::*;
        match self {
            InvalidMethod => "invalid method",
            InvalidTarget => "invalid request-target",
            UriTooLong => "request-target too long",
            MissingVersion => "missing HTTP version (HTTP/0.9 is not supported)",
            InvalidVersion => "invalid HTTP version",
            UnsupportedVersion => "unsupported HTTP major version",
            InvalidStatusLine => "invalid status line",
            InvalidReasonPhrase => "invalid reason phrase",
            InvalidHeaderName => "invalid field name",
            WhitespaceBeforeColon => "whitespace between field name and colon",
            MissingColon => "field line without a colon",
            InvalidHeaderValue => "invalid byte in field value",
            ObsFold => "obsolete line folding",
            BareCr => "CR not followed by LF",
            BareLf => "LF without CR",
            HeaderSectionTooLarge => "header section too large",
            HeaderLineTooLong => "field line too long",
            TooManyHeaders => "too many header fields",
            InvalidContentLength => "invalid Content-Length",
            ConflictingContentLength => "conflicting Content-Length values",
            ContentLengthWithTransferEncoding => "both Content-Length and Transfer-Encoding",
            InvalidTransferEncoding => "invalid Transfer-Encoding",
            UnsupportedTransferCoding => "unsupported transfer coding",
            TransferEncodingInHttp10 => "Transfer-Encoding in an HTTP/1.0 message",
            MissingHost => "missing Host",
            DuplicateHost => "more than one Host",
            InvalidHost => "invalid Host",
            InvalidChunkSize => "invalid chunk size",
            ChunkSizeOverflow => "chunk size too large",
            InvalidChunkExtension => "invalid chunk extension",
            ChunkExtensionTooLong => "chunk extension too long",
            InvalidChunkTerminator => "chunk data not followed by CRLF",
            TrailerSectionTooLarge => "trailer section too large",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
