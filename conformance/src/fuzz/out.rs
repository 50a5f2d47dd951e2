//! Findings as case files: `--out DIR` writes one `*.toml` per finding in
//! the format of the built-in cases, so `h1spec --cases DIR` replays them
//! (against the fuzzed server, or any other) and a team can commit them as
//! regression cases. The accepted outcomes are what RFC 9112's reading of
//! the bytes allows; the case fails where the finding held.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::oracle::{self, Class, Stop};
use super::Finding;
use crate::case::Vars;

/// Bytes as a send template: printable ASCII as is, the rest as escapes
/// (`\r`, `\n`, `\t`, `\xNN`); `{` doubled, `'` and `\` escaped, so the
/// text fits in a TOML literal string and `expand` gives the bytes back.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'{' => s.push_str("{{"),
            b'\'' => s.push_str("\\x27"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// `n` copies of `*`, each followed by a space.
fn any(n: usize) -> String {
    "* ".repeat(n)
}

/// Outcomes RFC 9112's reading of `bytes` (input and canary) allows: the
/// server may refuse any message (and then close) or close after any
/// answer, but answers no more messages than there are, and answers the
/// canary as when it is sent alone.
pub fn accepted(bytes: &[u8], canary_start: usize, canary_status: u16) -> Vec<String> {
    let (strict, lenient) = (oracle::read(bytes), oracle::read_lenient(bytes));
    // When a reading RFC 9112 allows takes every byte as whole messages, a
    // server refuses or answers them: it does not sit waiting.
    let whole = [&strict, &lenient].iter().any(|r| r.stop == Stop::End);
    let mut v = outcomes(&strict, canary_start, canary_status, whole);
    for o in outcomes(&lenient, canary_start, canary_status, whole) {
        if !v.contains(&o) {
            v.push(o);
        }
    }
    v
}

fn outcomes(
    r: &oracle::Reading,
    canary_start: usize,
    canary_status: u16,
    whole: bool,
) -> Vec<String> {
    let n = r.requests.len();
    let canary_alone = r.ends_with_canary(canary_start);
    let mut v = Vec::new();
    for i in 0..n {
        // Any message may be refused, but the canary read on its own is
        // answered as when sent alone: of the refusals, only 503 (a
        // server out of something) says nothing of where it was read from.
        if canary_alone && i == n - 1 {
            v.push(format!("{}503 close", any(i)));
        } else {
            v.push(format!("{}4xx|5xx close", any(i)));
        }
        v.push(format!("{}close", any(i)));
    }
    match r.stop {
        Stop::End if canary_alone => v.push(format!("{}{canary_status} any", any(n - 1))),
        Stop::End | Stop::Closed => v.push(format!("{}any", any(n))),
        Stop::Error { framing: true, .. } | Stop::Partial => {
            if !whole {
                v.push(format!("{}any", any(n)));
            }
            v.push(format!("{}4xx|5xx any", any(n)));
        }
        Stop::Error { framing: false, .. } => {
            if !whole {
                v.push(format!("{}any", any(n)));
            }
            for extra in 1..=4 {
                v.push(format!("{}{canary_status} any", any(n + extra - 1)));
            }
        }
    }
    v
}

/// `desync:extra:ObsFold` → `desync-extra-obsfold`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(60).collect()
}

/// FNV-1a, for short stable file names.
fn hash(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

fn section(class: Class) -> (&'static str, &'static str) {
    match class {
        Class::Malformed => (
            "RFC 9112 §6.3",
            "The length of a message body is determined by one of the following (in order of precedence) ... Any response to a HEAD request and any response with a 1xx, 204, or 304 status code is always terminated by the first empty line after the header fields.",
        ),
        Class::Crash | Class::Hang => (
            "RFC 9112 §9.3",
            "HTTP/1.1 defaults to the use of persistent connections, allowing multiple requests and responses to be carried over a single connection.",
        ),
        Class::Desync | Class::Differential => (
            "RFC 9112 §6.3",
            "If a message is received without Transfer-Encoding and with an invalid Content-Length header field, then the message framing is invalid and the recipient MUST treat it as an unrecoverable error ... When a server listening only for HTTP request messages ... the server MUST respond with a 400 (Bad Request) status code and then close the connection.",
        ),
    }
}

/// Writes `f` as a case file in `dir`; returns its path.
pub fn write_case(
    dir: &Path,
    f: &Finding,
    vars: &Vars,
    canary_status: u16,
    how: &str,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!("{}-{:08x}", slug(&f.signature), hash(&f.signature));
    let path = dir.join(format!("{name}.toml"));
    let canary = super::canary_bytes(vars);
    let bytes = [&f.input.bytes[..], &canary[..]].concat();
    let mut send = escape(&f.input.bytes);
    let host_line = format!("Host: {}\\r", escape(vars.host.as_bytes()));
    send = send.replace(&host_line, "Host: {host}\\r");
    send.push_str("{canary}");
    let (sec, rfc) = section(f.class);
    let accept: Vec<String> = accepted(&bytes, f.input.bytes.len(), canary_status)
        .into_iter()
        .map(|o| format!("{o:?}"))
        .collect();
    let toml_str = |s: &str| format!("{s:?}");
    let mut text = String::new();
    let _ = writeln!(text, "# Found by {how}, input {}.", f.iteration);
    let _ = writeln!(text, "# {}: {}", f.class.name(), f.detail);
    for w in &f.observed {
        let _ = writeln!(text, "# Observed: {w}");
    }
    let _ = writeln!(text, "# Reproduce: {}", f.reproducer.replace('\n', " "));
    let _ = writeln!(text, "area = \"fuzz\"\n\n[[case]]");
    let _ = writeln!(text, "id = {}", toml_str(&name));
    let _ = writeln!(
        text,
        "title = {}",
        toml_str(&format!("fuzz finding {}: {}", f.signature, f.detail))
    );
    let _ = writeln!(text, "section = {}", toml_str(sec));
    let _ = writeln!(text, "rfc = {}", toml_str(rfc));
    let _ = writeln!(text, "level = \"MUST\"");
    let _ = writeln!(text, "tags = [\"fuzz\", \"smuggling\"]");
    let _ = writeln!(text, "send = '{send}'");
    let _ = writeln!(text, "accept = [{}]", accept.join(", "));
    std::fs::write(&path, text)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{expand, Vars};

    #[test]
    fn escape_round_trips_through_expand() {
        let all: Vec<u8> = (0..=255u8).collect();
        let t = escape(&all);
        assert!(!t.contains('\''));
        assert_eq!(expand(&t, &Vars::default()).unwrap(), all);
    }

    #[test]
    fn accepted_outcomes_follow_the_reading() {
        let canary = b"GET /404 HTTP/1.1\r\nHost: a\r\n\r\n";
        let smuggle = [&b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"[..], canary].concat();
        let start = smuggle.len() - canary.len();
        // Strict: refuse it (at most one answer, then nothing); lenient
        // (RFC 9112 §6.3 rule 3): framed by chunked, answered, then close.
        assert_eq!(
            accepted(&smuggle, start, 404),
            vec!["any", "4xx|5xx any", "4xx|5xx close", "close", "* any"]
        );
        let plain = [&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..], canary].concat();
        let start = plain.len() - canary.len();
        assert_eq!(
            accepted(&plain, start, 404),
            vec![
                "4xx|5xx close",
                "close",
                "* 503 close",
                "* close",
                "* 404 any"
            ]
        );
    }
}
