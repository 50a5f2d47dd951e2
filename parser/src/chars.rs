//! Byte classes of the HTTP grammar, as 256-entry tables.

/// Builds a table from a `const fn` predicate, at compile time: of `bool`,
/// or of `u8` (0 / 1, so that several lookups combine with `&`).
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
    ($pred:ident as u8) => {{
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $pred(i as u8) as u8;
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

/// Bytes allowed in a request-target: visible ASCII (RFC 9112 §3.2, RFC 3986)
/// but `#`: a request-target never carries a fragment (origin-form is
/// `absolute-path [ "?" query ]`, absolute-form is `absolute-URI`, which has
/// none). Whitespace, CTLs and non-ASCII are refused; the finer URI grammar
/// is the application's business.
const fn is_target_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && b != b'#'
}

/// ```text
/// reg-name   = *( unreserved / pct-encoded / sub-delims )     ; RFC 3986 §3.2.2
/// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
/// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
/// ```
/// (`%` of pct-encoded is handled apart.)
const fn is_reg_name_char(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' |
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// Checks `Host = uri-host [ ":" port ]` (RFC 9110 §7.2; RFC 3986 §3.2.2,
/// §3.2.3: `port = *DIGIT`, IP-literal = `[` … `]`) in one pass. Returns the
/// offset of the first byte that breaks it.
#[inline(always)]
pub(crate) fn valid_host(v: &[u8]) -> Result<(), usize> {
    let mut i = 0;
    if v.first() == Some(&b'[') {
        // IP-literal = "[" ( IPv6address / IPvFuture ) "]": hex digits, ":",
        // "." and, for IPvFuture, unreserved / sub-delims.
        i = 1;
        while i < v.len() && (REG_NAME[v[i] as usize] != 0 || v[i] == b':') {
            i += 1;
        }
        if i == 1 || v.get(i) != Some(&b']') {
            return Err(i);
        }
        i += 1;
    } else {
        // Eight bytes per step while they are all plain reg-name bytes (the
        // usual host name), then byte by byte for `%`, `:` and the tail.
        while let Some(w) = v.get(i..i + 8) {
            let t = |b: u8| REG_NAME[b as usize];
            let all = t(w[0]) & t(w[1]) & t(w[2]) & t(w[3]) & t(w[4]) & t(w[5]) & t(w[6]) & t(w[7]);
            if all == 0 {
                break;
            }
            i += 8;
        }
        while i < v.len() {
            let b = v[i];
            if REG_NAME[b as usize] != 0 {
                i += 1;
            } else if b == b'%' {
                // pct-encoded = "%" HEXDIG HEXDIG
                let hex = |j: usize| v.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return Err(i);
                }
                i += 3;
            } else {
                break;
            }
        }
    }
    match v.get(i) {
        None => Ok(()),
        Some(b':') => match v[i + 1..].iter().position(|b| !b.is_ascii_digit()) {
            None => Ok(()),
            Some(j) => Err(i + 1 + j),
        },
        Some(_) => Err(i),
    }
}

/// Whether `version` is `HTTP/1.0` or `HTTP/1.1` (RFC 9112 §2.3): one word
/// compare. A slice of another length is not.
#[inline(always)]
pub(crate) fn http1_version(version: &[u8]) -> bool {
    let version = u64::from_le_bytes(version.try_into().unwrap_or([0; 8]));
    // The minor digit (byte 7) loses bit 0: "0" (0x30) and "1" (0x31) differ only there.
    version & !(1 << 56) == u64::from_le_bytes(*b"HTTP/1.0")
}

pub(crate) static TCHAR: [bool; 256] = table!(is_tchar);
pub(crate) static FIELD_VCHAR: [bool; 256] = table!(is_field_vchar);
pub(crate) static TARGET: [bool; 256] = table!(is_target_char);
static REG_NAME: [u8; 256] = table!(is_reg_name_char as u8);

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

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 9112 §3.2: a server MUST respond 400 to a Host with an invalid value.
    #[test]
    fn host_values() {
        for ok in [
            &b""[..],
            b"a",
            b"example.com",
            b"example.com:8080",
            b"example.com:",
            b"[::1]",
            b"[::1]:80",
            b"127.0.0.1:65535",
            b"xn--d1acufc.xn--p1ai",
            b"a%20b",
            b"a_b~c!$&'()*+,;=",
        ] {
            assert_eq!(valid_host(ok), Ok(()), "{:?}", core::str::from_utf8(ok));
        }
        for (bad, at) in [
            (&b"a b"[..], 1),
            (b"a:abc", 2),
            (b"a:80:90", 4),
            (b"[::1", 4),
            (b"[]", 1),
            (b"[::1]x", 5),
            (b"a]b", 1),
            (b"a[b", 1),
            (b"a%2", 1),
            (b"a%zz", 1),
            (b"a/b", 1),
            (b"a@b", 1),
            (b"a#b", 1),
            (b"[[::1]]", 1),
        ] {
            assert_eq!(valid_host(bad), Err(at), "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn tables_match_rfc_classes() {
        for b in 0u8..=255 {
            let visible = (0x21..=0x7e).contains(&b);
            let delimiter = b"\"(),/:;<=>?@[\\]{}".contains(&b);
            assert_eq!(tchar(b), visible && !delimiter, "tchar {b:#x}");
            assert_eq!(field_vchar(b), visible || b >= 0x80, "field-vchar {b:#x}");
            assert_eq!(target_char(b), visible && b != b'#', "target {b:#x}");
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
pub(crate) fn skip_field_content(buf: &[u8], p: usize, limit: usize) -> usize {
    let simd = simd::skip_field_content;
    skip_while(
        buf,
        p,
        limit,
        simd,
        |x| hasless(x, 0x20) | haszero(x ^ (LO * 0x7f)),
        |b| !matches!(b, 0..=0x1f | 0x7f),
    )
}

/// Offset of the first byte in `buf[p..limit]` that is not allowed in a
/// request-target (anything outside 0x21..=0x7E, and `#`), or `limit`.
#[inline(always)]
pub(crate) fn skip_target(buf: &[u8], p: usize, limit: usize) -> usize {
    let simd = simd::skip_target;
    skip_while(
        buf,
        p,
        limit,
        simd,
        |x| hasless(x, 0x21) | haszero(x ^ (LO * 0x7f)) | haszero(x ^ (LO * 0x23)) | (x & HI),
        target_char,
    )
}

/// The SIMD scanners where there are some; elsewhere stand-ins that are never
/// called (`HAS_SIMD` is false).
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "no-simd")
))]
pub(crate) use crate::simd;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "no-simd")
))]
pub(crate) const HAS_SIMD: bool = true;
#[cfg(not(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "no-simd")
)))]
pub(crate) const HAS_SIMD: bool = false;
#[cfg(not(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(feature = "no-simd")
)))]
pub(crate) mod simd {
    pub(crate) fn scan_line(
        _: &[u8],
        _: usize,
        _: usize,
        _: &mut u32,
    ) -> Option<(usize, usize, usize)> {
        None
    }
    pub(crate) fn line_parts(
        _: &[u8],
        _: usize,
        _: usize,
        _: usize,
    ) -> Option<(usize, usize, usize)> {
        None
    }
    pub(crate) fn skip_name(_: &[u8], p: usize, _: usize) -> usize {
        p
    }
    pub(crate) fn skip_field_content(_: &[u8], p: usize, _: usize) -> usize {
        p
    }
    pub(crate) fn skip_target(_: &[u8], p: usize, _: usize) -> usize {
        p
    }
}

/// The shared scanning loop: SIMD sixteen bytes at a time where there is a
/// SIMD scanner (`HAS_SIMD`), then SWAR eight at a time (`stop` flags the top bit of each
/// byte that ends the run), then byte by byte (`keep` says which bytes pass).
#[inline(always)]
fn skip_while(
    buf: &[u8],
    mut p: usize,
    limit: usize,
    simd: impl Fn(&[u8], usize, usize) -> usize,
    stop: impl Fn(u64) -> u64,
    keep: impl Fn(u8) -> bool,
) -> usize {
    let limit = limit.min(buf.len());
    if HAS_SIMD && limit >= 16 {
        // The SIMD scanner does the tail too (with a load ending at `limit`).
        return simd(buf, p, limit);
    }
    while p + 8 <= limit {
        let Some(chunk) = buf.get(p..p + 8) else {
            break;
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = stop(u64::from_le_bytes(word));
        if m != 0 {
            return p + (m.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while p < limit && keep(buf[p]) {
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
