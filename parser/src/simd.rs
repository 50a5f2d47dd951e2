//! SSE2 scanners: sixteen bytes per step for field values, request-targets
//! and field names, and the one-pass scanner of a whole field line.
//!
//! SSE2 is part of the x86_64 baseline, so no run-time detection is needed;
//! the module is compiled only where `target_feature = "sse2"` holds. It is
//! the crate's only `unsafe`: calling a `#[target_feature]` function needs it
//! even when the feature is always on. Everything else in the crate stays
//! `deny(unsafe_code)`. The SWAR scanners in `chars` are the fallback and the
//! reference: `tests::simd_matches_swar` compares the two on every byte value
//! at every position, and the fuzzers exercise this path.
//!
//! Measured (callgrind, `ci/bench-parser.sh`): see docs/benchmarks.md.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
    _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
};

/// Offset of the first CTL (HTAB, CR, LF included) or DEL in `buf[p..limit]`,
/// or `limit`; when `limit` < 16, of the first byte of the tail left to the
/// caller.
#[inline(always)]
pub(crate) fn skip_field_content(buf: &[u8], p: usize, limit: usize) -> usize {
    // SAFETY: SSE2 is enabled for this target (the module is cfg'd on it).
    unsafe { field_sse2(buf, p, limit.min(buf.len())) }
}

/// Offset of the first byte outside 0x21..=0x7E, or `#`, in `buf[p..limit]`,
/// or `limit`; when `limit` < 16, of the first byte of the tail left to the
/// caller.
#[inline(always)]
pub(crate) fn skip_target(buf: &[u8], p: usize, limit: usize) -> usize {
    // SAFETY: SSE2 is enabled for this target (the module is cfg'd on it).
    unsafe { target_sse2(buf, p, limit.min(buf.len())) }
}

/// One pass over a field line starting at `p`: the offsets of its first
/// colon, of its first control byte (CTL or DEL; for a good line, the CR)
/// and of the first byte that is not a letter, digit or `-` (for a usual
/// name, the colon). `None` if there is no control byte before `limit`, the
/// colon does not come before it, or fewer than 16 bytes are in `buf`.
#[inline(always)]
pub(crate) fn scan_line(
    buf: &[u8],
    p: usize,
    limit: usize,
    clean_to: &mut u32,
) -> Option<(usize, usize, usize)> {
    // SAFETY: SSE2 is enabled for this target (the module is cfg'd on it).
    unsafe { line_sse2(buf, p, limit.min(buf.len()), clean_to) }
}

#[inline]
#[target_feature(enable = "sse2")]
fn line_sse2(
    buf: &[u8],
    p: usize,
    limit: usize,
    clean_to: &mut u32,
) -> Option<(usize, usize, usize)> {
    // The name and colon are in the first sixteen bytes of most lines
    // (longer names go to `long_name_sse2`).
    if p + 16 > limit {
        return None;
    }
    let x = load(chunk16(buf, p)?);
    let ctl = ctl_mask(x);
    let colon = colon_mask(x);
    if colon == 0 {
        if ctl != 0 {
            return None;
        }
        return long_name_sse2(buf, p, limit);
    }
    let colon = p + colon.trailing_zeros() as usize;
    let odd = p + (!plain_mask(x)).trailing_zeros() as usize;
    let end = if ctl != 0 {
        p + ctl.trailing_zeros() as usize
    } else {
        let end = field_sse2(buf, p + 16, limit);
        if end >= limit {
            // No control byte up to `limit`: the slow path need not look
            // again.
            *clean_to = limit as u32;
            return None;
        }
        end
    };
    (colon < end).then_some((colon, end, odd))
}

/// For a field line the one-pass scan did not take (see `whole_line` in
/// `fields`): the offsets of its colon, of its first control byte (`limit`
/// if none comes before it) and of the first byte that is not a letter,
/// digit or `-`, if the colon is in the first sixteen bytes. If no colon and
/// no control byte come before `limit` within sixteen bytes (a name the
/// input ends inside), the first two are `limit`. `None` otherwise, or if
/// `limit` < 16. The caller vouches that `buf[p..clean_to]` holds no
/// control byte (when `clean_to` > `p`).
#[inline]
pub(crate) fn line_parts(
    buf: &[u8],
    p: usize,
    limit: usize,
    clean_to: usize,
) -> Option<(usize, usize, usize)> {
    // SAFETY: SSE2 is enabled for this target (the module is cfg'd on it).
    unsafe { line_parts_sse2(buf, p, limit.min(buf.len()), clean_to) }
}

#[inline]
#[target_feature(enable = "sse2")]
fn line_parts_sse2(
    buf: &[u8],
    p: usize,
    limit: usize,
    clean_to: usize,
) -> Option<(usize, usize, usize)> {
    // The first sixteen bytes, or one load ending at `limit` (overlapping
    // bytes before `p`, whose bits are shifted out) if fewer are left.
    let (x, shift) = if p + 16 <= limit {
        (load(chunk16(buf, p)?), 0)
    } else {
        let q = limit.checked_sub(16)?;
        (load(chunk16(buf, q)?), p.checked_sub(q)?)
    };
    let first = (p + 16).min(limit);
    let ctl = ctl_mask(x) >> shift;
    let colon = colon_mask(x) >> shift;
    let odd = (p + (!(plain_mask(x) >> shift)).trailing_zeros() as usize).min(limit);
    if colon == 0 {
        return (ctl == 0 && first == limit).then_some((limit, limit, odd));
    }
    let stop = if ctl != 0 {
        p + ctl.trailing_zeros() as usize
    } else {
        // Bytes up to `clean_to` are known to hold no control byte.
        field_sse2(buf, first.max(clean_to.min(limit)), limit)
    };
    Some((p + colon.trailing_zeros() as usize, stop, odd))
}

/// [`line_sse2`] for a line whose first sixteen bytes hold no colon and no
/// control byte: the colon is looked for in the next sixteen, and the name
/// checked with [`name_sse2`].
#[inline(never)]
#[target_feature(enable = "sse2")]
fn long_name_sse2(buf: &[u8], p: usize, limit: usize) -> Option<(usize, usize, usize)> {
    if p + 32 > limit {
        return None;
    }
    let x = load(chunk16(buf, p + 16)?);
    let colon = colon_mask(x);
    if colon == 0 {
        return None;
    }
    let colon = p + 16 + colon.trailing_zeros() as usize;
    let odd = name_sse2(buf, p, p + 32);
    let end = field_sse2(buf, p + 16, limit);
    if end >= limit {
        return None;
    }
    (colon < end).then_some((colon, end, odd))
}

/// Offset of the first byte in `buf[p..limit]` that is not an ASCII letter,
/// digit or `-` (the bytes nearly every field name is made of), or of the
/// first byte of the tail shorter than 16 bytes.
#[inline(always)]
pub(crate) fn skip_name(buf: &[u8], p: usize, limit: usize) -> usize {
    // SAFETY: SSE2 is enabled for this target (the module is cfg'd on it).
    unsafe { name_sse2(buf, p, limit.min(buf.len())) }
}

#[inline]
#[target_feature(enable = "sse2")]
fn name_sse2(buf: &[u8], mut p: usize, limit: usize) -> usize {
    while p + 16 <= limit {
        let Some(chunk) = chunk16(buf, p) else {
            break;
        };
        let ok = plain_mask(load(chunk));
        if ok != 0xffff {
            return p + (!ok).trailing_zeros() as usize;
        }
        p += 16;
    }
    p
}

/// The bytes of `x` that are CTLs (HTAB, CR, LF included) or DEL: the bytes
/// that end a field value or are not allowed in one.
#[inline]
#[target_feature(enable = "sse2")]
fn ctl_mask(x: __m128i) -> u32 {
    // x <= 0x1f (unsigned) or x == 0x7f
    let ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    _mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)))) as u32
}

/// The bytes of `x` that are `:`.
#[inline]
#[target_feature(enable = "sse2")]
fn colon_mask(x: __m128i) -> u32 {
    _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b':' as i8))) as u32
}

/// The bytes of `x` that are ASCII letters, digits or `-`.
#[inline]
#[target_feature(enable = "sse2")]
fn plain_mask(x: __m128i) -> u32 {
    // (x | 0x20) - 'a' <= 25, x - '0' <= 9 (unsigned), or x == '-'
    let l = _mm_sub_epi8(
        _mm_or_si128(x, _mm_set1_epi8(0x20)),
        _mm_set1_epi8(b'a' as i8),
    );
    let letter = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l);
    let d = _mm_sub_epi8(x, _mm_set1_epi8(b'0' as i8));
    let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    let plain = _mm_or_si128(
        _mm_or_si128(letter, digit),
        _mm_cmpeq_epi8(x, _mm_set1_epi8(b'-' as i8)),
    );
    _mm_movemask_epi8(plain) as u32
}

/// The bytes of `x` not allowed in a request-target: outside 0x21..=0x7E,
/// or `#`.
#[inline]
#[target_feature(enable = "sse2")]
fn target_stop_mask(x: __m128i) -> u32 {
    // As signed bytes, the allowed range 0x21..=0x7e is exactly x > 0x20 and
    // not x > 0x7e (0x80.. are negative and fail the first).
    let low = _mm_cmpgt_epi8(x, _mm_set1_epi8(0x20));
    let high = _mm_or_si128(
        _mm_cmpgt_epi8(x, _mm_set1_epi8(0x7e)),
        _mm_cmpeq_epi8(x, _mm_set1_epi8(0x23)),
    );
    !(_mm_movemask_epi8(low) as u32 & !(_mm_movemask_epi8(high) as u32)) & 0xffff
}

/// Offset of the first byte in `buf[p..limit]` whose bit `stops` sets, or
/// `limit`: sixteen bytes per step, and fewer than sixteen at the end with
/// one load ending at `limit`, overlapping bytes already passed, whose bits
/// are shifted out. When `limit` < 16, stops at the tail for the caller.
#[inline]
#[target_feature(enable = "sse2")]
fn scan16(buf: &[u8], mut p: usize, limit: usize, stops: impl Fn(__m128i) -> u32) -> usize {
    while p + 16 <= limit {
        let Some(chunk) = chunk16(buf, p) else {
            break;
        };
        let m = stops(load(chunk));
        if m != 0 {
            return p + m.trailing_zeros() as usize;
        }
        p += 16;
    }
    if p < limit && limit >= 16 {
        let q = limit - 16;
        if let Some(chunk) = chunk16(buf, q) {
            let m = stops(load(chunk)) >> (p - q);
            return if m != 0 {
                p + m.trailing_zeros() as usize
            } else {
                limit
            };
        }
    }
    p
}

#[inline]
#[target_feature(enable = "sse2")]
fn load(chunk: &[u8; 16]) -> __m128i {
    // SAFETY: `chunk` is 16 readable bytes; the load is unaligned.
    unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "sse2")]
fn field_sse2(buf: &[u8], p: usize, limit: usize) -> usize {
    scan16(buf, p, limit, |x| ctl_mask(x))
}

/// The 16 bytes at `at`, if there are as many.
#[inline(always)]
fn chunk16(buf: &[u8], at: usize) -> Option<&[u8; 16]> {
    buf.get(at..at + 16)
        .and_then(|c| <&[u8; 16]>::try_from(c).ok())
}

#[inline]
#[target_feature(enable = "sse2")]
fn target_sse2(buf: &[u8], p: usize, limit: usize) -> usize {
    scan16(buf, p, limit, |x| target_stop_mask(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_matches_swar() {
        let mut buf = [b'a'; 48];
        for special in 0u8..=255 {
            for at in 0..buf.len() {
                buf.fill(b'a');
                buf[at] = special;
                for start in 0..at.min(17) {
                    let f = skip_field_content(&buf, start, buf.len());
                    assert_eq!(
                        crate::chars::skip_field_content(&buf, f, buf.len()),
                        crate::chars::skip_field_content(&buf, start, buf.len()),
                        "{special:#x} at {at}"
                    );
                    assert!(f <= at || !matches!(special, 0..=0x1f | 0x7f));
                    let t = skip_target(&buf, start, buf.len());
                    assert_eq!(
                        crate::chars::skip_target(&buf, t, buf.len()),
                        crate::chars::skip_target(&buf, start, buf.len()),
                        "{special:#x} at {at}"
                    );
                    assert!(t <= at || crate::chars::target_char(special));
                    let n = skip_name(&buf, start, buf.len());
                    let alnum_dash = special.is_ascii_alphanumeric() || special == b'-';
                    assert_eq!(
                        n,
                        if alnum_dash {
                            start + (buf.len() - start) / 16 * 16
                        } else {
                            at.min(start + (buf.len() - start) / 16 * 16)
                        },
                        "{special:#x} at {at}"
                    );
                }
            }
        }
    }
}
