//! Byte classes of the HTTP grammar, as 256-entry tables.

/// Builds a table from a `const fn` predicate, at compile time.
macro_rules! table {
    ($pred:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $pred(i as u8);
            i += 1;
        }
        t
    }};
}

/// ```text
/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
///         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA      ; RFC 9110 §5.6.2
/// ```
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// ```text
/// field-vchar = VCHAR / obs-text        ; RFC 9110 §5.5
/// obs-text    = %x80-FF
/// ```
/// SP and HTAB are handled apart (they may not end a value).
const fn is_field_vchar(b: u8) -> bool {
    matches!(b, 0x21..=0x7e | 0x80..=0xff)
}

/// Bytes allowed in a request-target: visible ASCII (RFC 9112 §3.2, RFC 3986).
/// Whitespace, CTLs and non-ASCII are refused; the finer URI grammar is the
/// application's business.
const fn is_target_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e)
}

/// ```text
/// Host = uri-host [ ":" port ]   ; RFC 9110 §7.2
/// uri-host: unreserved / pct-encoded / sub-delims, or an IP-literal in "[" "]"
/// ```
const fn is_host_char(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'%' |
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' |
        b':' | b'[' | b']')
}

pub(crate) static TCHAR: [bool; 256] = table!(is_tchar);
pub(crate) static FIELD_VCHAR: [bool; 256] = table!(is_field_vchar);
pub(crate) static TARGET: [bool; 256] = table!(is_target_char);
pub(crate) static HOST: [bool; 256] = table!(is_host_char);

#[inline(always)]
pub(crate) fn tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

#[inline(always)]
pub(crate) fn field_vchar(b: u8) -> bool {
    FIELD_VCHAR[b as usize]
}

#[inline(always)]
pub(crate) fn target_char(b: u8) -> bool {
    TARGET[b as usize]
}

#[inline(always)]
pub(crate) fn host_char(b: u8) -> bool {
    HOST[b as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_rfc_classes() {
        for b in 0u8..=255 {
            let visible = (0x21..=0x7e).contains(&b);
            let delimiter = b"\"(),/:;<=>?@[\\]{}".contains(&b);
            assert_eq!(tchar(b), visible && !delimiter, "tchar {b:#x}");
            assert_eq!(field_vchar(b), visible || b >= 0x80, "field-vchar {b:#x}");
            assert_eq!(target_char(b), visible, "target {b:#x}");
        }
    }
}

// ---------------------------------------------------------------------------
// SWAR (SIMD within a register): eight bytes per step, in safe code.
//
// `hasless(x, n)` sets the top bit of every byte of `x` that is below `n`
// (n <= 128): `(x - n*0x01..) & !x & 0x80..`. Borrows can also flag bytes
// *after* a flagged one, never before it, so the lowest flagged byte is exact —
// and that is the only one we use.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
const fn hasless(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LO * n as u64) & !x & HI
}

#[inline(always)]
const fn haszero(x: u64) -> u64 {
    hasless(x, 1)
}

/// Offset of the first byte in `buf[p..limit]` that can end a field value
/// or is not allowed in one: a CTL (HTAB, CR and LF included) or DEL.
/// SP and obs-text pass. Returns `limit` when there is none.
#[inline(always)]
pub(crate) fn skip_field_content(buf: &[u8], mut p: usize, limit: usize) -> usize {
    let limit = limit.min(buf.len());
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse2",
        not(feature = "no-simd")
    ))]
    if p + 16 <= limit {
        p = crate::simd::skip_field_content(buf, p, limit);
        if p + 16 <= limit {
            return p;
        }
    }
    while p + 8 <= limit {
        let Some(chunk) = buf.get(p..p + 8) else {
            break;
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let m = hasless(x, 0x20) | haszero(x ^ (LO * 0x7f));
        if m != 0 {
            return p + (m.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while p < limit && !matches!(buf[p], 0..=0x1f | 0x7f) {
        p += 1;
    }
    p
}

/// Offset of the first byte in `buf[p..limit]` that is not allowed in a
/// request-target (anything outside 0x21..=0x7E), or `limit`.
#[inline(always)]
pub(crate) fn skip_target(buf: &[u8], mut p: usize, limit: usize) -> usize {
    let limit = limit.min(buf.len());
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse2",
        not(feature = "no-simd")
    ))]
    if p + 16 <= limit {
        p = crate::simd::skip_target(buf, p, limit);
        if p + 16 <= limit {
            return p;
        }
    }
    while p + 8 <= limit {
        let Some(chunk) = buf.get(p..p + 8) else {
            break;
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let m = hasless(x, 0x21) | haszero(x ^ (LO * 0x7f)) | (x & HI);
        if m != 0 {
            return p + (m.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while p < limit && target_char(buf[p]) {
        p += 1;
    }
    p
}

#[cfg(test)]
mod swar_tests {
    use super::*;

    /// The word-at-a-time scanners agree with a byte loop at every alignment.
    #[test]
    fn swar_matches_bytewise() {
        let mut buf = [b'a'; 40];
        for special in 0u8..=255 {
            for at in 0..buf.len() {
                buf.fill(b'a');
                buf[at] = special;
                for start in 0..at.min(9) {
                    let want_field = if matches!(special, 0..=0x1f | 0x7f) {
                        at
                    } else {
                        buf.len()
                    };
                    assert_eq!(
                        skip_field_content(&buf, start, buf.len()),
                        want_field,
                        "{special:#x} at {at}"
                    );
                    let want_target = if target_char(special) { buf.len() } else { at };
                    assert_eq!(
                        skip_target(&buf, start, buf.len()),
                        want_target,
                        "{special:#x} at {at}"
                    );
                }
                assert_eq!(skip_field_content(&buf, 0, at), at);
            }
        }
    }
}
