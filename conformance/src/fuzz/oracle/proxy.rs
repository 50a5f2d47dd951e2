//! The proxy oracle: what the echo origin behind a front end received,
//! against RFC 9112's reading of what the client sent.

use super::reading::{body_framing, head_end, read_lenient, Reading, Stop};
use super::{Forward, Kind, Verdict};

/// One request as the origin received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Its method.
    pub method: Vec<u8>,
    /// Its request-target.
    pub target: Vec<u8>,
    /// The decoded body length.
    pub body_len: u64,
}

/// `http://host/path?q` → `/path?q` (a proxy forwards origin-form); any
/// scheme counts (nginx forwards `t://t` as `/`).
fn origin_form(target: &[u8]) -> &[u8] {
    let scheme_end = target.windows(3).position(|w| w == b"://");
    let Some(end) = scheme_end.filter(|&e| {
        e > 0
            && target[0].is_ascii_alphabetic()
            && target[..e]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
    }) else {
        return target;
    };
    let rest = &target[end + 3..];
    match rest.iter().position(|b| *b == b'/' || *b == b'?') {
        Some(p) => &rest[p..],
        None => b"/",
    }
}

/// The proxy oracle: what the origin behind a front end received, against
/// RFC 9112's (lenient) reading of what the client sent. The front end may
/// refuse any message and forward only some; it may not forward a request
/// that no message of the reading starts with (a request hidden in a body:
/// smuggled), change a body's length, or forward bytes that are not HTTP.
pub fn forwarded(
    lenient: &Reading,
    sent: &[u8],
    got: &[Received],
    garbage: &[Vec<u8>],
) -> Option<Verdict> {
    let label = lenient.stop.label();
    let verdict =
        |kind: Forward, detail: String| Verdict::new(Kind::Proxy(kind), Some(&label), detail);
    if let Some(g) = garbage.first() {
        return Some(verdict(
            Forward::Garbage,
            format!(
                "the origin received {} bytes that are not an HTTP/1.1 request: {:?}",
                g.len(),
                String::from_utf8_lossy(&g[..g.len().min(80)])
            ),
        ));
    }
    let cands = candidates(lenient, sent);
    let (after, tolerated_head) = after_error(lenient, sent);
    let mut next = 0;
    for (i, r) in got.iter().enumerate() {
        let target = origin_form(&r.target);
        let found = (next..cands.len()).find(|j| cands[*j].0 == target);
        let request = || {
            format!(
                "request {} `{} {}`",
                i + 1,
                String::from_utf8_lossy(&r.method),
                String::from_utf8_lossy(&r.target)
            )
        };
        if found.is_none() && after.iter().any(|t| t[..] == *target) {
            if tolerated_head {
                continue;
            }
            return Some(verdict(
                Forward::ReadOn,
                format!(
                    "the origin received {}, from after a message RFC 9112 cannot frame ({}): the front end read on past it",
                    request(),
                    lenient.stop.describe()
                ),
            ));
        }
        let Some(j) = found else {
            return Some(verdict(
                Forward::Smuggled,
                format!(
                    "the origin received {}, which no message the client sent starts with: the front end took it out of another message",
                    request()
                ),
            ));
        };
        if let Some(len) = cands[j].1.filter(|len| *len != r.body_len) {
            return Some(verdict(
                Forward::Body,
                format!(
                    "the origin received `{}` with a {}-byte body; the client sent {len} bytes of body",
                    String::from_utf8_lossy(&r.target),
                    r.body_len
                ),
            ));
        }
        next = j + 1;
    }
    None
}

/// The messages a front end may forward, by target (origin-form) and body
/// length when known: those of the reading, and the one it stopped at (a
/// lenient front end forwards it), with what follows its head.
fn candidates(lenient: &Reading, sent: &[u8]) -> Vec<(Vec<u8>, Option<u64>)> {
    let mut cands: Vec<(Vec<u8>, Option<u64>)> = lenient
        .requests
        .iter()
        .map(|q| (origin_form(&q.target).to_vec(), Some(q.body_len)))
        .collect();
    if matches!(lenient.stop, Stop::Error { .. } | Stop::Partial) {
        // The stuck message's own target: the second word of its first
        // line (the lenient reading removed no bytes before it that matter
        // for finding the line; search the original bytes from its end).
        let at = stuck_at(lenient);
        let line = sent.get(at..).unwrap_or_default();
        let line = line.split(|b| *b == b'\n').next().unwrap_or_default();
        if let Some(t) = line.split(|b| *b == b' ').filter(|w| !w.is_empty()).nth(1) {
            cands.push((origin_form(t).to_vec(), None));
        }
        // A front end that tolerated it (a bad target or version, a field
        // it skipped) reads on after its head: what follows is forwardable.
        let rest = sent.get(at..).unwrap_or_default();
        if let Some(end) = head_end(rest) {
            for q in read_lenient(&rest[end..]).requests {
                cands.push((origin_form(&q.target).to_vec(), None));
            }
        }
    }
    cands
}

/// Where, in the bytes sent, the message the lenient reading stopped at
/// starts: after the last request it read.
fn stuck_at(lenient: &Reading) -> usize {
    lenient
        .requests
        .last()
        .map_or(0, |q| lenient.original(q.span.end))
}

/// The targets of the lines after the message the lenient reading
/// rejected, and whether it was a tolerated head rather than a body whose
/// framing RFC 9112 rejects. Nothing when the reading did not stop at an
/// error.
///
/// Past a message RFC 9112 rejects there is no reading: a front end
/// that read on may resume at any line after it. A head it tolerated
/// (a bad target or version, a field it skipped) framed by its own
/// Content-Length or chunked body is a leniency, as on the wire; a body
/// whose framing RFC 9112 rejects, read past, is `read-on`.
fn after_error(lenient: &Reading, sent: &[u8]) -> (Vec<Vec<u8>>, bool) {
    match lenient.stop {
        Stop::Error { kind, body, .. } => {
            let at = stuck_at(lenient);
            let rest = sent.get(at..).unwrap_or_default();
            let lines: Vec<Vec<u8>> = rest
                .split(|b| *b == b'\n')
                .skip(1)
                .filter_map(|l| l.split(|b| *b == b' ').filter(|w| !w.is_empty()).nth(1))
                .map(|t| origin_form(t).to_vec())
                .collect();
            (lines, !body && !body_framing(kind))
        }
        _ => (Vec::new(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// The proxy verdict on `input` (then the canary) when the origin got
    /// `got` (method, target, body length).
    fn proxied(input: &[u8], got: &[(&str, &str, u64)]) -> Option<String> {
        let canary = b"GET /h1spec-canary-404 HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let bytes = [input, &canary[..]].concat();
        let got: Vec<Received> = got
            .iter()
            .map(|(m, t, n)| Received {
                method: m.as_bytes().to_vec(),
                target: t.as_bytes().to_vec(),
                body_len: *n,
            })
            .collect();
        forwarded(&read_lenient(&bytes), &bytes, &got, &[]).map(|v| v.signature)
    }

    // Found with nginx as the front end. After a head it tolerated, its
    // own framing decides where the next request starts: a leniency, not
    // smuggling. Past a chunked body RFC 9112 cannot frame, it read on.
    #[test]
    fn proxy_after_a_rejected_message_is_read_on_or_lenient_not_smuggled() {
        // `HTTP/1.1 ` with a trailing space, then Content-Length: 5 takes
        // `0\r\nGE` of the canary: nginx forwarded `T /h1spec-canary-404`.
        let v = proxied(
            b"S / HTTP/1.1 \nHost:t\nContent-Length:5\n\n0\r\n",
            &[("S", "/", 5), ("T", "/h1spec-canary-404", 0)],
        );
        assert_eq!(v, None);
        let v = proxied(
            b"HEAD / HTTP/1.1\nTransfer-Encoding:chunked\nHost:l\n\na\r\nGET /h1spe\r\n27\r\nc-fuzz-smuggled HTTP/1.1\r\nHost: localho\r\n2;\r\nt\r\n4\n\n\r\n\r\n0\n\n",
            &[("HEAD", "/", 52), ("GET", "/h1spec-canary-404", 0)],
        );
        assert_eq!(v.as_deref(), Some("proxy:read-on:InvalidChunkExtension"));
        // A request hidden in a valid body is still smuggled.
        let v = proxied(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 33\r\n\r\nGET /hidden HTTP/1.1\r\nHost: a\r\n\r\n",
            &[("POST", "/", 33), ("GET", "/hidden", 0)],
        );
        assert_eq!(v.as_deref(), Some("proxy:smuggled:end"));
        // Any scheme is absolute-form, and words may be apart by two spaces.
        assert_eq!(
            proxied(b"T t://t HTTP/1.1 \nHost:l\n\n", &[("GET", "/", 0)]),
            None
        );
        assert_eq!(
            proxied(b"T  / HTTP/1.1\nHost:l\n\n", &[("GET", "/", 0)]),
            None
        );
    }
}
