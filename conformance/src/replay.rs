//! Replay mode: a valid request, sent whole, then split in two at every
//! offset, then one byte at a time, must get the same response each time.
//! A server that treats a read as a message (or loses state between reads)
//! answers differently, or not at all.

use std::time::Duration;

use crate::exchange::{self, Action, Timing};
use crate::observe::{self, Observation};
use crate::target::Target;
use crate::verdict::{CaseResult, Options, Verdict};

/// What must be the same each time: status, body and the set of field names
/// (less those that may change between requests).
fn signature(o: &Observation) -> String {
    let Some(r) = o.responses.iter().find(|r| r.status >= 200) else {
        return format!("no final response ({})", o.words());
    };
    let mut names: Vec<&str> = r
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        // How a response is framed (Content-Length or chunked) may follow
        // how the application's output arrived; the body is compared.
        .filter(|n| {
            !matches!(
                *n,
                "date"
                    | "expires"
                    | "set-cookie"
                    | "age"
                    | "keep-alive"
                    | "content-length"
                    | "transfer-encoding"
            )
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    format!(
        "{} body={}B fields=[{}]",
        r.status,
        r.body.len(),
        names.join(",")
    )
}

async fn once(target: &Target, actions: &[Action], sent: &[u8], opts: Options) -> String {
    let timing = Timing {
        step: opts.step,
        idle: opts.idle,
    };
    let check = |got: &[u8]| observe::complete_finals(sent, got) >= 1;
    match exchange::run(&target.addr, actions, timing, Some(&check)).await {
        Ok(t) => signature(&observe::observe(&t)),
        Err(e) => format!("no connection: {e}"),
    }
}

/// Runs the replay of the single request in `acts` and fills `result`.
pub async fn judge(target: &Target, acts: &[Action], opts: Options, result: &mut CaseResult) {
    let request: Vec<u8> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Write(b) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let Some(whole) = whole(target, &request, opts, result).await else {
        return;
    };
    if !whole
        .chars()
        .next()
        .is_some_and(|c| ('1'..='4').contains(&c))
    {
        result.observed = whole.clone();
        result.reasons.push(format!(
            "the whole request did not get a final response below 500: {whole}"
        ));
        result.verdict = Verdict::Fail;
        return;
    }
    let (differ, tries) = splits(target, &request, &whole, opts).await;
    result.observed = if differ.is_empty() {
        format!("{tries}/{tries} same as whole: {whole}")
    } else {
        format!("{} of {tries} differ from whole ({whole})", differ.len())
    };
    if !differ.is_empty() {
        result.verdict = Verdict::Fail;
        let shown = differ.len().min(5);
        result.reasons.extend(differ.into_iter().take(shown));
    }
}

/// The signature of the answer to `request` sent whole, which every split
/// must match; `None` when that answer holds bytes that are no response
/// (then `result` says so and has failed).
async fn whole(
    target: &Target,
    request: &[u8],
    opts: Options,
    result: &mut CaseResult,
) -> Option<String> {
    let timing = Timing {
        step: opts.step,
        idle: opts.idle,
    };
    // The whole request is read until the server goes quiet, not only to
    // its first complete response: bytes leaked after a HEAD response come
    // after it, and a replay that stops early passed such a server.
    // A leak comes with the response or right after it: a short quiet
    // ends the wait.
    let quiet = Timing {
        idle: opts.idle.min(Duration::from_millis(100)),
        ..timing
    };
    match exchange::run(
        &target.addr,
        &[Action::Write(request.to_vec())],
        quiet,
        None,
    )
    .await
    {
        Ok(t) => {
            let o = observe::observe(&t);
            result.findings = o.findings.clone();
            if let Some(g) = &o.garbage {
                result.observed = o.words();
                result.reasons.push(format!(
                    "the whole request, unsplit, got bytes that are no response ({g}): nothing to compare the splits with"
                ));
                result.verdict = Verdict::Fail;
                return None;
            }
            Some(signature(&o))
        }
        Err(e) => Some(format!("no connection: {e}")),
    }
}

/// Sends `request` split in two at every offset, then one byte at a time:
/// the tries whose answer differs from `whole`, and how many tries there
/// were.
async fn splits(
    target: &Target,
    request: &[u8],
    whole: &str,
    opts: Options,
) -> (Vec<String>, usize) {
    let pause = Duration::from_millis(2);
    let mut differ = Vec::new();
    let mut tries = 0;
    for k in 1..request.len() {
        let split = [
            Action::Write(request[..k].to_vec()),
            Action::Pause(pause),
            Action::Write(request[k..].to_vec()),
        ];
        let got = once(target, &split, request, opts).await;
        tries += 1;
        if got != whole {
            differ.push(format!("split at {k}: {got}"));
        }
    }
    let mut bytewise = Vec::new();
    for (i, b) in request.iter().enumerate() {
        if i > 0 {
            bytewise.push(Action::Pause(Duration::from_millis(1)));
        }
        bytewise.push(Action::Write(vec![*b]));
    }
    let got = once(target, &bytewise, request, opts).await;
    tries += 1;
    if got != whole {
        differ.push(format!("byte at a time: {got}"));
    }
    (differ, tries)
}
