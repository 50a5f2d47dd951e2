//! The field section (headers) shared by requests, responses and trailers,
//! and the framing facts collected from it in the same pass.

use crate::chars::{skip_field_content, tchar, valid_host};
use crate::{Error, ErrorKind, Header, Span};

/// Where the scanner stands inside the field section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// At the first byte of a field line, or of the blank line ending the section.
    LineStart,
    /// Inside a field name.
    Name,
    /// Whitespace after a field name (the line is already invalid): the next
    /// other byte tells which error it is, a colon (whitespace before the
    /// colon) or anything else (no colon). `name_end` holds the offset of the
    /// first whitespace byte.
    NameWs,
    /// After the colon, skipping optional whitespace.
    Ows,
    /// Inside a field value.
    Value,
    /// Saw CR ending a field line; LF must follow.
    ValueCr,
    /// Saw CR at the start of a line; LF must follow and ends the section.
    FinalCr,
}

/// Settings the field scanner needs (copied from the parser's `Limits`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldConfig {
    pub max_line: u32,
    pub allow_bare_lf: bool,
    /// Apply the request-only rules (Host must be single and valid, RFC 9112 §3.2).
    pub request: bool,
}

/// Incremental scanner for `*( field-line CRLF ) CRLF` (RFC 9112 §5).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSection {
    phase: Phase,
    line_start: u32,
    name_end: u32,
    value_start: u32,
    /// The line scanner found no control byte from the line's start up to
    /// here (set when the input ends inside a line: the slow path then need
    /// not read those bytes again). Meaningful only while above the current
    /// line's start; the buffer may grow but keeps its bytes.
    clean_to: u32,
    /// Field lines seen so far (= headers written).
    pub count: u32,
    /// Framing facts gathered so far.
    pub facts: Facts,
}

impl FieldSection {
    pub(crate) const fn new() -> Self {
        FieldSection {
            phase: Phase::LineStart,
            line_start: 0,
            name_end: 0,
            value_start: 0,
            clean_to: 0,
            count: 0,
            facts: Facts::new(),
        }
    }

    /// Steps over the bytes of `buf[p..]` that only extend the field name or
    /// value being read, and a value's CR if it is the last byte, as the full
    /// scan would (but byte by byte and without its set-up: for input that
    /// arrives a few bytes at a time). Returns where it stopped.
    #[inline(always)]
    pub(crate) fn trickle(&mut self, buf: &[u8], mut p: usize, max_line: usize) -> usize {
        let limit = buf.len().min(self.line_start as usize + max_line);
        // The last byte tells whether the new bytes can all be stepped over
        // here; if not (the line ends in them, most often), the full scan
        // has them all.
        let Some(&last) = buf.last() else {
            return p;
        };
        match self.phase {
            Phase::Name if tchar(last) => {
                while p < limit && tchar(buf[p]) {
                    p += 1;
                }
            }
            Phase::Value if !matches!(last, 0..=0x1f | 0x7f) || last == b'\r' => {
                // Field content but HTAB (left to the full scan).
                while p < limit && !matches!(buf[p], 0..=0x1f | 0x7f) {
                    p += 1;
                }
                // The line's CR, last: LF must follow.
                if p + 1 == buf.len() && last == b'\r' {
                    self.phase = Phase::ValueCr;
                    p += 1;
                }
            }
            _ => {}
        }
        p
    }

    /// Offset of the current (or last) line's first byte.
    pub(crate) fn line_start(&self) -> usize {
        self.line_start as usize
    }

    /// Marks where the section starts (right after the start line).
    pub(crate) fn start_at(&mut self, pos: usize) {
        self.line_start = pos as u32;
    }

    /// Scans `buf[*pos..end]`. Returns `Ok(true)` once the blank line that ends
    /// the section has been consumed (`*pos` is then just past it).
    ///
    /// Ordinary whole lines are read here, each in one SIMD pass; anything
    /// else (a line the input ends inside, a line resumed from an earlier
    /// call, HTAB in a value, a bare LF, any error) goes to [`Self::slow_line`],
    /// out of line, one line at a time.
    #[inline(always)]
    pub(crate) fn scan(
        &mut self,
        buf: &[u8],
        pos: &mut usize,
        end: usize,
        headers: &mut [Header],
        cfg: FieldConfig,
    ) -> Result<bool, Error> {
        // From here on `end == buf.len()`, which lets the compiler drop most
        // bounds checks.
        let buf = buf.get(..end).unwrap_or(buf);
        let end = buf.len();
        let mut p = *pos;
        let max_line = cfg.max_line as usize;
        let mut count = self.count as usize;
        let mut resumed = self.phase != Phase::LineStart;
        let result = loop {
            if !resumed {
                let Some(&b) = buf.get(p) else {
                    break Ok(false);
                };
                if tchar(b) {
                    // A whole, ordinary line: one pass finds the colon and the CR.
                    if let Some(line) =
                        whole_line(buf, p, end.min(p + max_line), &mut self.clean_to)
                    {
                        if let Err(e) = self.finish_line(buf, line, headers, &mut count, cfg) {
                            self.line_start = p as u32;
                            break Err(e);
                        }
                        p = line.end + 2;
                        continue;
                    }
                } else if b == b'\r' && buf.get(p + 1) == Some(&b'\n') {
                    // The blank line ending the section.
                    self.line_start = p as u32;
                    p += 2;
                    break Ok(true);
                }
                self.phase = Phase::LineStart;
                self.line_start = p as u32;
            }
            resumed = false;
            self.count = count as u32;
            let slow = self.slow_line(buf, p, headers, cfg);
            count = self.count as usize;
            match slow {
                Slow::Line(next) => p = next,
                Slow::More(at) => {
                    p = at;
                    break Ok(false);
                }
                Slow::Done(at) => {
                    p = at;
                    break Ok(true);
                }
                Slow::Failed(e) => break Err(e),
            }
        };
        self.count = count as u32;
        *pos = p;
        result
    }

    /// One field line (or the blank line ending the section) through the
    /// resumable phases, from `self.phase` at `p`: a line that is not whole
    /// and ordinary. Knows every rule and error, and resumes where an earlier
    /// call stopped. A line taken from its start begins in the phase where
    /// one SIMD pass ([`line_parts`]) found its first control byte; the
    /// phases read byte by byte (values sixteen at a time) from there.
    /// Without SIMD it goes on to the next line itself.
    ///
    /// The phases are tested in the order a line goes through them, on local
    /// copies of the state, written back once.
    #[inline(never)]
    fn slow_line(
        &mut self,
        buf: &[u8],
        mut p: usize,
        headers: &mut [Header],
        cfg: FieldConfig,
    ) -> Slow {
        let end = buf.len();
        let max_line = cfg.max_line as usize;
        let mut phase = self.phase;
        let mut line_start = self.line_start as usize;
        let mut name_end = self.name_end as usize;
        let mut value_start = self.value_start as usize;
        let mut count = self.count as usize;
        let result = 'line: loop {
            if phase == Phase::LineStart {
                let Some(&b) = buf.get(p) else {
                    break 'line Slow::More(p);
                };
                line_start = p;
                if tchar(b) {
                    // Straight to the first byte that needs a look, if the
                    // line's start is ordinary; else byte by byte from here.
                    (phase, p, name_end, value_start) =
                        line_parts(buf, p, end.min(p + max_line), self.clean_to as usize)
                            .unwrap_or((Phase::Name, p + 1, name_end, value_start));
                    if p >= end {
                        break 'line Slow::More(p);
                    }
                } else if b == b'\r' {
                    phase = Phase::FinalCr;
                    p += 1;
                } else {
                    match line_start_error(buf, p, cfg) {
                        // A bare LF ending the section, where allowed.
                        Ok(()) => break 'line Slow::Done(p + 1),
                        Err(e) => break 'line Slow::Failed(e),
                    }
                }
            }
            // Where this line must end by (the line-length limit).
            let limit = end.min(line_start + max_line);
            if phase == Phase::Name {
                p = skip_name(buf, p, limit);
                let Some(&b) = buf.get(p) else {
                    break 'line Slow::More(p);
                };
                if b != b':' || p >= limit {
                    if p >= limit {
                        break 'line Slow::Failed(Error::new(ErrorKind::HeaderLineTooLong, p));
                    }
                    if !matches!(b, b' ' | b'\t') {
                        break 'line Slow::Failed(name_error(b, p));
                    }
                    name_end = p;
                    phase = Phase::NameWs;
                } else {
                    name_end = p;
                    phase = Phase::Ows;
                    p += 1;
                }
            }
            if phase == Phase::NameWs {
                match name_ws_error(buf, p, limit, name_end) {
                    Ok(at) => break 'line Slow::More(at),
                    Err(e) => break 'line Slow::Failed(e),
                }
            }
            if phase == Phase::Ows {
                while let Some(b' ' | b'\t') = buf.get(p) {
                    p += 1;
                }
                if p >= end {
                    break 'line Slow::More(p);
                }
                value_start = p;
                phase = Phase::Value;
            }
            let line_end = if phase == Phase::Value {
                p = skip_field_content(buf, p, limit);
                if buf.get(p..p + 2) == Some(b"\r\n") {
                    // The usual end of a line.
                    p += 2;
                    p - 2
                } else if p >= end {
                    // The input ends inside the value.
                    break 'line Slow::More(p);
                } else {
                    match value_end(buf, p, limit, cfg) {
                        Ok(ValueEnd::More(at, next)) => {
                            phase = next;
                            break 'line Slow::More(at);
                        }
                        Ok(ValueEnd::Line(at, next)) => {
                            p = next;
                            at
                        }
                        Err(e) => break 'line Slow::Failed(e),
                    }
                }
            } else if phase == Phase::ValueCr {
                let Some(&b) = buf.get(p) else {
                    break 'line Slow::More(p);
                };
                if b != b'\n' {
                    break 'line Slow::Failed(Error::new(ErrorKind::BareCr, p - 1));
                }
                p += 1;
                p - 2
            } else {
                // Phase::FinalCr
                let Some(&b) = buf.get(p) else {
                    break 'line Slow::More(p);
                };
                if b != b'\n' {
                    break 'line Slow::Failed(Error::new(ErrorKind::BareCr, p - 1));
                }
                break 'line Slow::Done(p + 1);
            };
            let line = Line {
                start: line_start,
                name_end,
                value_start,
                end: line_end,
            };
            if let Err(e) = self.finish_line(buf, line, headers, &mut count, cfg) {
                break 'line Slow::Failed(e);
            }
            phase = Phase::LineStart;
            if crate::chars::HAS_SIMD {
                // The fast loop takes the next line if it is ordinary.
                break 'line Slow::Line(p);
            }
            // Without SIMD there is no fast loop: the next line here too.
        };
        self.phase = phase;
        self.line_start = line_start as u32;
        self.name_end = name_end as u32;
        self.value_start = value_start as u32;
        self.count = count as u32;
        result
    }

    /// A complete field line: store it and learn from it.
    #[inline(always)]
    fn finish_line(
        &mut self,
        buf: &[u8],
        line: Line,
        headers: &mut [Header],
        count: &mut usize,
        cfg: FieldConfig,
    ) -> Result<(), Error> {
        // Trailing whitespace is not part of the value (RFC 9112 §5.1).
        let start = line.value_start;
        let mut value_end = line.end;
        // A value holds no control byte but HTAB, so `<= SP` means SP or HTAB.
        if value_end > start && buf[value_end - 1] <= b' ' {
            value_end = trim_end(buf, start, value_end);
        }
        let Some(slot) = headers.get_mut(*count) else {
            return Err(Error::new(ErrorKind::TooManyHeaders, line.start));
        };
        *slot = Header {
            name: Span::new(line.start, line.name_end),
            value: Span::new(start, value_end),
        };
        *count += 1;
        let name = &buf[line.start..line.name_end];
        self.facts
            .learn(name, &buf[start..value_end], line.start, start, cfg.request)?;
        Ok(())
    }
}

/// A field line that is all in `buf` and ordinary: name, colon, SP
/// (optional), a value with no HTAB, CRLF. Found in one SIMD pass; `None`
/// sends the line through the phases above, which look at it again (only
/// this line, and only once) and know every rule and error. That happens for
/// a line the input ends inside, a value holding HTAB, a line over the
/// limit, or any error.
#[inline(always)]
fn whole_line(buf: &[u8], p: usize, limit: usize, clean_to: &mut u32) -> Option<Line> {
    if !crate::chars::HAS_SIMD {
        return None;
    }
    let (colon, cr, odd) = crate::chars::simd::scan_line(buf, p, limit, clean_to)?;
    // The first control byte must be the CR of CRLF (HTAB takes the long way).
    if buf.get(cr + 1) != Some(&b'\n') || buf[cr] != b'\r' {
        // HTAB, a CR the input ends at, a bad byte...: the slow path need
        // not read up to it again.
        *clean_to = cr as u32;
        return None;
    }
    // Name bytes: letters, digits and '-' were checked in the pass; any
    // other byte before the colon must be a tchar.
    if odd < colon && !buf[odd..colon].iter().all(|&b| tchar(b)) {
        return None;
    }
    // OWS: only SP can be there (HTAB would have been the first control byte).
    let mut value_start = colon + 1;
    while value_start < cr && buf[value_start] == b' ' {
        value_start += 1;
    }
    Some(Line {
        start: p,
        name_end: colon,
        value_start,
        end: cr,
    })
}

/// For a line at `p` that [`whole_line`] did not take: if its name (and
/// colon) are in the first sixteen bytes, where the phases can go on from,
/// found in one SIMD pass instead of byte by byte: the phase, the offset,
/// the name's end and the value's start. Everything before that offset is
/// a valid name, colon, OWS and field content, and the phases read on from
/// there: the first control byte (HTAB in the value, CR of a line the input
/// ends inside, a bad byte) or the end of the input or line limit.
#[inline(always)]
fn line_parts(
    buf: &[u8],
    p: usize,
    limit: usize,
    clean_to: usize,
) -> Option<(Phase, usize, usize, usize)> {
    if !crate::chars::HAS_SIMD {
        return None;
    }
    let (colon, stop, odd) = crate::chars::simd::line_parts(buf, p, limit, clean_to)?;
    if odd < colon && !buf[odd..colon].iter().all(|&b| tchar(b)) {
        return None;
    }
    if colon >= stop {
        // A name the input ends inside (`colon == stop == limit`), unless
        // a control byte comes before the colon (left to the phases).
        return (colon == limit && limit == buf.len()).then_some((Phase::Name, limit, 0, 0));
    }
    let mut value_start = colon + 1;
    while value_start < stop && buf[value_start] == b' ' {
        value_start += 1;
    }
    let phase = if value_start < stop {
        Phase::Value
    } else {
        Phase::Ows
    };
    Some((phase, stop, colon, value_start))
}

/// Where a field line's parts are.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    name_end: usize,
    value_start: usize,
    /// The CR (or bare LF) ending the line.
    end: usize,
}

/// The end of the value once trailing SP / HTAB are dropped.
#[cold]
#[inline(never)]
fn trim_end(buf: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(buf[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    end
}

/// A line starts with neither a name nor CR: a bare LF ending the section
/// (`Ok` where allowed), or the error for it.
#[cold]
#[inline(never)]
fn line_start_error(buf: &[u8], p: usize, cfg: FieldConfig) -> Result<(), Error> {
    match buf[p] {
        b'\n' if cfg.allow_bare_lf => Ok(()),
        b'\n' => Err(Error::new(ErrorKind::BareLf, p)),
        // RFC 9112 §5.2: obs-fold; §2.2: whitespace before the first field.
        // Both are rejected (the permitted choice).
        b' ' | b'\t' => Err(Error::new(ErrorKind::ObsFold, p)),
        _ => Err(Error::new(ErrorKind::InvalidHeaderName, p)),
    }
}

/// How [`FieldSection::slow_line`] ends.
enum Slow {
    /// A field line is done; the next starts at this offset.
    Line(usize),
    /// The input ran out at this offset.
    More(usize),
    /// The section is done; the message body starts at this offset.
    Done(usize),
    /// An error.
    Failed(Error),
}

/// How a value that did not end in CRLF right away goes on.
enum ValueEnd {
    /// The input ran out: resume at this offset in this phase.
    More(usize, Phase),
    /// The line ended: the CR (or bare LF) is at the first offset, the next
    /// line starts at the second.
    Line(usize, usize),
}

/// The end of a value after the fast scan stopped at `p` on something other
/// than CRLF: HTAB (allowed; scan on), CR at the end of the input, bare LF,
/// the line limit, or a byte not allowed in a value.
#[inline(always)]
fn value_end(buf: &[u8], mut p: usize, limit: usize, cfg: FieldConfig) -> Result<ValueEnd, Error> {
    let end = buf.len();
    loop {
        // HTAB is the one control byte allowed inside a value.
        while p < limit && buf[p] == b'\t' {
            p = skip_field_content(buf, p + 1, limit);
        }
        if p >= limit {
            if limit >= end {
                return Ok(ValueEnd::More(p, Phase::Value));
            }
            if !matches!(buf[p], b'\r' | b'\n') {
                return Err(Error::new(ErrorKind::HeaderLineTooLong, p));
            }
        }
        return match buf[p] {
            b'\r' => match buf.get(p + 1) {
                None => Ok(ValueEnd::More(p + 1, Phase::ValueCr)),
                Some(b'\n') => Ok(ValueEnd::Line(p, p + 2)),
                Some(_) => Err(Error::new(ErrorKind::BareCr, p)),
            },
            b'\n' if cfg.allow_bare_lf => Ok(ValueEnd::Line(p, p + 1)),
            b'\n' => Err(Error::new(ErrorKind::BareLf, p)),
            b'\t' => continue,
            _ => Err(Error::new(ErrorKind::InvalidHeaderValue, p)),
        };
    }
}

/// The error for a field name that stopped at byte `b` (offset `p`), not at
/// a colon nor at whitespace (see [`name_ws_error`]).
#[cold]
#[inline(never)]
fn name_error(b: u8, p: usize) -> Error {
    match b {
        // `field-line = field-name ":" ...`: the line ends with no colon.
        b'\r' | b'\n' => Error::new(ErrorKind::MissingColon, p),
        _ => Error::new(ErrorKind::InvalidHeaderName, p),
    }
}

/// Whitespace after a field name, from `p` on (the first whitespace byte is at
/// `ws_at`): a colon after it is whitespace before the colon (RFC 9112 §5.1:
/// MUST 400), anything else a line without a colon. `Ok(p)` when the input
/// ends first: which error it is depends on bytes still to come.
#[cold]
#[inline(never)]
fn name_ws_error(buf: &[u8], mut p: usize, limit: usize, ws_at: usize) -> Result<usize, Error> {
    while p < limit && matches!(buf[p], b' ' | b'\t') {
        p += 1;
    }
    match buf.get(p) {
        None => Ok(p),
        Some(_) if p >= limit => Err(Error::new(ErrorKind::HeaderLineTooLong, p)),
        Some(b':') => Err(Error::new(ErrorKind::WhitespaceBeforeColon, ws_at)),
        Some(_) => Err(Error::new(ErrorKind::MissingColon, ws_at)),
    }
}

/// Offset of the first non-`tchar` byte in `buf[p..limit]`, or `limit`.
/// Four bytes per step: names are short, so the loop overhead matters.
#[inline(always)]
fn skip_name(buf: &[u8], mut p: usize, limit: usize) -> usize {
    // Letters, digits and `-` sixteen at a time; the table loop takes the
    // other tchars and the tail.
    if crate::chars::HAS_SIMD && p + 16 <= limit {
        p = crate::chars::simd::skip_name(buf, p, limit);
    }
    while let Some(&[a, b, c, d]) = buf.get(p..p + 4).filter(|_| p + 4 <= limit) {
        if !tchar(a) {
            return p;
        }
        if !tchar(b) {
            return p + 1;
        }
        if !tchar(c) {
            return p + 2;
        }
        if !tchar(d) {
            return p + 3;
        }
        p += 4;
    }
    while p < limit && tchar(buf[p]) {
        p += 1;
    }
    p
}

/// Transfer-Encoding as understood so far (RFC 9112 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TransferEncoding {
    /// Offset of the (last) Transfer-Encoding field line.
    pub offset: u32,
    /// Number of `chunked` codings seen.
    pub chunked: u8,
    /// The last coding seen was `chunked`.
    pub last_is_chunked: bool,
    /// A coding other than chunked was seen.
    pub other: bool,
}

/// What the field section says about framing and connection handling,
/// packed small: it is cleared for every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The Content-Length value, when `flags` has `CONTENT_LENGTH`.
    length: u64,
    /// The (first) Host value, when `hosts` > 0.
    host: Span,
    /// Offset of the (last) Transfer-Encoding line, when `flags` has `TE`.
    te_offset: u32,
    flags: u16,
    /// Number of `chunked` codings seen.
    te_chunked: u8,
    /// Number of Host fields seen (saturating).
    pub hosts: u8,
}

const CONTENT_LENGTH: u16 = 1 << 0;
const TE: u16 = 1 << 1;
const TE_LAST_CHUNKED: u16 = 1 << 2;
const TE_OTHER: u16 = 1 << 3;
const CLOSE: u16 = 1 << 4;
const KEEP_ALIVE: u16 = 1 << 5;
const UPGRADE_TOKEN: u16 = 1 << 6;
const UPGRADE_FIELD: u16 = 1 << 7;
const EXPECT_CONTINUE: u16 = 1 << 8;
const EXPECT_OTHER: u16 = 1 << 9;
const DATE: u16 = 1 << 10;

impl Facts {
    pub(crate) const fn new() -> Self {
        Facts {
            length: 0,
            host: Span::EMPTY,
            te_offset: 0,
            flags: 0,
            te_chunked: 0,
            hosts: 0,
        }
    }

    #[inline(always)]
    fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    /// Content-Length, if the section had one.
    #[inline(always)]
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.has(CONTENT_LENGTH).then_some(self.length)
    }

    /// Transfer-Encoding as understood, if the section had one.
    #[inline(always)]
    pub(crate) fn transfer_encoding(&self) -> Option<TransferEncoding> {
        self.has(TE).then_some(TransferEncoding {
            offset: self.te_offset,
            chunked: self.te_chunked,
            last_is_chunked: self.has(TE_LAST_CHUNKED),
            other: self.has(TE_OTHER),
        })
    }

    /// Whether a Transfer-Encoding field was seen.
    #[inline(always)]
    pub(crate) fn has_transfer_encoding(&self) -> bool {
        self.has(TE)
    }

    /// `Connection: close`.
    #[inline(always)]
    pub(crate) fn close(&self) -> bool {
        self.has(CLOSE)
    }

    /// `Connection: keep-alive`.
    #[inline(always)]
    pub(crate) fn keep_alive(&self) -> bool {
        self.has(KEEP_ALIVE)
    }

    /// `Connection: upgrade` and an `Upgrade` field.
    #[inline(always)]
    pub(crate) fn upgrade(&self) -> bool {
        self.flags & (UPGRADE_TOKEN | UPGRADE_FIELD) == UPGRADE_TOKEN | UPGRADE_FIELD
    }

    /// `Expect: 100-continue`.
    #[inline(always)]
    pub(crate) fn expect_continue(&self) -> bool {
        self.has(EXPECT_CONTINUE)
    }

    /// An `Expect` other than 100-continue.
    #[inline(always)]
    pub(crate) fn expect_other(&self) -> bool {
        self.has(EXPECT_OTHER)
    }

    /// A `Date` field.
    #[inline(always)]
    pub(crate) fn date(&self) -> bool {
        self.has(DATE)
    }

    /// The Host value, if there was one.
    #[inline(always)]
    pub(crate) fn host(&self) -> Option<Span> {
        (self.hosts > 0).then_some(self.host)
    }

    /// Learns from one field line; `at` is the line's offset and `value_at` the
    /// value's, used in errors.
    #[inline(always)]
    fn learn(
        &mut self,
        name: &[u8],
        value: &[u8],
        at: usize,
        value_at: usize,
        request: bool,
    ) -> Result<(), Error> {
        // Dispatch on length first: most fields are none of these.
        match name.len() {
            14 if eq_lower(name, b"content-length") => self.learn_content_length(value, at),
            17 if eq_lower(name, b"transfer-encoding") => self.learn_transfer_encoding(value, at),
            10 if eq_lower(name, b"connection") => {
                self.connection(value);
                Ok(())
            }
            4 if request && eq_lower(name, b"host") => {
                self.hosts = self.hosts.saturating_add(1);
                if self.hosts > 1 {
                    return Err(Error::new(ErrorKind::DuplicateHost, at));
                }
                if let Err(i) = valid_host(value) {
                    return Err(Error::new(ErrorKind::InvalidHost, value_at + i));
                }
                self.host = Span::new(value_at, value_at + value.len());
                Ok(())
            }
            6 if eq_lower(name, b"expect") => {
                if value.eq_ignore_ascii_case(b"100-continue") {
                    self.flags |= EXPECT_CONTINUE;
                } else {
                    self.flags |= EXPECT_OTHER;
                }
                Ok(())
            }
            7 if eq_lower(name, b"upgrade") => {
                self.flags |= UPGRADE_FIELD;
                Ok(())
            }
            4 if eq_lower(name, b"date") => {
                self.flags |= DATE;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// `Connection = #connection-option` (RFC 9110 §7.6.1): the options that
    /// decide persistence and upgrades; the usual single values go first.
    fn connection(&mut self, value: &[u8]) {
        if eq_lower(value, b"keep-alive") {
            self.flags |= KEEP_ALIVE;
            return;
        }
        if eq_lower(value, b"close") {
            self.flags |= CLOSE;
            return;
        }
        for token in list_elements(value) {
            if eq_lower(token, b"close") {
                self.flags |= CLOSE;
            } else if eq_lower(token, b"keep-alive") {
                self.flags |= KEEP_ALIVE;
            } else if eq_lower(token, b"upgrade") {
                self.flags |= UPGRADE_TOKEN;
            }
        }
    }

    /// `Content-Length = 1*DIGIT`; a list of identical values is folded
    /// (RFC 9110 §8.6), differing values are an error (RFC 9112 §6.3 rule 5).
    fn learn_content_length(&mut self, value: &[u8], at: usize) -> Result<(), Error> {
        if self.has(TE) {
            return Err(Error::new(ErrorKind::ContentLengthWithTransferEncoding, at));
        }
        let mut seen = false;
        for element in value.split(|&b| b == b',') {
            let element = trim_ows(element);
            let n =
                parse_decimal(element).ok_or(Error::new(ErrorKind::InvalidContentLength, at))?;
            if self.has(CONTENT_LENGTH) && self.length != n {
                return Err(Error::new(ErrorKind::ConflictingContentLength, at));
            }
            self.length = n;
            self.flags |= CONTENT_LENGTH;
            seen = true;
        }
        if !seen {
            return Err(Error::new(ErrorKind::InvalidContentLength, at));
        }
        Ok(())
    }

    /// `Transfer-Encoding = #transfer-coding` (RFC 9112 §6.1); the verdict on
    /// the whole list is given once the section ends, in
    /// [`Facts::check_request_transfer_encoding`] (requests) or by the response's
    /// framing rules.
    fn learn_transfer_encoding(&mut self, value: &[u8], at: usize) -> Result<(), Error> {
        if self.has(CONTENT_LENGTH) {
            return Err(Error::new(ErrorKind::ContentLengthWithTransferEncoding, at));
        }
        let mut te = self.transfer_encoding().unwrap_or_default();
        te.offset = at as u32;
        // Several Transfer-Encoding lines are one list (RFC 9110 §5.3), and
        // empty elements are ignored wherever they stand (§5.6.1), so an empty
        // line followed by `chunked` is the list `, chunked`: chunked. A list
        // with no coding at all is judged once the head is complete (no final
        // coding: request 400, response malformed).
        for element in value.split(|&b| b == b',') {
            let element = trim_ows(element);
            if element.is_empty() {
                continue; // RFC 9110 §5.6.1: empty list elements are ignored
            }
            // transfer-coding = token *( OWS ";" OWS transfer-parameter )
            let (coding, params) = match element.iter().position(|&b| b == b';') {
                Some(i) => (trim_ows(&element[..i]), Some(&element[i + 1..])),
                None => (element, None),
            };
            if coding.is_empty() || !coding.iter().all(|&b| tchar(b)) {
                return Err(Error::new(ErrorKind::InvalidTransferEncoding, at));
            }
            if coding.eq_ignore_ascii_case(b"chunked") {
                if params.is_some() {
                    // chunked takes no parameters (RFC 9112 §7)
                    return Err(Error::new(ErrorKind::InvalidTransferEncoding, at));
                }
                te.chunked = te.chunked.saturating_add(1);
                te.last_is_chunked = true;
            } else {
                te.last_is_chunked = false;
                te.other = true;
            }
        }
        self.te_offset = te.offset;
        self.te_chunked = te.chunked;
        self.flags &= !TE_LAST_CHUNKED;
        self.flags |= TE;
        if te.last_is_chunked {
            self.flags |= TE_LAST_CHUNKED;
        }
        if te.other {
            self.flags |= TE_OTHER;
        }
        Ok(())
    }

    /// The verdict on Transfer-Encoding for a request (RFC 9112 §6.1, §6.3):
    /// chunked must be final (400, a MUST), unknown codings get 501, chunked
    /// may appear only once, and no other coding is supported by this parser.
    pub(crate) fn check_request_transfer_encoding(&self) -> Result<(), Error> {
        if let Some(te) = self.transfer_encoding() {
            let at = te.offset as usize;
            if !te.last_is_chunked || te.chunked > 1 {
                return Err(Error::new(ErrorKind::InvalidTransferEncoding, at));
            }
            if te.other {
                return Err(Error::new(ErrorKind::UnsupportedTransferCoding, at));
            }
        }
        Ok(())
    }
}

/// Case-insensitive comparison of field bytes with a lower-case name made of
/// letters, digits and `-`. Setting bit 0x20 lower-cases a letter and leaves
/// `-` and digits alone; the only other bytes it maps onto those are CTLs
/// (0x0D to `-`, 0x10..=0x19 to digits), which never reach here (field names
/// are `tchar`, values have no CTL but HTAB), so the test is exact.
#[inline(always)]
fn eq_lower<const N: usize>(name: &[u8], lower: &[u8; N]) -> bool {
    // With N known this unrolls into a few word compares.
    let Ok(name) = <&[u8; N]>::try_from(name) else {
        return false;
    };
    let word = |s: &[u8], i: usize, n: usize| {
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&s[i..i + n]);
        u64::from_le_bytes(w)
    };
    let mut diff = 0;
    let mut i = 0;
    while i < N {
        let n = if N - i >= 8 { 8 } else { N - i };
        diff |= (word(name, i, n) | (0x2020_2020_2020_2020 >> (64 - 8 * n))) ^ word(lower, i, n);
        i += n;
    }
    diff == 0
}

/// Strips optional whitespace (SP / HTAB) at both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The non-empty, trimmed elements of a comma-separated list (RFC 9110 §5.6.1).
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// `1*DIGIT` into u64, None on an empty string, a non-digit or overflow.
pub(crate) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn decimal() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"0012"), Some(12));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b"+1"), None);
        assert_eq!(parse_decimal(b"1 "), None);
    }

    #[test]
    fn ows_trimming() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
    }
}
