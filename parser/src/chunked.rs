//! The chunked transfer coding decoder (RFC 9112 §7.1): incremental,
//! allocation-free, returning the data ranges of the input in place.
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! trailer-section = *( field-line CRLF )
//!
//! quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE        (RFC 9110 §5.6.4)
//! qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
//! ```
//!
//! Extensions are checked against this grammar and then ignored (RFC 9112
//! §7.1.1: a recipient MUST ignore extensions it does not understand). Checking
//! them matters for smuggling: a front end that skips to the first CR and a back
//! end that ends a quoted string elsewhere disagree on where the chunk data starts.

use core::ops::Range;

use crate::chars::{field_vchar, tchar};
use crate::{Error, ErrorKind};

/// Limits of the chunked decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkedLimits {
    /// Most bytes a chunk-size line may hold beyond its significant hex digits:
    /// leading zeros, whitespace before `;`, and the extensions with their CR.
    /// Extensions are ignored after they are checked, so only a bound keeps a
    /// peer from streaming an endless one (the chunk-extension DoS of
    /// CVE-2023-39326 and its kind).
    pub max_extension: u32,
    /// Largest trailer section in bytes (fields and their CRLFs).
    pub max_trailer: u32,
}

impl ChunkedLimits {
    /// 1 KiB of extension per chunk, 16 KiB of trailers.
    pub const DEFAULT: ChunkedLimits = ChunkedLimits {
        max_extension: 1024,
        max_trailer: 16 * 1024,
    };
}

impl Default for ChunkedLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading hex digits of a chunk size.
    Size,
    /// Whitespace after the size or after an extension: only `;` may follow (BWS before `;`).
    SizeWs,
    /// After `;`: optional whitespace, then the extension name.
    ExtStart,
    /// Inside an extension name (a token).
    ExtName,
    /// Whitespace after an extension name: `=`, `;` or nothing more may follow.
    ExtNameWs,
    /// After `=`: optional whitespace, then a token or a quoted string.
    ExtValueStart,
    /// Inside a token extension value.
    ExtToken,
    /// Inside a quoted-string extension value.
    ExtQuoted,
    /// After a backslash inside a quoted string.
    ExtQuotedPair,
    /// After the closing quote of a value: `;`, whitespace or the CR.
    ExtValueEnd,
    /// Whitespace after an extension value: only `;` may follow.
    ExtValueWs,
    /// Saw the CR after the size line.
    SizeCr,
    /// Inside chunk data; `remaining` bytes left.
    Data,
    /// Data done; CR must follow.
    DataCr,
    /// Saw CR after data; LF must follow.
    DataLf,
    /// At the start of a trailer line (or of the final CRLF).
    TrailerLineStart,
    /// Inside a trailer field name.
    TrailerName,
    /// Whitespace after a trailer field name: a colon next is whitespace
    /// before the colon, anything else a line without a colon.
    TrailerNameWs,
    /// Inside a trailer field value.
    TrailerValue,
    /// Saw CR ending a trailer line.
    TrailerCr,
    /// Saw CR of the final empty line.
    FinalCr,
    /// The body is complete.
    Done,
    /// An error was returned.
    Failed,
}

/// What one [`ChunkedDecoder::decode`] call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Bytes of the input used: framing, and the data range if any. Drop them
    /// and call again with the rest of the input (plus whatever arrives).
    pub consumed: usize,
    /// Body data in the input (empty when this call found none).
    pub data: Range<usize>,
    /// The last chunk and the trailer section have been read: the body is over,
    /// and the input from `consumed` on belongs to the next message.
    pub done: bool,
}

/// Incremental decoder for a chunked body.
///
/// ```
/// use h1parse::ChunkedDecoder;
///
/// let mut dec = ChunkedDecoder::new();
/// let mut input: &[u8] = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
/// let mut body = Vec::new();
/// loop {
///     let chunk = dec.decode(input).unwrap();
///     body.extend_from_slice(&input[chunk.data.clone()]);
///     input = &input[chunk.consumed..];
///     if chunk.done { break; }
///     // when `chunk.consumed == 0` and not done: wait for more input
/// }
/// assert_eq!(body, b"hello world");
/// assert_eq!(input, b"NEXT");
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    limits: ChunkedLimits,
    phase: Phase,
    size: u64,
    digits: u8,
    extension: u32,
    remaining: u64,
    trailer: u32,
    offset: u64,
    /// Offset of the whitespace after a trailer field name (phase TrailerNameWs).
    ws_at: u64,
    error: Option<Error>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder with default limits.
    pub const fn new() -> Self {
        Self::with_limits(ChunkedLimits::DEFAULT)
    }

    /// A decoder with the given limits.
    pub const fn with_limits(limits: ChunkedLimits) -> Self {
        ChunkedDecoder {
            limits,
            phase: Phase::Size,
            size: 0,
            digits: 0,
            extension: 0,
            remaining: 0,
            trailer: 0,
            offset: 0,
            ws_at: 0,
            error: None,
        }
    }

    /// Whether the whole body (last chunk and trailers) has been read.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Total input bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.offset
    }

    /// Bytes of chunk data still expected in the current chunk.
    pub fn remaining_in_chunk(&self) -> u64 {
        if self.phase == Phase::Data {
            self.remaining
        } else {
            0
        }
    }

    /// Decodes from the start of `input` (the bytes after what earlier calls
    /// consumed). Returns at most one data range; loop while input remains.
    pub fn decode(&mut self, input: &[u8]) -> Result<Chunk, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        match self.run(input) {
            Ok(chunk) => {
                self.offset += chunk.consumed as u64;
                Ok(chunk)
            }
            Err((kind, at)) => {
                let e = Error::new(kind, at as usize);
                self.error = Some(e);
                self.phase = Phase::Failed;
                Err(e)
            }
        }
    }

    fn run(&mut self, input: &[u8]) -> Result<Chunk, (ErrorKind, u64)> {
        let base = self.offset;
        let mut p = 0;
        while p < input.len() {
            let b = input[p];
            match self.phase {
                Phase::Size => {
                    if let Some(v) = hex(b) {
                        if self.size == 0 && v == 0 && self.digits > 0 {
                            // A leading zero: the numeral stays valid however many
                            // there are (RFC 9112 §7.1: chunk-size = 1*HEXDIG), but
                            // they count against the line's bound.
                            self.line_byte(base + p as u64, ErrorKind::ChunkSizeOverflow)?;
                        } else {
                            // `digits` counts significant digits (a lone "0" is one).
                            self.digits = if self.size == 0 { 1 } else { self.digits + 1 };
                            if self.digits > 16 {
                                return Err((ErrorKind::ChunkSizeOverflow, base + p as u64));
                            }
                            self.size = (self.size << 4) | u64::from(v);
                        }
                    } else if self.digits == 0 {
                        return Err((ErrorKind::InvalidChunkSize, base + p as u64));
                    } else {
                        match b {
                            b';' => self.phase = Phase::ExtStart,
                            b' ' | b'\t' => self.phase = Phase::SizeWs,
                            b'\r' => self.phase = Phase::SizeCr,
                            b'\n' => return Err((ErrorKind::BareLf, base + p as u64)),
                            _ => return Err((ErrorKind::InvalidChunkSize, base + p as u64)),
                        }
                    }
                }
                Phase::SizeWs
                | Phase::ExtStart
                | Phase::ExtName
                | Phase::ExtNameWs
                | Phase::ExtValueStart
                | Phase::ExtToken
                | Phase::ExtQuoted
                | Phase::ExtQuotedPair
                | Phase::ExtValueEnd
                | Phase::ExtValueWs => {
                    self.phase = self.extension_step(b, base + p as u64)?;
                    self.line_byte(base + p as u64, ErrorKind::ChunkExtensionTooLong)?;
                }
                Phase::SizeCr => {
                    if b != b'\n' {
                        return Err((ErrorKind::BareCr, base + p as u64 - 1));
                    }
                    if self.size == 0 {
                        self.phase = Phase::TrailerLineStart;
                    } else {
                        self.remaining = self.size;
                        self.phase = Phase::Data;
                    }
                }
                Phase::Data => {
                    let avail = (input.len() - p) as u64;
                    let n = avail.min(self.remaining) as usize;
                    self.remaining -= n as u64;
                    if self.remaining == 0 {
                        self.phase = Phase::DataCr;
                    }
                    return Ok(Chunk {
                        consumed: p + n,
                        data: p..p + n,
                        done: false,
                    });
                }
                Phase::DataCr => match b {
                    b'\r' => self.phase = Phase::DataLf,
                    b'\n' => return Err((ErrorKind::BareLf, base + p as u64)),
                    _ => return Err((ErrorKind::InvalidChunkTerminator, base + p as u64)),
                },
                Phase::DataLf => {
                    if b != b'\n' {
                        return Err((ErrorKind::BareCr, base + p as u64 - 1));
                    }
                    self.size = 0;
                    self.digits = 0;
                    self.extension = 0;
                    self.phase = Phase::Size;
                }
                Phase::TrailerLineStart
                | Phase::TrailerName
                | Phase::TrailerNameWs
                | Phase::TrailerValue
                | Phase::TrailerCr
                | Phase::FinalCr => {
                    self.trailer += 1;
                    if self.trailer > self.limits.max_trailer {
                        return Err((ErrorKind::TrailerSectionTooLarge, base + p as u64));
                    }
                    self.phase = match (self.phase, b) {
                        (Phase::TrailerLineStart, b'\r') => Phase::FinalCr,
                        (Phase::TrailerLineStart, b' ' | b'\t') => {
                            return Err((ErrorKind::ObsFold, base + p as u64))
                        }
                        (Phase::TrailerLineStart, b) if tchar(b) => Phase::TrailerName,
                        (Phase::TrailerName, b) if tchar(b) => Phase::TrailerName,
                        (Phase::TrailerName, b':') => Phase::TrailerValue,
                        (Phase::TrailerName, b' ' | b'\t') => {
                            self.ws_at = base + p as u64;
                            Phase::TrailerNameWs
                        }
                        (Phase::TrailerNameWs, b' ' | b'\t') => Phase::TrailerNameWs,
                        (Phase::TrailerNameWs, b':') => {
                            return Err((ErrorKind::WhitespaceBeforeColon, self.ws_at))
                        }
                        (Phase::TrailerNameWs, _) => {
                            return Err((ErrorKind::MissingColon, self.ws_at))
                        }
                        (Phase::TrailerName, b'\r') => {
                            return Err((ErrorKind::MissingColon, base + p as u64))
                        }
                        (Phase::TrailerValue, b'\r') => Phase::TrailerCr,
                        (Phase::TrailerValue, b) if field_vchar(b) || b == b' ' || b == b'\t' => {
                            Phase::TrailerValue
                        }
                        (Phase::TrailerValue, b'\n') => {
                            return Err((ErrorKind::BareLf, base + p as u64))
                        }
                        (Phase::TrailerValue, _) => {
                            return Err((ErrorKind::InvalidHeaderValue, base + p as u64))
                        }
                        (Phase::TrailerCr, b'\n') => Phase::TrailerLineStart,
                        (Phase::FinalCr, b'\n') => {
                            self.phase = Phase::Done;
                            return Ok(Chunk {
                                consumed: p + 1,
                                data: p + 1..p + 1,
                                done: true,
                            });
                        }
                        (Phase::TrailerCr | Phase::FinalCr, _) => {
                            return Err((ErrorKind::BareCr, base + p as u64 - 1))
                        }
                        (_, b'\n') => return Err((ErrorKind::BareLf, base + p as u64)),
                        _ => return Err((ErrorKind::InvalidHeaderName, base + p as u64)),
                    };
                }
                Phase::Done => {
                    return Ok(Chunk {
                        consumed: p,
                        data: p..p,
                        done: true,
                    })
                }
                Phase::Failed => return Err((ErrorKind::InvalidChunkSize, base + p as u64)),
            }
            p += 1;
        }
        Ok(Chunk {
            consumed: p,
            data: p..p,
            done: self.phase == Phase::Done,
        })
    }
}

impl ChunkedDecoder {
    /// Counts one byte of a chunk-size line against [`ChunkedLimits::max_extension`]:
    /// each leading zero beyond the first digit, and every byte after the first
    /// one that follows the significant digits, its CR included.
    #[inline]
    fn line_byte(&mut self, at: u64, kind: ErrorKind) -> Result<(), (ErrorKind, u64)> {
        self.extension += 1;
        if self.extension > self.limits.max_extension {
            return Err((kind, at));
        }
        Ok(())
    }

    /// One byte of the chunk-ext grammar (RFC 9112 §7.1.1, quoted-string from
    /// RFC 9110 §5.6.4), after the size's significant digits; gives the next phase.
    fn extension_step(&self, b: u8, at: u64) -> Result<Phase, (ErrorKind, u64)> {
        let bad = Err((ErrorKind::InvalidChunkExtension, at));
        // LF is never part of a chunk-size line (RFC 9112 §7.1: CRLF only).
        if b == b'\n' {
            return Err((ErrorKind::BareLf, at));
        }
        let ws = b == b' ' || b == b'\t';
        Ok(match self.phase {
            // BWS ";" — BWS only ever stands before ";" or "=": no whitespace before CRLF.
            Phase::SizeWs if ws => Phase::SizeWs,
            Phase::SizeWs if b == b';' => Phase::ExtStart,
            Phase::SizeWs => return Err((ErrorKind::InvalidChunkSize, at)),
            // ";" BWS chunk-ext-name
            Phase::ExtStart if ws => Phase::ExtStart,
            Phase::ExtStart | Phase::ExtName if tchar(b) => Phase::ExtName,
            Phase::ExtName if ws => Phase::ExtNameWs,
            Phase::ExtNameWs if ws => Phase::ExtNameWs,
            Phase::ExtName | Phase::ExtNameWs if b == b'=' => Phase::ExtValueStart,
            Phase::ExtName | Phase::ExtNameWs if b == b';' => Phase::ExtStart,
            Phase::ExtName if b == b'\r' => Phase::SizeCr,
            // "=" BWS chunk-ext-val
            Phase::ExtValueStart if ws => Phase::ExtValueStart,
            Phase::ExtValueStart if b == b'"' => Phase::ExtQuoted,
            Phase::ExtValueStart | Phase::ExtToken if tchar(b) => Phase::ExtToken,
            Phase::ExtToken | Phase::ExtValueEnd | Phase::ExtValueWs if ws => Phase::ExtValueWs,
            Phase::ExtToken | Phase::ExtValueEnd | Phase::ExtValueWs if b == b';' => {
                Phase::ExtStart
            }
            Phase::ExtToken | Phase::ExtValueEnd if b == b'\r' => Phase::SizeCr,
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            Phase::ExtQuoted if b == b'"' => Phase::ExtValueEnd,
            Phase::ExtQuoted if b == b'\\' => Phase::ExtQuotedPair,
            Phase::ExtQuoted if ws || field_vchar(b) => Phase::ExtQuoted,
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            Phase::ExtQuotedPair if ws || field_vchar(b) => Phase::ExtQuoted,
            // Anything else, a CR inside a quoted string included, breaks the grammar.
            _ => return bad,
        })
    }
}

/// The value of a HEXDIG (RFC 5234: DIGIT / "A"-"F", case-insensitive in ABNF).
#[inline]
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// Decodes all of `input`, collecting data into `out`; returns bytes consumed and done.
    fn decode_all(
        dec: &mut ChunkedDecoder,
        input: &[u8],
        out: &mut [u8],
        len: &mut usize,
    ) -> Result<(usize, bool), Error> {
        let mut off = 0;
        loop {
            let c = dec.decode(&input[off..])?;
            let data = &input[off..][c.data.clone()];
            out[*len..*len + data.len()].copy_from_slice(data);
            *len += data.len();
            off += c.consumed;
            if c.done || (c.consumed == 0) || off == input.len() {
                return Ok((off, c.done));
            }
        }
    }

    fn decode(input: &[u8]) -> Result<([u8; 256], usize, usize), Error> {
        let mut out = [0u8; 256];
        let mut len = 0;
        let (used, done) = decode_all(&mut ChunkedDecoder::new(), input, &mut out, &mut len)?;
        assert!(done, "not done");
        Ok((out, len, used))
    }

    #[track_caller]
    fn rejects(input: &[u8], kind: ErrorKind, offset: usize) {
        let mut out = [0u8; 256];
        let mut len = 0;
        let r = decode_all(&mut ChunkedDecoder::new(), input, &mut out, &mut len);
        assert_eq!(
            r,
            Err(Error { kind, offset }),
            "{:?}",
            core::str::from_utf8(input)
        );
    }

    #[test]
    fn decodes_body_with_extensions_and_trailers() {
        let input = b"5\r\nhello\r\nA;a=b;c\r\n world!!!!\r\n000;x\r\nT: v\r\nU:\r\n\r\nNEXT";
        let (out, len, used) = decode(input).unwrap();
        assert_eq!(&out[..len], b"hello world!!!!");
        assert_eq!(&input[used..], b"NEXT");
    }

    #[test]
    fn uppercase_and_lowercase_hex() {
        let (_, len, _) = decode(b"a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n").unwrap();
        assert_eq!(len, 21);
    }

    #[test]
    fn one_byte_at_a_time() {
        let input = b"3\r\nabc\r\n2;e\r\nde\r\n0\r\nX: y\r\n\r\n";
        let mut dec = ChunkedDecoder::new();
        let mut out = [0u8; 16];
        let mut len = 0;
        for i in 0..input.len() {
            let (used, done) = decode_all(&mut dec, &input[i..i + 1], &mut out, &mut len).unwrap();
            assert_eq!(used, 1);
            assert_eq!(done, i == input.len() - 1);
        }
        assert_eq!(&out[..len], b"abcde");
    }

    // RFC 9112 §7.1: chunk-size = 1*HEXDIG; strict about everything else.
    #[test]
    fn bad_sizes() {
        rejects(b"\r\n", ErrorKind::InvalidChunkSize, 0);
        rejects(b"g\r\n", ErrorKind::InvalidChunkSize, 0);
        rejects(b"0x5\r\n", ErrorKind::InvalidChunkSize, 1);
        rejects(b"-1\r\n", ErrorKind::InvalidChunkSize, 0);
        rejects(b"+1\r\n", ErrorKind::InvalidChunkSize, 0);
        rejects(b" 1\r\n", ErrorKind::InvalidChunkSize, 0);
        rejects(b"1 x\r\n", ErrorKind::InvalidChunkSize, 2);
        rejects(b"fffffffffffffffff\r\n", ErrorKind::ChunkSizeOverflow, 16);
        rejects(b"10000000000000000\r\n", ErrorKind::ChunkSizeOverflow, 16);
        // 16 digits are fine (the size is only a promise of data to come)
        let mut dec = ChunkedDecoder::new();
        assert!(dec.decode(b"ffffffffffffffff\r\nab").is_ok());
        assert_eq!(dec.remaining_in_chunk(), u64::MAX - 2);
        // whitespace before ';' is BWS
        assert_eq!(decode(b"1 ;x\r\na\r\n0\r\n\r\n").unwrap().1, 1);
    }

    // RFC 9112 §7.1: CRLF only; bare LF and bare CR are errors.
    #[test]
    fn bare_line_endings() {
        rejects(b"1\na\r\n0\r\n\r\n", ErrorKind::BareLf, 1);
        rejects(b"1\rxa\r\n0\r\n\r\n", ErrorKind::BareCr, 1);
        rejects(b"1\r\na\n0\r\n\r\n", ErrorKind::BareLf, 4);
        rejects(b"1\r\na\rx0\r\n\r\n", ErrorKind::BareCr, 4);
        rejects(
            b"1\r\nab\r\n0\r\n\r\n",
            ErrorKind::InvalidChunkTerminator,
            4,
        );
        rejects(b"0\r\n\n", ErrorKind::BareLf, 3);
        rejects(b"0\r\nX: y\n\r\n", ErrorKind::BareLf, 7);
        rejects(b"1;a\nb\r\n", ErrorKind::BareLf, 3);
    }

    // RFC 9112 §7.1: chunk-size = 1*HEXDIG, so leading zeros do not make a
    // numeral too large; only significant digits count toward the 16 that fit
    // a u64, and the zeros count against the line bound (max_extension).
    #[test]
    fn leading_zeros_are_a_valid_numeral() {
        let (out, len, _) =
            decode(b"00000000000000001\r\na\r\n0000000000000000000\r\n\r\n").unwrap();
        assert_eq!(&out[..len], b"a");
        let mut dec = ChunkedDecoder::new();
        assert!(dec.decode(b"0000ffffffffffffffff\r\n").is_ok());
        assert_eq!(dec.remaining_in_chunk(), u64::MAX);
        let limits = ChunkedLimits {
            max_extension: 4,
            ..ChunkedLimits::DEFAULT
        };
        let mut dec = ChunkedDecoder::with_limits(limits);
        assert!(dec.decode(b"000001\r\n").is_ok());
        let mut dec = ChunkedDecoder::with_limits(limits);
        assert_eq!(
            dec.decode(b"0000001\r\n"),
            Err(Error {
                kind: ErrorKind::ChunkSizeOverflow,
                offset: 5
            })
        );
    }

    // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
    // chunk-ext-name = token, chunk-ext-val = token / quoted-string (RFC 9110 §5.6.4).
    #[test]
    fn extension_grammar() {
        for ok in [
            &b"1;a\r\nx\r\n0\r\n\r\n"[..],
            b"1;a=b\r\nx\r\n0\r\n\r\n",
            b"1;a=b;c;d=e\r\nx\r\n0\r\n\r\n",
            b"1 ; a = b ; c\r\nx\r\n0\r\n\r\n",
            b"1;a=\"\"\r\nx\r\n0\r\n\r\n",
            b"1;a=\"b c;d=e\"\r\nx\r\n0\r\n\r\n",
            b"1;a=\"q\\\"x\\\\\";b\r\nx\r\n0\r\n\r\n",
            b"1;a=\"\xff\"\r\nx\r\n0;last=\"y\"\r\n\r\n",
            b"1;a=\"v\" ;b\r\nx\r\n0\r\n\r\n",
        ] {
            let (out, len, _) =
                decode(ok).unwrap_or_else(|e| panic!("{e:?} {:?}", core::str::from_utf8(ok)));
            assert_eq!(&out[..len], b"x");
        }
        let ext = ErrorKind::InvalidChunkExtension;
        rejects(b"2;\r\nab\r\n", ext, 2); // no name
        rejects(b"5;=x\r\n", ext, 2); // no name before "="
        rejects(b"5;a=b c\r\n", ext, 6); // a value of two words
        rejects(b"5;a=\"b\r\n", ext, 6); // unterminated quoted string
        rejects(b"5;x=\"abc; def\r\nhello\r\n", ext, 13); // quoted string runs into CR
        rejects(b"5;a=\r\n", ext, 4); // "=" without a value
        rejects(b"5;a b\r\n", ext, 4); // two names
        rejects(b"5;a \r\n", ext, 4); // BWS only before ";" or "="
        rejects(b"5;a=b \r\n", ext, 6);
        rejects(b"5;a=\"b\"c\r\n", ext, 7); // junk after a quoted string
        rejects(b"5;a@b\r\n", ext, 3); // not a tchar
        rejects(b"5;a=b@\r\n", ext, 5);
        rejects(b"5;a=\"\x7f\"\r\n", ext, 5); // DEL is not qdtext
        rejects(b"5;a=\"\\\x01\"\r\n", ext, 6); // nor can it be quoted
        rejects(b"5;a=\"b\nc\"\r\n", ErrorKind::BareLf, 6);
        rejects(b"5 x\r\n", ErrorKind::InvalidChunkSize, 2);
    }

    /// Every split of a chunked body with extensions gives the same outcome as
    /// the whole: the extension grammar is as resumable as the rest.
    #[test]
    fn extension_grammar_under_splits() {
        for input in [
            &b"1 ; a = \"q\\\"x\" ;b=c\r\nx\r\n0\r\n\r\n"[..],
            b"5;x=\"abc; def\r\nhello\r\n",
            b"0000001;a\r\nx\r\n0\r\n\r\n",
        ] {
            let mut out = [0u8; 16];
            let mut len = 0;
            let whole = decode_all(&mut ChunkedDecoder::new(), input, &mut out, &mut len);
            for cut in 1..input.len() {
                let mut dec = ChunkedDecoder::new();
                let mut out2 = [0u8; 16];
                let mut len2 = 0;
                let first = decode_all(&mut dec, &input[..cut], &mut out2, &mut len2);
                let split = first.and_then(|(used, done)| {
                    if done {
                        return Ok((used, done));
                    }
                    let (more, done) = decode_all(&mut dec, &input[used..], &mut out2, &mut len2)?;
                    Ok((used + more, done))
                });
                assert_eq!(split, whole, "cut at {cut}");
                assert_eq!(out2[..len2], out[..len]);
            }
        }
    }

    #[test]
    fn extension_rules() {
        rejects(b"1;a\x00\r\n", ErrorKind::InvalidChunkExtension, 3);
        let limits = ChunkedLimits {
            max_extension: 4,
            ..ChunkedLimits::DEFAULT
        };
        let mut dec = ChunkedDecoder::with_limits(limits);
        assert!(dec.decode(b"1;abc\r\n").is_ok());
        let mut dec = ChunkedDecoder::with_limits(limits);
        assert_eq!(
            dec.decode(b"1;abcd\r\n"),
            Err(Error {
                kind: ErrorKind::ChunkExtensionTooLong,
                offset: 6
            })
        );
    }

    #[test]
    fn trailer_rules() {
        rejects(b"0\r\nX : y\r\n\r\n", ErrorKind::WhitespaceBeforeColon, 4);
        rejects(b"0\r\nX y\r\n\r\n", ErrorKind::MissingColon, 4);
        rejects(b"0\r\nXy\r\n\r\n", ErrorKind::MissingColon, 5);
        rejects(b"0\r\nX: y\r\n z\r\n\r\n", ErrorKind::ObsFold, 9);
        rejects(b"0\r\nX: \x01\r\n\r\n", ErrorKind::InvalidHeaderValue, 6);
        rejects(b"0\r\n: y\r\n\r\n", ErrorKind::InvalidHeaderName, 3);
        let limits = ChunkedLimits {
            max_trailer: 8,
            ..ChunkedLimits::DEFAULT
        };
        let mut dec = ChunkedDecoder::with_limits(limits);
        assert_eq!(
            dec.decode(b"0\r\nXXXX: y\r\n\r\n"),
            Err(Error {
                kind: ErrorKind::TrailerSectionTooLarge,
                offset: 11
            })
        );
    }

    #[test]
    fn errors_are_sticky_and_offsets_absolute() {
        let mut dec = ChunkedDecoder::new();
        assert!(dec.decode(b"2\r\n").is_ok());
        let c = dec.decode(b"ab\r").unwrap();
        assert_eq!((c.data, c.consumed), (0..2, 2));
        // the CR was not consumed with the data: present it again
        let c = dec.decode(b"\r").unwrap();
        assert_eq!(c.consumed, 1);
        let e = dec.decode(b"x");
        assert_eq!(
            e,
            Err(Error {
                kind: ErrorKind::BareCr,
                offset: 5
            })
        );
        assert_eq!(dec.decode(b"\n"), e);
    }
}
