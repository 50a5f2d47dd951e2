//! The single-target judge: what the server's answers say it read,
//! against the reference reading and the readings RFC 9112 allows.

use h1parse::ErrorKind;

use super::reading::{
    body_framing, head_end, read, read_lenient, read_lenient_crlf, Reading, Stop,
};
use super::{Desync, Kind, Verdict};
use crate::exchange::End;

use crate::observe::{refuses, versionless_line, Check, Finding, Observation, Seen};

/// Final (non-1xx) responses.
pub fn finals(o: &Observation) -> Vec<&Seen> {
    o.responses.iter().filter(|r| r.status >= 200).collect()
}

/// Validator findings that concern message framing (a missing Date or a
/// close without `Connection: close` are conformance failures, not bugs a
/// fuzzer hunts).
fn framing_findings(o: &Observation) -> impl Iterator<Item = &Finding> {
    o.findings.iter().filter(|f| {
        !matches!(
            f.check,
            Check::Date | Check::UnannouncedClose | Check::CloseNotDone
        )
    })
}

/// The canary: where it starts in the bytes sent, and the status it gets
/// when sent alone.
#[derive(Debug, Clone, Copy)]
pub struct Canary {
    /// Offset of its first byte.
    pub start: usize,
    /// Its status when sent alone.
    pub status: u16,
    /// The input ends with an empty line and names no body framing after
    /// the strict reading stopped: a server that tolerates the error reads
    /// the canary next.
    pub tail_clean: bool,
    /// The target answers a request pipelined behind one with a body (the
    /// fuzzer's preflight): when it does not, answers it never gives to
    /// later requests are no finding.
    pub pipelines: bool,
}

impl Canary {
    /// The canary after `input`, as `reading` (the strict one) read them.
    pub fn after(input: &[u8], status: u16, reading: &Reading) -> Canary {
        let from = match reading.stop {
            Stop::Error { offset, .. } => offset.min(input.len()),
            _ => input.len(),
        };
        let rest = input[from..].to_ascii_lowercase();
        let framed = rest.windows(14).any(|w| w == b"content-length")
            || rest.windows(17).any(|w| w == b"transfer-encoding");
        // The first empty line after the error ends the input: nothing
        // lies between the tolerated head and the canary.
        let first_blank = head_end(&rest).map(|end| from + end);
        Canary {
            start: input.len(),
            status,
            tail_clean: first_blank == Some(input.len()) && !framed,
            pipelines: true,
        }
    }
}

/// What [`judge`] returns: `Ok(None)` nothing wrong, `Ok(Some(_))` a
/// verdict, `Err(label)` a leniency.
type Judged = Result<Option<Verdict>, String>;

/// Judges one exchange against the strict and the lenient reading of
/// what was sent; `half_closed` says we sent FIN after the bytes (the fast
/// path). `Ok(None)`: nothing wrong; `Err(label)`: the server read on past
/// a message RFC 9112 says to reject, coherently (it answered the message
/// and then the canary as when sent alone): a leniency, not a desync.
pub fn judge(
    strict: &Reading,
    lenient: &Reading,
    o: &Observation,
    sent: &[u8],
    canary: Canary,
    half_closed: bool,
) -> Result<Option<Verdict>, String> {
    let answers = finals(o);
    if switched(strict, lenient, o, &answers) {
        return Ok(None);
    }
    if let Some(v) = malformed(strict, lenient, o, sent, &answers) {
        return Ok(Some(v));
    }
    let m = answers.len();
    let label = strict.stop.label();
    // A response that announced the close must be the last.
    if let Some(i) = answers[..m.saturating_sub(1)]
        .iter()
        .position(|r| r.has("connection: close"))
    {
        return desync(
            Desync::AfterClose,
            &label,
            format!(
                "response {} announced the close, then {} more came",
                i + 1,
                m - i - 1
            ),
            false,
        );
    }
    if let Some(judged) = extra_answers(strict, lenient, o, sent, canary, &answers) {
        return judged;
    }
    if let Some(v) = canary_check(strict, lenient, &answers, canary, o.end == End::Open, sent) {
        return desync(Desync::Canary, &label, v, false);
    }
    missing_answers(strict, lenient, o, canary, &answers, half_closed)
}

/// A desync verdict of `kind` at the strict reading's stop `label`, to be
/// confirmed on the slow path when `confirm`.
fn desync(kind: Desync, label: &str, detail: String, confirm: bool) -> Judged {
    Ok(Some(
        Verdict::new(Kind::Desync(kind), Some(label), detail).to_confirm(confirm),
    ))
}

/// Whether the connection left HTTP: a 101, or a 2xx to CONNECT, ends
/// HTTP on the connection; what follows is another protocol's, nothing to
/// judge.
fn switched(strict: &Reading, lenient: &Reading, o: &Observation, answers: &[&Seen]) -> bool {
    o.responses.iter().any(|r| r.status == 101)
        || [strict, lenient].iter().any(|rd| {
            rd.requests
                .iter()
                .zip(answers)
                .any(|(q, r)| q.method == b"CONNECT" && (200..300).contains(&r.status))
        })
}

/// More answers than either reading has room for: a desync, unless the
/// server coherently read on past the strict reading's error (then
/// `Err(label)`, a leniency). `None` when the count is within bounds.
fn extra_answers(
    strict: &Reading,
    lenient: &Reading,
    o: &Observation,
    sent: &[u8],
    canary: Canary,
    answers: &[&Seen],
) -> Option<Judged> {
    let m = answers.len();
    let n = strict.requests.len();
    let max = match (strict.max_answers(), lenient.max_answers()) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
    let max = max.filter(|max| m > *max)?;
    if early_answer_then_refusal(strict, lenient, sent, answers, o, max) {
        return Some(Ok(None));
    }
    if let Some(judged) = read_past_error(strict, sent, canary, answers) {
        return Some(judged);
    }
    Some(desync(
        Desync::Extra,
        &strict.stop.label(),
        format!(
            "{m} responses, but the bytes hold {n} request(s) ({}; at most {max} answers)",
            strict.stop.describe()
        ),
        false,
    ))
}

/// One answer more than the readings allow, the last a refusal, then a
/// close: a server may answer a message before it has read its body (RFC
/// 9110 §10.1.1 lets it answer early) and then refuse the body it cannot
/// frame (RFC 9112 §6.3: 400 and close). One message answered twice, not
/// another message read.
fn early_answer_then_refusal(
    strict: &Reading,
    lenient: &Reading,
    sent: &[u8],
    answers: &[&Seen],
    o: &Observation,
    max: usize,
) -> bool {
    // (Only an error inside a chunked body: a head whose Content-Length or
    // Transfer-Encoding is invalid and yet answered was given a length.)
    // (The readings with the head's leniencies, bare LF or not: a server
    // that reframes the head but ends lines at CRLF meets an error in the
    // body where the lenient reading reads on.)
    let crlf = read_lenient_crlf(sent);
    let body_error = [strict, lenient, &crlf]
        .iter()
        .any(|r| matches!(r.stop, Stop::Error { body: true, .. }) || r.stop == Stop::Partial);
    body_error
        && answers.len() == max + 1
        && o.end.is_closed()
        && answers.last().is_some_and(|r| r.status >= 400)
}

/// The extra answers after a strict error: how the server read on past
/// the message it should have rejected, when it did so coherently. `None`
/// when there is no error or the answers after it are not coherent.
fn read_past_error(
    strict: &Reading,
    sent: &[u8],
    canary: Canary,
    answers: &[&Seen],
) -> Option<Judged> {
    let m = answers.len();
    let n = strict.requests.len();
    let label = strict.stop.label();
    let refused = answers.get(n).is_some_and(|r| refuses(r.status));
    let Stop::Error {
        kind, offset, body, ..
    } = strict.stop
    else {
        return None;
    };
    // CL+TE: whatever its reading, the server had to close (§6.3 rule 3).
    let cl_te = kind == ErrorKind::ContentLengthWithTransferEncoding;
    let coherent = !cl_te && resumes_coherently(sent, offset, canary, &answers[n + 1..]);
    // A head-level error whose message still ends at its empty
    // line, refused and then read past coherently: the refusal was
    // allowed, and reading on (where §2.2 says SHOULD close) framed
    // nothing otherwise than RFC 9112 does.
    let body_error = body || body_framing(kind);
    if coherent && refused && body_error {
        return Some(desync(
            Desync::AfterError,
            &label,
            format!(
                "answered {} to a message it cannot frame ({}), then read on instead of closing",
                answers[n].status,
                strict.stop.describe()
            ),
            false,
        ));
    }
    if coherent && body_error {
        return Some(desync(
            Desync::ReadOn,
            &label,
            format!(
                "read on past a message whose body cannot be framed ({}): it chose a length RFC 9112 does not give, and answered {} more",
                strict.stop.describe(),
                m - n - 1
            ),
            false,
        ));
    }
    if coherent {
        return Some(Err(label));
    }
    None
}

/// Fewer answers than the requests both whole readings agree on, and no
/// refusal: the server waits for more (part of the bytes taken as a body
/// or head) or closed without a word.
fn missing_answers(
    strict: &Reading,
    lenient: &Reading,
    o: &Observation,
    canary: Canary,
    answers: &[&Seen],
    half_closed: bool,
) -> Judged {
    let m = answers.len();
    let label = strict.stop.label();
    let whole: Vec<&Reading> = [strict, lenient]
        .into_iter()
        .filter(|r| r.stop == Stop::End)
        .collect();
    // A target that does not pipeline owes an answer to the first request only.
    let least = whole.iter().map(|r| r.requests.len()).min().map(|n| {
        if canary.pipelines {
            n
        } else {
            n.min(1)
        }
    });
    if let Some(need) = least.filter(|need| m < *need) {
        let refused = answers
            .iter()
            .any(|r| refuses(r.status) || r.has("connection: close"));
        if !refused {
            if o.end == End::Open {
                return desync(
                    Desync::Swallowed,
                    &label,
                    format!(
                        "{m} responses to {need} requests, and the server waits for more: it took part of the bytes as a body or head"
                    ),
                    half_closed,
                );
            }
            // A server may close after any response (RFC 9112 §9.3, §9.6):
            // after an answer, a close says nothing about how it read; and
            // a message RFC 9112 rejects may be refused by a close alone
            // (unless we half-closed first: then the close may be ours, and
            // the slow path, which does not half-close, is asked).
            if m > 0 || (strict.stop != Stop::End && !half_closed) {
                return Ok(None);
            }
            return desync(
                Desync::Dropped,
                &label,
                format!("{m} responses to {need} requests, then a close without a word"),
                half_closed,
            );
        }
    }
    Ok(None)
}

/// Whether the answers after the one to the rejected message are what a
/// server gives that skipped that message up to some line boundary after
/// the error and read the rest as RFC 9112 does: as many answers as that
/// reading has requests, the canary's (if read on its own) as when sent
/// alone. Such a server read on
/// past an error, but it did not take part of a message for a request
/// beyond what it skipped.
fn resumes_coherently(sent: &[u8], from: usize, canary: Canary, after: &[&Seen]) -> bool {
    if canary.start > sent.len() || from > canary.start {
        return false;
    }
    let Some(last) = after.last() else {
        return false;
    };
    if !last.complete {
        return false;
    }
    let starts = sent[from..canary.start]
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| from + i + 1)
        .chain([canary.start]);
    for s in starts {
        let rest = &sent[s..];
        for r in [read(rest), read_lenient(rest)] {
            // The canary, when read on its own, answered as when sent alone.
            let alone = r.ends_with_canary(canary.start - s);
            if r.stop == Stop::End
                && r.requests.len() == after.len()
                && (!alone || last.status == canary.status)
            {
                return true;
            }
            // Or it read on into bytes RFC 9112 rejects too, and refused them.
            if matches!(r.stop, Stop::Error { .. } | Stop::Partial)
                && r.requests.len() + 1 == after.len()
                && refuses(last.status)
            {
                return true;
            }
        }
    }
    false
}

/// Malformed responses, without the noise a fuzzer cannot act on.
fn malformed(
    strict: &Reading,
    lenient: &Reading,
    o: &Observation,
    sent: &[u8],
    answers: &[&Seen],
) -> Option<Verdict> {
    // Responses are paired with the lenient reading's requests (see
    // `observe_with`); past what neither reading has, a body proves nothing.
    if answers.len() > lenient.requests.len().max(strict.requests.len()) + 1 {
        return None;
    }
    let closing_error = o.end.is_closed() && answers.last().is_some_and(|r| r.status >= 400);
    // Where the first message h1parse could not read starts: if it starts
    // with HEAD, a server that read it as a HEAD rightly sent no body.
    // Where each reading stopped: the message no reading could take.
    let unread = [
        strict.requests.last().map_or(0, |q| q.span.end),
        lenient
            .requests
            .last()
            .map_or(0, |q| lenient.original(q.span.end)),
    ];
    let stuck = |at: usize| sent.get(at..).unwrap_or_default().trim_ascii_start();
    let unread_is_head = unread.iter().any(|&at| stuck(at).starts_with(b"HEAD"));
    // A request line without `HTTP/`: a server that speaks HTTP/0.9
    // answers it without a status line.
    let versionless = unread.iter().any(|&at| {
        let b = stuck(at);
        versionless_line(&b[..b.iter().position(|c| *c == b'\n').unwrap_or(b.len())])
    });
    // "HEAD " anywhere in the input: a server that read the
    // bytes otherwise than both readings (a lenient length) may have
    // answered it, rightly without a body, where the validator expects
    // one. That is a desync the other oracles name; "cut short" is not.
    let any_head = sent.windows(5).any(|w| w == b"HEAD ");
    let found = framing_findings(o).find(|f| {
        // A HEAD that no reading could take: a server that took it sent
        // no body, which the validator cannot know.
        let head_noise = (closing_error && f.check == Check::BodyAfterBodiless)
            || unread_is_head
            || (any_head && f.check == Check::CutShort);
        !head_noise
    })?;
    // A request line without a version answered in HTTP/0.9 (no status
    // line): what follows it looks like garbage, or a body after the
    // response before it.
    let http09 = versionless
        || matches!(
            strict.stop,
            Stop::Error {
                kind: ErrorKind::MissingVersion,
                ..
            }
        );
    // (So is an answer without a status line at all, when any line of the
    // input could be read as an HTTP/0.9 request.)
    let no_status_line = found.check == Check::Http09Answer
        || (o.no_status_line && sent.split(|c| *c == b'\n').any(versionless_line));
    if (http09 && (o.garbage.is_some() || found.check == Check::BodyAfterBodiless))
        || no_status_line
    {
        return Some(Verdict::new(
            Kind::Http09,
            None,
            "a request line without a version was answered without a status line (an HTTP/0.9 response)".into(),
        ));
    }
    let text = found
        .text
        .strip_prefix("malformed response: ")
        .unwrap_or(&found.text);
    Some(Verdict::new(
        Kind::Malformed(found.check),
        None,
        format!("malformed response: {text}"),
    ))
}

/// The canary was read alone and answered otherwise than when sent alone.
fn canary_check(
    strict: &Reading,
    lenient: &Reading,
    answers: &[&Seen],
    canary: Canary,
    open: bool,
    sent: &[u8],
) -> Option<String> {
    let m = answers.len();
    // Where the canary's answer must be, by a reading that ends with it.
    let placed = [strict, lenient].into_iter().find_map(|r| {
        (r.stop == Stop::End && r.ends_with_canary(canary.start)).then(|| r.requests.len() - 1)
    });
    // A server that tolerated a non-framing error and read on: the canary
    // is its last answer, if the bytes put nothing between that message's
    // head and the canary. That place is a guess (a server may also have
    // answered lines of junk one by one), so there only an answer that is
    // no error tells a canary read from another byte.
    // (And only while the connection stays open: an answer followed by a
    // close may be the refusal of the junk, the canary never read.)
    let guessed = match strict.stop {
        Stop::Error { framing: false, .. }
            if open && placed.is_none() && canary.tail_clean && m >= strict.requests.len() + 2 =>
        {
            answers.get(m - 1).filter(|r| r.status < 400).map(|_| m - 1)
        }
        _ => None,
    };
    let at = placed.or(guessed)?;
    let r = answers.get(at)?;
    // A refusal and a close in the canary's place, after a message with a
    // body or trailer: the server may have answered that message early
    // and then refused what came after its head (RFC 9110 §10.1.1).
    // (Data, an extension or a trailer: an empty chunked body `0` CRLF
    // CRLF leaves nothing to refuse.)
    let prev_has_body = at
        .checked_sub(1)
        .and_then(|i| strict.requests.get(i))
        .is_some_and(|q| {
            let msg = &sent[q.span.clone()];
            let body = &msg[head_end(msg).unwrap_or(msg.len())..];
            q.body_len > 0 || (q.chunked && body != b"0\r\n\r\n")
        });
    if r.status >= 400 && !open && at + 1 == m && prev_has_body {
        return None;
    }
    // Only a lenient reading puts the canary there, and the strict one
    // rejects the message before it: a refusal and a close in the
    // canary's place is the strict outcome (the server took no leniency
    // and refused the message the canary's bytes ran into; RFC 9112 §2.2
    // lets it, after an early answer, RFC 9110 §10.1.1).
    // (An early answer only where the strict reading's error is in a
    // chunked body: a head it rejects gets no answer but a refusal.)
    // (The same for a server that took the head's leniencies but ends
    // lines at CRLF only.)
    if refuses(r.status) && !open && at + 1 == m {
        let refused_there = |q: &Reading| match q.stop {
            Stop::Error { body, .. } => {
                let n = q.requests.len();
                at == n || (at == n + 1 && body)
            }
            _ => false,
        };
        if refused_there(strict) || refused_there(&read_lenient_crlf(sent)) {
            return None;
        }
    }
    let earlier_refusal = answers[..at]
        .iter()
        .any(|r| r.status >= 400 && !r.keep_alive);
    if r.complete && r.status != canary.status && !earlier_refusal && r.status != 503 {
        return Some(format!(
            "the canary was answered {} (alone: {}): the server read it from another byte",
            r.status, canary.status
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// The verdict on `input` (then the canary) answered with `received`
    /// and a close, as the fuzzer judges it.
    fn judged(input: &[u8], received: &[u8]) -> Option<String> {
        let canary = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let bytes = [input, &canary[..]].concat();
        let (strict, lenient) = (read(&bytes), read_lenient(&bytes));
        let tr = crate::exchange::Transcript {
            sent: bytes.clone(),
            received: received.to_vec(),
            end: End::Closed,
            write_failed: false,
            silence_broken: None,
            half_closed: true,
            await_missed: None,
            quiet_before_close: None,
        };
        let o = super::super::observe(&tr, &bytes);
        let c = Canary::after(input, 404, &strict);
        judge(&strict, &lenient, &o, &bytes, c, true)
            .ok()
            .flatten()
            .map(|v| v.signature)
    }

    // Found against nginx: two answers an HTTP/0.9-speaking server gives,
    // which were reported under misleading names.
    #[test]
    fn http09_answers_and_bodiless_heads_are_named_for_what_they_are() {
        let page = b"<html>\r\n<head><title>400 Bad Request</title></head>\r\n</html>\r\n";
        // `/HTTP/` is in the target, and no third word is a version.
        assert_eq!(
            judged(b"S /HTTP/ \r\n", page).as_deref(),
            Some("malformed:http09")
        );
        assert_eq!(judged(b"T /\n", page).as_deref(), Some("malformed:http09"));
        // A 505 first, then the HTTP/0.9 answer to the versionless line.
        let after_505 = [
            &b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n\r\n"[..],
            page,
        ]
        .concat();
        assert_eq!(
            judged(b"T / HTTP/1.10\nHost:l\n\nT /\n", &after_505).as_deref(),
            Some("malformed:http09")
        );
        // nginx read the 1-byte body, then the HEAD, and rightly sent its
        // 400 without a body: not a response "cut short".
        let head_400 = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 400 Bad Request\r\nContent-Length: 157\r\nConnection: close\r\n\r\n";
        let v = judged(
            b"T / HTTP/1.1\nHost:t\nContent-Length:1\n\naHEAD / HTTP/1.1\nHost:\n",
            head_400,
        );
        assert_ne!(v.as_deref(), Some("malformed:body-complete"));
        // A response that is cut short with no HEAD in sight still is one.
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\nshort";
        let v = judged(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", cut);
        assert_eq!(v.as_deref(), Some("malformed:body-complete"));
    }
}
