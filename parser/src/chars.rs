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
