//! Runs cases against a target and judges them: the observed responses and
//! connection state must match one acceptable outcome of the profile. What
//! the validator finds in the responses is reported once per run, as the
//! response checks (`response.*`), beside the preflight's own rules
//! (`preflight.*`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::case::{self, After, Case, Level, Outcome, ResponseSpec, Step};
use crate::exchange::{self, Action, End, Timing};
use crate::observe::{self, Finding, Observation, Seen};
use crate::target::{Restart, Target};

pub use crate::verdict::{CaseResult, Options, Profile, Verdict};

/// Turns a case's steps into wire actions for this target.
pub fn actions(case: &Case, vars: &case::Vars) -> Result<Vec<Action>, String> {
    let mut out = Vec::new();
    for s in &case.steps {
        match s {
            Step::Send(t) => out.push(Action::Write(case::expand(t, vars)?)),
            Step::Fragments { pieces, pause_ms } => {
                for (i, p) in pieces.iter().enumerate() {
                    if i > 0 {
                        out.push(Action::Pause(Duration::from_millis(*pause_ms)));
                    }
                    out.push(Action::Write(case::expand(p, vars)?));
                }
            }
            Step::Pause(ms) => out.push(Action::Pause(Duration::from_millis(*ms))),
            Step::Silence(ms) => out.push(Action::Silence(Duration::from_millis(*ms))),
            Step::Await(ms) => out.push(Action::Await(Duration::from_millis(*ms))),
            Step::Shutdown => out.push(Action::Shutdown),
        }
    }
    Ok(out)
}

/// Whether an observation fits an outcome.
pub fn matches(o: &Observation, outcome: &Outcome) -> bool {
    if o.garbage.is_some() || o.responses.len() != outcome.responses.len() {
        return false;
    }
    let then_ok = match outcome.then {
        After::Any => true,
        After::Close => o.end.is_closed(),
        After::Open => o.end == End::Open,
    };
    then_ok
        && o.responses
            .iter()
            .zip(&outcome.responses)
            .all(|(seen, spec)| {
                spec.status.matches(seen.status)
                    && spec.has.iter().all(|h| seen.has(h))
                    && spec.lacks.iter().all(|h| !seen.has(h))
                    && spec
                        .body
                        .is_none_or(|n| seen.body.len() as u64 == n && seen.complete)
            })
        && o.responses
            .iter()
            .zip(&outcome.responses)
            .all(|(seen, spec)| content_length_matches(o, seen, spec))
}

/// A response's Content-Length, when it has one and the outcome ties it to
/// another response (`content_length_of`), equals that response's body
/// length: a HEAD response MUST NOT send Content-Length unless it equals
/// what GET would have sent (RFC 9110 §9.3.2, §8.6).
fn content_length_matches(o: &Observation, seen: &Seen, spec: &ResponseSpec) -> bool {
    let (Some(i), Some(n)) = (spec.content_length_of, seen.content_length()) else {
        return true;
    };
    o.responses
        .get(i)
        .is_some_and(|other| other.complete && other.body.len() as u64 == n)
}

/// Whether `o` is a prefix of `outcome` cut short by a close the server
/// announced: the responses so far match, the last one says `Connection:
/// close`, and the connection closed. A server may close after any response
/// that says so (RFC 9112 §9.6); requests it did not answer are the
/// client's to retry, and nothing was desynchronised. A refusal (4xx, 5xx)
/// followed by a close needs no announcement: a server that refuses a
/// request need not read its body, and may close at any time (§9.5); a
/// missing `Connection: close` is the `response.close-announced` check's
/// finding, not this case's. Accepted in the `rfc` profile only.
pub fn matches_announced_close(o: &Observation, outcome: &Outcome) -> bool {
    let n = o.responses.len();
    if o.garbage.is_some() || n == 0 || n >= outcome.responses.len() || !o.end.is_closed() {
        return false;
    }
    let last = &o.responses[n - 1];
    let announced = last.has("connection: close") || last.status >= 400;
    announced
        && o.responses
            .iter()
            .zip(&outcome.responses)
            .all(|(seen, spec)| {
                spec.status.matches(seen.status)
                    && spec.has.iter().all(|h| seen.has(h))
                    && spec.lacks.iter().all(|h| !seen.has(h))
            })
}

/// Whether `o` is an answer to the first request and then an accepted
/// outcome of refusals ending in a close, where that request's head is
/// valid and announces a body: a server may answer from the head before it
/// reads the body (RFC 9110 §10.1.1, RFC 9112 §9.3), and then refuse a
/// chunked body RFC 9112 rejects with a 400 and a close, or close (an
/// application that answered cannot send a 400 any more). No byte past the
/// body was read as a request: the outcome's refusals come after the
/// answer, nothing else. `rfc` profile only.
pub fn matches_early_answer_then_close(o: &Observation, outcome: &Outcome, sent: &[u8]) -> bool {
    if o.garbage.is_some()
        || !o.end.is_closed()
        || outcome.then == After::Open
        || o.responses.len() != outcome.responses.len() + 1
        || o.responses[0].status < 200
        || !observe::first_has_body(sent)
    {
        return false;
    }
    if outcome.responses.is_empty() {
        return true;
    }
    // Refusals after the answer: only of a body RFC 9112 rejects (a valid
    // body read otherwise is a desync, whatever the refusal).
    let mut rest = o.clone();
    rest.responses.remove(0);
    observe::first_body_rejected(sent)
        && rest.responses.iter().all(|r| observe::refuses(r.status))
        && matches(&rest, outcome)
}

/// Whether `o` fits an outcome that ends in `close`, with the connection
/// still open but the last response saying `Connection: close`: a lingering
/// close (RFC 9112 §9.6) may hold the FIN back while the server drains what
/// the client sent. `response.close-done` still reports it (with
/// `--should`). `rfc` profile only.
pub fn matches_lingering_close(o: &Observation, outcome: &Outcome) -> bool {
    if outcome.then != After::Close || o.end != End::Open {
        return false;
    }
    let Some(last) = o.responses.last() else {
        return false;
    };
    if !last.has("connection: close") {
        return false;
    }
    let mut as_closed = o.clone();
    as_closed.end = End::Closed;
    matches(&as_closed, outcome)
}

/// The outcomes `profile` accepts for `case`.
pub fn accepted(case: &Case, profile: Profile) -> Vec<&Outcome> {
    let mut v: Vec<&Outcome> = case.accept.iter().collect();
    if profile == Profile::Rfc {
        v.extend(case.lenient.iter());
    }
    v
}

/// A shell line that sends what `actions` sends: `printf '...' | nc host port`
/// (OpenBSD netcat; `nc -N` where the case half-closes, so that the FIN is
/// sent when the input ends). For an `https://` target, `openssl s_client`
/// in place of `nc`: it sends each piece as it reads it and prints what
/// comes back until the server closes (it cannot half-close, see
/// [`tls_client`]).
pub fn reproducer(addr: &str, actions: &[Action]) -> String {
    let mut parts = Vec::new();
    for a in actions {
        match a {
            Action::Write(b) => parts.push(printf(b)),
            Action::Pause(d) | Action::Silence(d) | Action::Await(d) => {
                parts.push(format!("sleep {}", d.as_secs_f64()))
            }
            Action::Shutdown => {}
        }
    }
    let script = if parts.len() == 1 {
        parts.remove(0)
    } else {
        format!("({})", parts.join("; "))
    };
    if let Ok(ep) = crate::transport::Endpoint::parse(addr) {
        if ep.tls {
            return format!("{script} | {}", tls_client(&ep));
        }
    }
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "80"));
    let half_close = if actions.contains(&Action::Shutdown) {
        " -N"
    } else {
        ""
    };
    format!("{script} | nc{half_close} {host} {port}")
}

/// `openssl s_client` for a TLS target: `-quiet` (no session details; it
/// also keeps reading after its input ends, as `nc` does, so a half-close
/// is not reproduced) and the server name sent as SNI, as h1spec sends it
/// (none for an IP address).
fn tls_client(ep: &crate::transport::Endpoint) -> String {
    let sni = if ep.host.parse::<std::net::IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" -servername {}", ep.host)
    };
    format!(
        "openssl s_client -quiet -alpn http/1.1 -connect {}{sni}",
        ep.authority()
    )
}

/// `printf` of arbitrary bytes, with long runs of one byte written as
/// `$(head -c N /dev/zero | tr '\0' c)` arguments so the line stays short.
fn printf(bytes: &[u8]) -> String {
    let mut fmt = String::new();
    let mut args = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let run = bytes[i..].iter().take_while(|x| **x == b).count();
        if run >= 64 && b.is_ascii_alphanumeric() {
            fmt.push_str("%s");
            args.push(format!(
                "\"$(head -c {run} /dev/zero | tr '\\0' '{}')\"",
                b as char
            ));
            i += run;
            continue;
        }
        match b {
            b'\r' => fmt.push_str("\\r"),
            b'\n' => fmt.push_str("\\n"),
            b'\t' => fmt.push_str("\\t"),
            b'\\' => fmt.push_str("\\\\"),
            b'%' => fmt.push_str("%%"),
            b'\'' => fmt.push_str("\\047"),
            0x20..=0x7e => fmt.push(b as char),
            _ => fmt.push_str(&format!("\\{b:03o}")),
        }
        i += 1;
    }
    let mut s = format!("printf '{fmt}'");
    for a in args {
        s.push(' ');
        s.push_str(&a);
    }
    s
}

/// Runs one case.
pub async fn run_case(target: &Target, case: &Case, opts: Options) -> CaseResult {
    let started = Instant::now();
    let accepted_words: Vec<String> = accepted(case, opts.profile)
        .iter()
        .map(|o| o.to_string())
        .collect();
    let mut result = CaseResult::new(case, Verdict::Pass, accepted_words);
    let missing: Vec<&String> = case
        .needs
        .iter()
        .filter(|n| !target.capabilities.contains(*n))
        .collect();
    if !missing.is_empty() {
        result.verdict = Verdict::NotApplicable;
        result.reasons.push(format!(
            "target lacks {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return result;
    }
    let acts = match actions(case, &target.vars) {
        Ok(a) => a,
        Err(e) => {
            result.verdict = Verdict::Fail;
            result.reasons.push(format!("case error: {e}"));
            return result;
        }
    };
    result.reproducer = reproducer(&target.addr, &acts);
    if case.replay {
        crate::replay::judge(target, &acts, opts, &mut result).await;
    } else {
        let timing = Timing {
            step: opts.step,
            idle: case.wait_ms.map_or(opts.idle, Duration::from_millis),
        };
        match exchange::run(&target.addr, &acts, timing, None).await {
            Err(e) => {
                result.verdict = Verdict::Fail;
                result.observed = "no connection".into();
                result.reasons.push(format!("could not connect: {e}"));
            }
            Ok(t) => judge(target, case, opts, t, &mut result).await,
        }
    }
    // Response defects (a missing Date, a bad field in an error response)
    // are the response checks' business, reported once per run
    // (`response_checks`): they never change this case's verdict.
    if !result.reasons.is_empty() && result.verdict != Verdict::NotApplicable {
        result.verdict = Verdict::Fail;
    }
    result.ms = started.elapsed().as_millis() as u64;
    result
}

/// Judges one exchange against the case's accepted outcomes: fills what was
/// observed, and the reasons it failed (none: it passed), or marks it n/a.
async fn judge(
    target: &Target,
    case: &Case,
    opts: Options,
    mut t: exchange::Transcript,
    result: &mut CaseResult,
) {
    let idle_close = idle_close(target, &t).await;
    if idle_close.is_some() {
        t.end = End::Open;
    }
    let o = observe::observe(&t);
    result.observed = o.words();
    if o.responses.is_empty()
        && o.garbage.is_none()
        && !target.capabilities.contains("answers-pipelined")
        && observe::request_lines(&t.sent) >= 2
    {
        result.verdict = Verdict::NotApplicable;
        result.reasons.push(
            "no answer to a write that held more than one request, which this target never answers (see the preflight)".into(),
        );
        return;
    }
    if let Some(q) = idle_close {
        result.observed = format!(
            "{} (closed {} ms after the last byte: the target's idle timer, not an answer)",
            result.observed,
            q.as_millis()
        );
    }
    if let Some(d) = t.await_missed {
        result.reasons.push(format!(
            "nothing arrived within {} ms where an immediate response is required",
            d.as_millis()
        ));
    }
    if let Some(n) = t.silence_broken {
        result.reasons.push(format!(
            "the server answered or closed before the request was complete ({n} bytes had arrived)"
        ));
    }
    if !is_accepted(target, case, opts, &o, &t.sent).await {
        result
            .reasons
            .push(format!("observed `{}`, not an accepted outcome", o.words()));
    }
    result.findings = o.findings;
}

/// Whether `o` is an outcome `case` accepts under `opts.profile`. An early
/// answer then a refusal of the body is credited only if the target
/// frames a valid chunked body after the same head: one that answers a
/// valid body's head and then refuses what follows it refused no bad
/// chunk, it misread the body.
async fn is_accepted(
    target: &Target,
    case: &Case,
    opts: Options,
    o: &Observation,
    sent: &[u8],
) -> bool {
    let rfc = opts.profile == Profile::Rfc;
    let outcomes = accepted(case, opts.profile);
    let plainly = outcomes.iter().any(|oc| {
        matches(o, oc)
            || (rfc
                && (matches_announced_close(o, oc)
                    || matches_lingering_close(o, oc)
                    || (oc.responses.is_empty() && matches_early_answer_then_close(o, oc, sent))))
    });
    let early = rfc
        && outcomes
            .iter()
            .any(|oc| !oc.responses.is_empty() && matches_early_answer_then_close(o, oc, sent));
    plainly || (early && frames_chunked_body(target, opts, sent).await)
}

/// Whether the target, sent the head of the first request in `sent` with
/// a valid chunked body (data, the last chunk, a trailer field) and then a
/// request for `{missing}`, answers both, the second as a request of its
/// own.
async fn frames_chunked_body(target: &Target, opts: Options, sent: &[u8]) -> bool {
    let mut headers = [h1parse::Header::EMPTY; 128];
    let Ok(h1parse::Status::Complete(r)) = h1parse::RequestParser::new().parse(sent, &mut headers)
    else {
        return false;
    };
    let canary = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        target.vars.missing, target.vars.host
    );
    // Data and a trailer field, both valid: a server that skips what it
    // cannot read (a leftover CRLF taken for an empty line) still fails.
    let body = b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n";
    let bytes = [&sent[..r.head_len], &body[..], canary.as_bytes()].concat();
    let done = |got: &[u8]| observe::complete_finals(&bytes, got) >= 2;
    let timing = Timing {
        step: opts.step,
        idle: opts.idle,
    };
    let Ok(t) = exchange::run(
        &target.addr,
        &[Action::Write(bytes.clone())],
        timing,
        Some(&done),
    )
    .await
    else {
        return false;
    };
    let finals: Vec<u16> = observe::observe(&t)
        .responses
        .iter()
        .filter(|r| r.status >= 200 && r.complete)
        .map(|r| r.status)
        .collect();
    finals.len() == 2 && finals[1] == 404
}

/// How long the connection had been quiet when the target closed it, when
/// that is its idle timeout at work (three quarters of what the preflight
/// measured, or more): such a close is no reaction to the request, and must
/// never satisfy an outcome that ends in `close`.
async fn idle_close(target: &Target, t: &exchange::Transcript) -> Option<Duration> {
    // A close within this of the last byte is taken as the server's answer
    // whatever its idle timer: it is what a close in reply looks like, and
    // such cases need not wait for the measure.
    const PROMPT: Duration = Duration::from_millis(150);
    let quiet = t
        .quiet_before_close
        .filter(|q| t.end.is_closed() && *q >= PROMPT)?;
    let idle = target.idle_timeout.get().await?;
    (t.end.is_closed() && quiet >= idle * 3 / 4).then_some(quiet)
}

/// The preflight's timing part: starts measuring the target's idle timeout
/// (in the background, while the first cases run), measures how many
/// connections it answers at once, notes that on `target`, and fits the
/// options: fewer cases at once than the target has connections to serve
/// them (otherwise the last ones get silence that is its pool, not its
/// verdict).
pub async fn fit(target: &mut Target, opts: Options) -> Options {
    // A case waits at most `idle` after the last byte before it stops
    // listening, so only an idle timeout below that can close a case's
    // connection: the probe need not wait longer.
    let bound = opts.idle + opts.idle / 3;
    let within = opts.step.min(Duration::from_secs(2));
    let cap = crate::target::capacity(target, opts.jobs + 1, within).await;
    target.idle_timeout = crate::target::IdleTimeout::measure(target, bound);
    let mut opts = opts;
    if cap <= opts.jobs {
        let jobs = cap.saturating_sub(1).max(1);
        target.notes.push(format!(
            "connections: answers {cap} idle keep-alive connection(s) at once (a probe that held them got no answer on one more): running {jobs} case(s) at a time instead of {}",
            opts.jobs
        ));
        opts.jobs = jobs;
    }
    opts
}

/// The note for the report once the idle timeout is known.
pub async fn idle_note(target: &Target) -> Option<String> {
    target.idle_timeout.get().await.map(|t| {
        format!(
            "idle timeout: closes an idle connection after {} ms; a close that long after the last byte is read as its timer, not as an answer",
            t.as_millis()
        )
    })
}

/// Runs `cases` with up to `opts.jobs` at once; `progress` sees each result
/// as it lands. Results come back in case order.
pub async fn run_all(
    target: &Target,
    cases: &[Case],
    opts: Options,
    progress: impl FnMut(usize, usize, &CaseResult),
) -> Vec<CaseResult> {
    run_all_until(target, cases, opts, None, progress).await
}

/// [`run_all`] with an overall deadline (`--deadline`): a case still running
/// or not yet started when it passes is `n/a`, with the reason, so that a
/// slow or hanging target cannot hold a CI job for longer than planned.
pub async fn run_all_until(
    target: &Target,
    cases: &[Case],
    opts: Options,
    deadline: Option<Instant>,
    mut progress: impl FnMut(usize, usize, &CaseResult),
) -> Vec<CaseResult> {
    let sem = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let target = Arc::new(target.clone());
    let mut set = JoinSet::new();
    for (i, case) in cases.iter().enumerate() {
        let sem = sem.clone();
        let target = target.clone();
        let case = case.clone();
        set.spawn(async move {
            let run = async {
                let _permit = sem.acquire_owned().await.expect("semaphore open");
                run_case(&target, &case, opts).await
            };
            let result = match deadline {
                None => run.await,
                Some(d) => match tokio::time::timeout_at(d.into(), run).await {
                    Ok(r) => r,
                    Err(_) => cut_off(&case),
                },
            };
            (i, result)
        });
    }
    let mut results: Vec<Option<CaseResult>> = vec![None; cases.len()];
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.expect("case task panicked");
        done += 1;
        progress(done, cases.len(), &r);
        results[i] = Some(r);
    }
    let mut results: Vec<CaseResult> = results.into_iter().flatten().collect();
    let stopped = rerun_silent(&target, cases, opts, deadline, &mut results).await;
    results.extend(stopped);
    let should = cases.iter().any(|c| c.level == Level::Should);
    results.extend(response_checks(&results, should));
    results.extend(preflight_checks(&target));
    results
}

/// Cases that failed with no answer at all are run again, one at a time:
/// with several cases at once, a target with few workers (each held by an
/// idle keep-alive connection) leaves some of them unanswered, and that is
/// its pool, not its reading of the case. The target must answer a plain
/// GET before each and after each; a case after which it does not stopped
/// it, and is reported as a result of its own (`liveness.*`). Then the
/// target is started again (`--spawn`), or the silent cases left are n/a
/// with the reason: never silence recorded as a verdict.
async fn rerun_silent(
    target: &Target,
    cases: &[Case],
    opts: Options,
    deadline: Option<Instant>,
    results: &mut [CaseResult],
) -> Vec<CaseResult> {
    let alone = Options { jobs: 1, ..opts };
    let mut stopped = Vec::new();
    let mut dead: Option<String> = None;
    // The case run alone just before the check, if any.
    let mut last: Option<(String, String)> = None;
    for r in results.iter_mut() {
        let silent = r.verdict == Verdict::Fail
            && (r.observed.starts_with("silence") || r.observed.starts_with("close"));
        if !silent || deadline.is_some_and(|d| Instant::now() >= d) {
            continue;
        }
        let Some(case) = cases.iter().find(|c| c.id == r.id) else {
            continue;
        };
        if dead.is_none() && !answers_get(target, opts).await {
            dead = revive(target, opts, last.take(), &mut stopped).await;
        }
        if let Some(why) = &dead {
            r.verdict = Verdict::NotApplicable;
            r.reasons.insert(0, why.clone());
            continue;
        }
        *r = run_case(target, case, alone).await;
        last = Some((r.id.clone(), r.reproducer.clone()));
    }
    if let Some(l) = last.filter(|_| dead.is_none()) {
        if !answers_get(target, opts).await {
            revive(target, opts, Some(l), &mut stopped).await;
        }
    }
    // Once a case run alone is found to stop it, the stop seen during the
    // concurrent run (no case named) is that case's: said once.
    if stopped.iter().any(|r| r.id != UNNAMED_STOP) {
        stopped.retain(|r| r.id != UNNAMED_STOP);
    }
    stopped
}

/// The liveness result when no case can be named (the target stopped
/// during the concurrent run and no case run alone stopped it again).
const UNNAMED_STOP: &str = "liveness.stopped";

/// Whether a target just started answers a plain GET within three tries
/// (a loaded machine may take a moment to schedule it).
async fn answers_soon(target: &Target, opts: Options) -> bool {
    for _ in 0..3 {
        if answers_get(target, opts).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Whether the target answers a plain GET on a new connection.
async fn answers_get(target: &Target, opts: Options) -> bool {
    let get = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        target.vars.path, target.vars.host
    );
    exchange::run(
        &target.addr,
        &[Action::Write(get.clone().into_bytes())],
        Timing {
            step: opts.step,
            idle: opts.step,
        },
        Some(&|got: &[u8]| observe::complete_finals(get.as_bytes(), got) >= 1),
    )
    .await
    .is_ok_and(|t| observe::complete_finals(get.as_bytes(), &t.received) >= 1)
}

/// The target stopped answering, after case `culprit` (id, reproducer) if
/// one ran alone just before: reports it, and starts the target again if
/// it can. `None` if it answers again; else why the cases left are n/a.
async fn revive(
    target: &Target,
    opts: Options,
    culprit: Option<(String, String)>,
    stopped: &mut Vec<CaseResult>,
) -> Option<String> {
    let who = culprit
        .as_ref()
        .map_or("a case of the concurrent run".to_string(), |(id, _)| {
            format!("case {id}")
        });
    // Why it could not be started again, if it could not.
    let failed = match &target.restart {
        Some(Restart(again)) => match again() {
            Ok(()) if answers_soon(target, opts).await => None,
            Ok(()) => Some("started again, it answered no plain GET".to_string()),
            Err(e) => Some(e),
        },
        None => Some(String::new()),
    };
    let restarted = failed.is_none();
    stopped.push(CaseResult {
        id: format!(
            "liveness.{}",
            culprit.as_ref().map_or("stopped", |(id, _)| id.as_str())
        ),
        area: LIVENESS_AREA.to_string(),
        title: format!("The target still answers a plain GET after {who}"),
        section: "RFC 9112 §2.2".into(),
        rfc: "When a server listening only for HTTP request messages ... receives a sequence of octets that does not match the HTTP-message grammar ... the server SHOULD respond with a 400 (Bad Request) response and close the connection. (A server that any client's bytes can stop answers no other client.)".into(),
        level: Level::Should,
        verdict: Verdict::Fail,
        observed: "no answer to a plain GET on a new connection".into(),
        accepted: Vec::new(),
        reasons: vec![format!(
            "after {who} the target no longer answered a plain GET{}",
            if restarted {
                "; it was started again (--spawn) and the run went on"
            } else {
                ""
            }
        )],
        findings: Vec::new(),
        reproducer: culprit.map(|(_, r)| r).unwrap_or_default(),
        ms: 0,
    });
    if restarted {
        return None;
    }
    Some(format!(
        "the target no longer answers a plain GET (it stopped after {who}; see liveness.*): this silence cannot be judged{}",
        if target.restart.is_some() {
            format!(", and starting it again failed: {}", failed.unwrap_or_default())
        } else {
            " (with --spawn it would be started again)".to_string()
        }
    ))
}

/// One result per rule the preflight checks on its own (`preflight.*`):
/// failed with what it saw, or passed. A target that never answers two
/// requests in one write fails `preflight.answers-pipelined` once, and the
/// cases it cannot be judged on are n/a.
pub fn preflight_checks(target: &Target) -> Vec<CaseResult> {
    crate::target::PREFLIGHT_RULES
        .iter()
        .map(|&(name, level, title, section, rfc)| {
            let defect = target.defects.iter().find(|d| d.name == name);
            CaseResult {
                id: format!("preflight.{name}"),
                area: PREFLIGHT_AREA.to_string(),
                title: title.to_string(),
                section: section.to_string(),
                rfc: rfc.to_string(),
                level,
                verdict: if defect.is_some() {
                    Verdict::Fail
                } else {
                    Verdict::Pass
                },
                observed: defect.map_or_else(|| "as the rule asks".into(), |d| d.observed.clone()),
                accepted: Vec::new(),
                reasons: defect
                    .map(|d| vec![format!("seen by the preflight: {}", d.observed)])
                    .unwrap_or_default(),
                findings: Vec::new(),
                reproducer: String::new(),
                ms: 0,
            }
        })
        .collect()
}

/// The area of the response checks' results.
pub const CHECK_AREA: &str = "response";

/// The area of the preflight's own rules.
pub const PREFLIGHT_AREA: &str = "preflight";

/// The area of the results that name a case after which the target
/// stopped answering.
pub const LIVENESS_AREA: &str = "liveness";

/// Whether a result is a case's (not a response check's, the preflight's
/// or a liveness result).
pub fn is_case(r: &CaseResult) -> bool {
    r.area != CHECK_AREA && r.area != PREFLIGHT_AREA && r.area != LIVENESS_AREA
}

/// One result per response check ([`observe::Check`]): failed, with the
/// cases where it was seen, when any case's responses broke it; passed
/// otherwise. SHOULD-level checks only when `should`. A server that leaves
/// `Date` out of its error responses fails `response.date` once, and the
/// cases whose own outcome was right still pass.
pub fn response_checks(results: &[CaseResult], should: bool) -> Vec<CaseResult> {
    observe::Check::ALL
        .iter()
        .filter(|c| should || c.level() == Level::Must)
        .map(|&check| {
            let (section, rfc) = check.rule();
            let seen: Vec<(&CaseResult, &Finding)> = results
                .iter()
                .filter(|r| r.area != CHECK_AREA)
                .filter_map(|r| r.findings.iter().find(|f| f.check == check).map(|f| (r, f)))
                .collect();
            let mut r = CaseResult {
                id: format!("{CHECK_AREA}.{}", check.name()),
                area: CHECK_AREA.to_string(),
                title: check.title().to_string(),
                section: section.to_string(),
                rfc: rfc.to_string(),
                level: check.level(),
                verdict: Verdict::Pass,
                observed: "not seen".into(),
                accepted: Vec::new(),
                reasons: Vec::new(),
                findings: Vec::new(),
                reproducer: String::new(),
                ms: 0,
            };
            if let Some((first, finding)) = seen.first() {
                r.verdict = Verdict::Fail;
                r.observed = format!("seen in {} case(s)", seen.len());
                r.reasons
                    .push(format!("{} (in {})", finding.text, first.id));
                let ids: Vec<&str> = seen.iter().map(|(c, _)| c.id.as_str()).collect();
                let shown = ids.len().min(12);
                let more = if ids.len() > shown {
                    format!(" and {} more", ids.len() - shown)
                } else {
                    String::new()
                };
                r.reasons
                    .push(format!("seen in: {}{more}", ids[..shown].join(", ")));
                r.reproducer = first.reproducer.clone();
            }
            r
        })
        .collect()
}

impl CaseResult {
    /// A result for `case` with nothing observed yet.
    fn new(case: &Case, verdict: Verdict, accepted: Vec<String>) -> CaseResult {
        CaseResult {
            id: case.id.clone(),
            area: case.area.clone(),
            title: case.title.clone(),
            section: case.section.clone(),
            rfc: case.rfc.clone(),
            level: case.level,
            verdict,
            observed: String::new(),
            accepted,
            reasons: Vec::new(),
            findings: Vec::new(),
            reproducer: String::new(),
            ms: 0,
        }
    }
}

/// The result of a case the deadline cut off (or never let start).
fn cut_off(case: &Case) -> CaseResult {
    let mut r = CaseResult::new(case, Verdict::NotApplicable, Vec::new());
    r.reasons.push(DEADLINE_REASON.to_string());
    r
}

/// The reason given for cases `--deadline` cut off.
pub const DEADLINE_REASON: &str = "not finished: --deadline passed";

/// Whether selector `sel` picks `case`: exact id, id prefix, area or tag.
pub fn selects(sel: &str, case: &Case) -> bool {
    case.id == sel
        || case.id.starts_with(sel)
        || case.area == sel
        || case.tags.iter().any(|t| t == sel)
}

/// Applies `--only`, `--skip` and the level filter.
pub fn select(cases: Vec<Case>, only: &[String], skip: &[String], should: bool) -> Vec<Case> {
    cases
        .into_iter()
        .filter(|c| should || c.level != Level::Should || only.contains(&c.id))
        .filter(|c| only.is_empty() || only.iter().any(|s| selects(s, c)))
        .filter(|c| !skip.iter().any(|s| selects(s, c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn observed(received: &[u8], end: End) -> Observation {
        let sent = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        observe::observe(&exchange::Transcript::plain(sent, received, end))
    }

    #[test]
    fn outcome_matching_and_rfc_only_allowances() {
        let ok = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 0\r\n\r\n";
        let ok_close =
            b"HTTP/1.1 200 OK\r\nDate: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        let two = Outcome::parse("2xx 2xx open").unwrap();
        let both = [&ok[..], &ok[..]].concat();
        assert!(matches(&observed(&both, End::Open), &two));
        assert!(!matches(&observed(&both, End::Closed), &two));
        // One answer, announced close, closed: a prefix the rfc profile takes.
        let cut = observed(ok_close, End::Closed);
        assert!(!matches(&cut, &two));
        assert!(matches_announced_close(&cut, &two));
        assert!(!matches_announced_close(&observed(ok, End::Closed), &two));
        // Announced close, FIN not yet sent: lingering.
        let one_close = Outcome::parse("2xx close").unwrap();
        let lingering = observed(ok_close, End::Open);
        assert!(!matches(&lingering, &one_close));
        assert!(matches_lingering_close(&lingering, &one_close));
        assert!(!matches_lingering_close(
            &observed(ok, End::Open),
            &one_close
        ));
    }

    #[test]
    fn an_answer_from_the_head_then_a_close_counts_as_a_close() {
        let chunked = b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n";
        let ok = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 0\r\n\r\n";
        let o = observe::observe(&exchange::Transcript::plain(chunked, ok, End::Closed));
        let close = Outcome::parse("close").unwrap();
        assert!(matches_early_answer_then_close(&o, &close, chunked));
        // Not without a body to refuse, not when the connection stays open,
        // and not where the outcome wants no close.
        let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let plain = observe::observe(&exchange::Transcript::plain(get, ok, End::Closed));
        assert!(!matches_early_answer_then_close(&plain, &close, get));
        let open = observe::observe(&exchange::Transcript::plain(chunked, ok, End::Open));
        assert!(!matches_early_answer_then_close(&open, &close, chunked));
        assert!(!matches_early_answer_then_close(
            &o,
            &Outcome::parse("silence").unwrap(),
            chunked
        ));
    }

    #[test]
    fn an_answer_from_the_head_then_a_refusal_of_a_bad_body_counts_as_the_refusal() {
        let bad = b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\nGET /404 HTTP/1.1\r\nHost: a\r\n\r\n";
        let ok_then_400 = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 Bad\r\nDate: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let refusal = Outcome::parse("400 close").unwrap();
        let o = observe::observe(&exchange::Transcript::plain(bad, ok_then_400, End::Closed));
        assert!(matches_early_answer_then_close(&o, &refusal, bad));
        // A valid body refused after the answer is a body read otherwise.
        let good = b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /404 HTTP/1.1\r\nHost: a\r\n\r\n";
        let o = observe::observe(&exchange::Transcript::plain(good, ok_then_400, End::Closed));
        assert!(!matches_early_answer_then_close(&o, &refusal, good));
        // Nor when the canary is answered, or the connection stays open.
        let ok_404 = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 No\r\nDate: x\r\nContent-Length: 0\r\n\r\n";
        let o = observe::observe(&exchange::Transcript::plain(bad, ok_404, End::Closed));
        assert!(!matches_early_answer_then_close(
            &o,
            &Outcome::parse("4xx close").unwrap(),
            bad
        ));
        let o = observe::observe(&exchange::Transcript::plain(bad, ok_then_400, End::Open));
        assert!(!matches_early_answer_then_close(&o, &refusal, bad));
    }

    #[test]
    fn table_outcomes_check_fields_and_body() {
        let got = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 3\r\nConnection: Keep-Alive, close\r\n\r\nabc";
        let o = observed(got, End::Closed);
        let file = r#"
            area = "t"
            [[case]]
            id = "x"
            title = "t"
            section = "s"
            rfc = "r"
            level = "MUST"
            send = "GET / HTTP/1.1\r\n\r\n"
            accept = [
                { responses = [{ status = "200", has = ["connection: close", "date"], lacks = ["transfer-encoding"], body = 3 }], then = "close" },
                { responses = [{ status = "200", body = 4 }] },
                { responses = [{ status = "200", lacks = ["date"] }] },
            ]
        "#;
        let case = &crate::case::parse_file(file, "t").unwrap()[0];
        let verdicts: Vec<bool> = case.accept.iter().map(|oc| matches(&o, oc)).collect();
        assert_eq!(verdicts, vec![true, false, false]);
    }

    #[test]
    fn reproducer_line() {
        let acts = vec![
            Action::Write(b"GET / HTTP/1.1\r\nHost: a'b\r\n\r\n".to_vec()),
            Action::Pause(Duration::from_millis(50)),
            Action::Write(vec![b'a'; 100]),
        ];
        assert_eq!(
            reproducer("127.0.0.1:8080", &acts),
            "(printf 'GET / HTTP/1.1\\r\\nHost: a\\047b\\r\\n\\r\\n'; sleep 0.05; printf '%s' \"$(head -c 100 /dev/zero | tr '\\0' 'a')\") | nc 127.0.0.1 8080"
        );
        let get = [Action::Write(b"GET / HTTP/1.1\r\n\r\n".to_vec())];
        assert_eq!(
            reproducer("https://localhost:8443", &get),
            "printf 'GET / HTTP/1.1\\r\\n\\r\\n' | openssl s_client -quiet -alpn http/1.1 -connect localhost:8443 -servername localhost"
        );
        assert_eq!(
            reproducer("https://127.0.0.1:8443", &get),
            "printf 'GET / HTTP/1.1\\r\\n\\r\\n' | openssl s_client -quiet -alpn http/1.1 -connect 127.0.0.1:8443"
        );
    }
}
