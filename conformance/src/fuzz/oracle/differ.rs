//! The differential oracle: the same bytes, several servers.

use super::judge::finals;
use super::reading::{Reading, Stop};
use super::{Disagree, Kind, Verdict};
use crate::exchange::End;
use crate::observe::refuses;
use crate::observe::Observation;

/// How one server read the bytes: answers before its first refusal,
/// whether it refused one, and whether it still waited for bytes at the end.
fn interpretation(o: &Observation) -> (usize, bool, bool) {
    let answers = finals(o);
    let open = o.end == End::Open;
    match answers.iter().position(|r| refuses(r.status)) {
        Some(i) => (i, true, open),
        None => (answers.len(), false, open),
    }
}

/// The differential oracle: the same bytes, several servers. Refusing is
/// always safe, and so is closing early; what is not:
///
/// * `count`: a server answered fewer messages than another and still
///   waits for more, without refusing anything: it took bytes the other
///   read as requests for part of a message (as a back end behind the
///   other, it would hold them, or prepend them to the next client's
///   request).
/// * `lenient`: the bytes are invalid by RFC 9112 (the strict reading
///   stops at an error or inside a message), one server refuses them, and
///   the other reads on past that message: put in front of a server with
///   yet another reading, it forwards what should have been refused.
///
/// Returns the verdict and the two names.
pub fn differ(
    reading: &Reading,
    names: &[&str],
    pipelines: &[bool],
    seen: &[Observation],
) -> Option<(Verdict, Vec<String>)> {
    let views: Vec<(usize, bool, bool)> = seen.iter().map(interpretation).collect();
    let label = reading.stop.label();
    let invalid = matches!(reading.stop, Stop::Error { .. } | Stop::Partial);
    for a in 0..views.len() {
        for b in 0..views.len() {
            if a == b {
                continue;
            }
            let ((ma, ra, open_a), (mb, rb, _)) = (views[a], views[b]);
            // A server that does not pipeline owes only the first answer.
            let owes = if pipelines.get(a).copied().unwrap_or(true) {
                mb
            } else {
                mb.min(1)
            };
            let kind = if !ra && !rb && ma < owes && open_a {
                Disagree::Count
            } else if invalid && ra && !rb && ma >= reading.requests.len() && mb > ma + 1 {
                Disagree::Lenient
            } else {
                continue;
            };
            let say = |m: usize, r: bool, open: bool| match (r, open) {
                (true, _) => format!("answered {m} then refused one"),
                (false, true) => format!("answered {m} and waited for more"),
                (false, false) => format!("answered {m}"),
            };
            let detail = format!(
                "{}: {}; {}: {} (RFC 9112 reads {} request(s), {})",
                names[a],
                say(ma, ra, open_a),
                names[b],
                say(mb, rb, views[b].2),
                reading.requests.len(),
                reading.stop.describe()
            );
            return Some((
                Verdict::new(
                    Kind::Differential(kind),
                    Some(&format!("{}<{}:{label}", names[a], names[b])),
                    detail,
                ),
                vec![names[a].to_string(), names[b].to_string()],
            ));
        }
    }
    None
}
