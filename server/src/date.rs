//! HTTP dates (RFC 9110 §5.6.7, IMF-fixdate) and the per-worker cached
//! `Date` value: formatted once a second by the worker that owns it, so no
//! buffer is ever shared between threads.

use std::time::{SystemTime, UNIX_EPOCH};

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn two(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10 % 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for a Unix time.
pub(crate) fn imf_fixdate(secs: i64) -> [u8; 29] {
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil(days);
    out[..3].copy_from_slice(DAYS[days.rem_euclid(7) as usize]);
    two(&mut out[5..7], d);
    out[8..11].copy_from_slice(MONTHS[m as usize - 1]);
    let y = y.clamp(0, 9999) as u32;
    two(&mut out[12..14], y / 100);
    two(&mut out[14..16], y % 100);
    two(&mut out[17..19], rem / 3600);
    two(&mut out[20..22], rem / 60 % 60);
    two(&mut out[23..25], rem % 60);
    out
}

/// `06/Nov/1994:08:49:37 +0000`: the access log's time.
pub(crate) fn log_time(secs: i64) -> [u8; 26] {
    let f = imf_fixdate(secs);
    let mut out = *b"01/Jan/1970:00:00:00 +0000";
    out[0..2].copy_from_slice(&f[5..7]);
    out[3..6].copy_from_slice(&f[8..11]);
    out[7..11].copy_from_slice(&f[12..16]);
    out[12..20].copy_from_slice(&f[17..25]);
    out
}

/// Parses an IMF-fixdate (the only form a sender may generate; the obsolete
/// forms are rare enough that ignoring the condition is the safe answer).
pub(crate) fn parse_imf_fixdate(s: &[u8]) -> Option<i64> {
    if s.len() != 29 || &s[3..5] != b", " || &s[25..] != b" GMT" {
        return None;
    }
    let num = |r: std::ops::Range<usize>| crate::writer::parse_decimal(&s[r]).map(|n| n as u32);
    let d = num(5..7)?;
    let m = MONTHS.iter().position(|m| m[..] == s[8..11])? as u32 + 1;
    let y = num(12..16)?;
    let (hh, mm, ss) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if s[7] != b' ' || s[11] != b' ' || s[16] != b' ' || s[19] != b':' || s[22] != b':' {
        return None;
    }
    if !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    Some(days * 86_400 + i64::from(hh * 3600 + mm * 60 + ss))
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The worker's cached `Date` value and log time, refreshed when the second changes.
#[derive(Debug)]
pub(crate) struct DateCache {
    secs: i64,
    http: [u8; 29],
    log: [u8; 26],
}

impl DateCache {
    pub(crate) fn new() -> DateCache {
        let secs = unix_now();
        DateCache {
            secs,
            http: imf_fixdate(secs),
            log: log_time(secs),
        }
    }

    /// Re-reads the clock; reformats only when the second changed.
    pub(crate) fn refresh(&mut self) {
        let now = unix_now();
        if now != self.secs {
            self.secs = now;
            self.http = imf_fixdate(now);
            self.log = log_time(now);
        }
    }

    /// The current `Date` value.
    pub(crate) fn http(&self) -> &[u8; 29] {
        &self.http
    }

    /// The current access-log time.
    pub(crate) fn log(&self) -> &[u8; 26] {
        &self.log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example() {
        // RFC 9110 §5.6.7's example.
        assert_eq!(&imf_fixdate(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_imf_fixdate(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(&log_time(784_111_777), b"06/Nov/1994:08:49:37 +0000");
    }

    #[test]
    fn round_trip() {
        for secs in (0..4_000_000_000i64).step_by(7_777_777) {
            assert_eq!(parse_imf_fixdate(&imf_fixdate(secs)), Some(secs));
        }
    }

    #[test]
    fn rejects_other_forms() {
        assert_eq!(parse_imf_fixdate(b"Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_imf_fixdate(b"Sun Nov  6 08:49:37 1994"), None);
        assert_eq!(parse_imf_fixdate(b"Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }
}
