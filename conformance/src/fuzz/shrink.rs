//! Shrinking a finding: delete lines, then ever smaller runs of bytes,
//! keeping each deletion after which the finding (same signature) still
//! holds. Bounded by a number of exchanges and a time limit.

use std::future::Future;
use std::time::{Duration, Instant};

use super::gen::Input;

/// Longest a finding may spend shrinking.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// The smallest input found for which `holds` is still true.
pub async fn shrink<F, Fut>(input: Input, mut holds: F, budget: usize) -> Input
where
    F: FnMut(Input) -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    let mut tries = 0usize;
    let left = |tries: &mut usize| {
        *tries += 1;
        *tries <= budget && started.elapsed() < TIME_LIMIT
    };
    let mut best = input;
    if !best.splits.is_empty() {
        // Shrinking keeps no pauses: if the finding needs them, keep it whole.
        let plain = Input {
            bytes: best.bytes.clone(),
            splits: Vec::new(),
        };
        if !left(&mut tries) || !holds(plain.clone()).await {
            return best;
        }
        best = plain;
    }
    // Whole lines first: most findings need a handful of them.
    let mut i = lines(&best.bytes).len();
    while i > 0 {
        i -= 1;
        let ls = lines(&best.bytes);
        if i >= ls.len() {
            continue;
        }
        let mut bytes = best.bytes.clone();
        bytes.drain(ls[i].clone());
        if !left(&mut tries) {
            return best;
        }
        let cand = Input {
            bytes,
            splits: Vec::new(),
        };
        if holds(cand.clone()).await {
            best = cand;
        }
    }
    // Then runs of bytes, halving their length.
    let mut size = best.bytes.len() / 2;
    while size >= 1 {
        let mut start = 0;
        while start < best.bytes.len() {
            let end = (start + size).min(best.bytes.len());
            let mut bytes = best.bytes.clone();
            bytes.drain(start..end);
            if !left(&mut tries) {
                return best;
            }
            let cand = Input {
                bytes,
                splits: Vec::new(),
            };
            if holds(cand.clone()).await {
                best = cand;
            } else {
                start += size;
            }
        }
        size /= 2;
    }
    best
}

/// Byte ranges of the lines of `b`, each with its `\n`.
fn lines(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in b.iter().enumerate() {
        if *c == b'\n' {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push(start..b.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shrinks_to_what_the_predicate_needs() {
        let input = Input {
            bytes: b"GET / HTTP/1.1\r\nHost: a\r\nX-Evil: 1\r\nAccept: */*\r\n\r\n".to_vec(),
            splits: vec![(3, Duration::from_millis(1))],
        };
        let got = shrink(
            input,
            |i: Input| async move { i.bytes.windows(4).any(|w| w == b"Evil") },
            10_000,
        )
        .await;
        assert_eq!(got.bytes, b"Evil");
        assert!(got.splits.is_empty());
    }

    #[tokio::test]
    async fn keeps_the_input_when_nothing_can_go_and_respects_the_budget() {
        let input = Input {
            bytes: b"abc\r\ndef".to_vec(),
            splits: vec![],
        };
        let got = shrink(input.clone(), |_| async { false }, 5).await;
        assert_eq!(got, input);
        let mut calls = 0;
        let _ = shrink(
            Input {
                bytes: vec![b'x'; 1000],
                splits: vec![],
            },
            |_| {
                calls += 1;
                async { false }
            },
            7,
        )
        .await;
        assert_eq!(calls, 7);
    }
}
