//! The chunked transfer coding decoder (RFC 9112 §7.1): incremental,
//! allocation-free, returning the data ranges of the input in place.
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! trailer-section = *( field-line CRLF )
//! ```

use core::ops::Range;

use crate::chars::{field_vchar, tchar};
use crate::{Error, ErrorKind};

/// Limits of the chunked decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkedLimits {
    /// Longest chunk extension (everything between the size and its CRLF).
    /// Extensions are skipped, so only a bound keeps a peer from streaming an
    /// endless one (the chunk-extension DoS of CVE-2023-39326 and its kind).
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
    /// Whitespace after the size: only `;` may follow (BWS before an extension).
    SizeWs,
    /// Inside a chunk extension, skipped up to CR.
    Extension,
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
                        self.digits += 1;
                        if self.digits > 16 {
                            return Err((ErrorKind::ChunkSizeOverflow, base + p as u64));
                        }
                        self.size = (self.size << 4) | u64::from(v);
                    } else if self.digits == 0 {
                        return Err((ErrorKind::InvalidChunkSize, base + p as u64));
                    } else {
                        match b {
                            b';' => self.phase = Phase::Extension,
                            b' ' | b'\t' => self.phase = Phase::SizeWs,
                            b'\r' => self.phase = Phase::SizeCr,
                            b'\n' => return Err((ErrorKind::BareLf, base + p as u64)),
                            _ => return Err((ErrorKind::InvalidChunkSize, base + p as u64)),
                        }
                    }
                }
                Phase::SizeWs => match b {
                    b' ' | b'\t' => {}
                    b';' => self.phase = Phase::Extension,
                    _ => return Err((ErrorKind::InvalidChunkSize, base + p as u64)),
                },
                Phase::Extension => {
                    match b {
                        b'\r' => self.phase = Phase::SizeCr,
                        b'\n' => return Err((ErrorKind::BareLf, base + p as u64)),
                        b'\t' => {}
                        _ if b < 0x20 || b == 0x7f => {
                            return Err((ErrorKind::InvalidChunkExtension, base + p as u64))
                        }
                        _ => {}
                    }
                    self.extension += 1;
                    if self.extension > self.limits.max_extension {
                        return Err((ErrorKind::ChunkExtensionTooLong, base + p as u64));
                    }
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
                            return Err((ErrorKind::WhitespaceBeforeColon, base + p as u64))
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
        rejects(b"00000000000000001\r\n", ErrorKind::ChunkSizeOverflow, 16);
        rejects(b"fffffffffffffffff\r\n", ErrorKind::ChunkSizeOverflow, 16);
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
