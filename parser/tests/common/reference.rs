//! A plain reference chunked decoder, shared by the property tests and the
//! `chunked` fuzz target (which includes this file by path). std only.

/// A plain reference decoder: the whole body at once, written straight from
/// RFC 9112 §7.1 with the same strictness choices. Returns None on any error.
pub fn chunked_reference(input: &[u8]) -> Option<(Vec<u8>, usize, bool)> {
    fn line(input: &[u8], at: usize) -> Option<Option<usize>> {
        // Some(Some(end)) = CRLF found at end; Some(None) = incomplete; None = bare LF or CR
        let mut i = at;
        while i < input.len() {
            match input[i] {
                b'\n' => return None,
                b'\r' => {
                    return match input.get(i + 1) {
                        Some(b'\n') => Some(Some(i)),
                        Some(_) => None,
                        None => Some(None),
                    }
                }
                _ => i += 1,
            }
        }
        Some(None)
    }
    let mut data = Vec::new();
    let mut pos = 0;
    loop {
        let Some(end) = line(input, pos)? else {
            // incomplete: check what is there is a valid prefix, roughly
            return Some((data, pos, false)).filter(|_| size_prefix_ok(&input[pos..]));
        };
        let l = &input[pos..end];
        let digits = l.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        // leading zeros beyond the first digit do not count toward the 16
        // significant digits; they count toward the line bound
        let zeros = l[..digits].iter().take_while(|&&b| b == b'0').count();
        let extra_zeros = zeros.min(digits.saturating_sub(1));
        if digits == 0 || digits - extra_zeros > 16 {
            return None;
        }
        let rest = &l[digits..];
        // the decoder counts every byte after the first one that follows the
        // digits, the CR included: that is rest.len() when rest is not empty
        if !chunk_ext_ok(rest) || extra_zeros + rest.len() > 1024 {
            return None;
        }
        let digits = &l[extra_zeros..digits];
        let size = u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        pos = end + 2;
        if size == 0 {
            // trailers
            let start = pos;
            loop {
                match line(input, pos)? {
                    None => return Some((data, pos, false)),
                    Some(e) if e == pos => {
                        if e + 2 - start > 16 * 1024 {
                            return None;
                        }
                        return Some((data, e + 2, true));
                    }
                    Some(e) => {
                        let f = &input[pos..e];
                        let colon = f.iter().position(|&b| b == b':')?;
                        let name_ok = colon > 0
                            && f[..colon].iter().all(|&b| {
                                b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
                            });
                        let value_ok = f[colon + 1..]
                            .iter()
                            .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f));
                        if !name_ok || !value_ok || e + 2 - start > 16 * 1024 {
                            return None;
                        }
                        pos = e + 2;
                    }
                }
            }
        }
        let avail = (input.len() - pos) as u64;
        if avail < size {
            data.extend_from_slice(&input[pos..]);
            return Some((data, input.len(), false));
        }
        data.extend_from_slice(&input[pos..pos + size as usize]);
        pos += size as usize;
        match (input.get(pos), input.get(pos + 1)) {
            (None, _) => return Some((data, pos, false)),
            (Some(b'\r'), None) => return Some((data, pos, false)),
            (Some(b'\r'), Some(b'\n')) => pos += 2,
            _ => return None,
        }
    }
}

fn size_prefix_ok(l: &[u8]) -> bool {
    let digits = l.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let zeros = l[..digits].iter().take_while(|&&b| b == b'0').count();
    digits - zeros.min(digits.saturating_sub(1)) <= 16 && (digits > 0 || l.is_empty())
}

/// `chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`
/// (RFC 9112 §7.1.1, RFC 9110 §5.6.4), written as a plain recursive-descent check.
fn chunk_ext_ok(mut s: &[u8]) -> bool {
    fn tchar(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
    }
    fn ws(s: &[u8]) -> &[u8] {
        let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        &s[n..]
    }
    fn token(s: &[u8]) -> Option<&[u8]> {
        let n = s.iter().take_while(|&&b| tchar(b)).count();
        (n > 0).then(|| &s[n..])
    }
    fn quoted(s: &[u8]) -> Option<&[u8]> {
        let text = |b: u8| b == b'\t' || b == b' ' || (b > 0x20 && b != 0x7f);
        let mut i = 1;
        loop {
            match *s.get(i)? {
                b'"' => return Some(&s[i + 1..]),
                b'\\' if text(*s.get(i + 1)?) => i += 2,
                b if text(b) && b != b'\\' => i += 1,
                _ => return None,
            }
        }
    }
    while !s.is_empty() {
        s = ws(s);
        let Some(r) = s.strip_prefix(b";") else {
            return false;
        };
        let Some(r) = token(ws(r)) else { return false };
        s = r;
        let after = ws(s);
        if let Some(r) = after.strip_prefix(b"=") {
            let r = ws(r);
            let r = if r.first() == Some(&b'"') {
                quoted(r)
            } else {
                token(r)
            };
            let Some(r) = r else { return false };
            s = r;
        }
        // whitespace is only allowed when a ";" or "=" follows
        if !s.is_empty() && ws(s).is_empty() {
            return false;
        }
    }
    true
}
